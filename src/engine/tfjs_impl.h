/* tfjs_impl.h — what the tfjs loader (tfjs_load.c), the op dispatcher
 * (tfjs_ops.c) and the runner (tfjs.c) share.  Not for use outside
 * src/engine/. */
#ifndef IMGDEX_TFJS_IMPL_H
#define IMGDEX_TFJS_IMPL_H

#include "engine/ops.h"
#include "engine/tfjs.h"

#define TFJS_MAXOUT 2

/* Attributes pre-parsed at load time, so tfjs_run never touches JSON. */
typedef struct tfjs_attrs {
    int strides[4], dilations[4], ksize[4];
    int has_ksize;
    int padding;                    /* PAD_SAME / PAD_VALID / PAD_EXPLICIT */
    int explicit_pads[8];
    int nchw;                       /* data_format NCHW: unsupported, rejected at load */
    act_spec act;                   /* fused activation */
    int fused_bias;                 /* fused_ops starts with BiasAdd */
    int num_args;
    int transpose_a, transpose_b;
    int keep_dims;
    int align_corners, half_pixel;
    int begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_mask;
    int batch_dims;
    int axis;                       /* Pack / Unpack / Split */
    int squeeze_dims[TENSOR_MAXDIM], nsqueeze;
    tensor_dtype dst;               /* Cast */
    float alpha;                    /* LeakyRelu */
    int post_act;                   /* act_kind fused in by tfjs_fuse (conv/matmul) */
    int post_bias;                  /* 1 + node index of a constant bias folded in by tfjs_fuse, 0 none */
    float post_alpha;               /* its parameter (hard-swish's 1/6 as the model stores it) */
    int size0[2];                   /* Resize: constant target size as loaded (tfjs_set_input_size) */
} tfjs_attrs;

typedef struct tfjs_node {
    char *name;
    char *op;
    int nin;
    int *in_node;                   /* producer index of each data input */
    int *in_slot;                   /* which output of the producer ("name:1") */
    int kind;                       /* op id, see tfjs_ops.c */
    tfjs_attrs a;
    int nout;                       /* outputs this op produces */
    tensor *konst[TFJS_MAXOUT];     /* Const weights, or values folded at load */
    int is_const;
    int shape[TENSOR_MAXDIM], ndim; /* Placeholder's declared shape (ndim 0 = unknown) */
    tensor_dtype dtype;             /* Placeholder's dtype */
} tfjs_node;

struct tfjs_model {
    char *path;                     /* model.json, for error messages */
    tfjs_node *nodes;
    int nnodes;
    int *inputs, ninputs;           /* node indexes */
    int *outputs, *out_slot, noutputs;
    char **output_names;            /* as the signature names them, else node names */
    int *order, norder;             /* execution order of non-const nodes */
    int *uses;                      /* consumers of each node in the run (+1 for outputs) */
    double last_macs;
    double last_conv_s;             /* seconds in nodes that did multiply-adds */
    int *name_idx;                  /* node indexes sorted by name, for tfjs_resolve */
    int in_h0, in_w0;               /* input 0's declared size, before tfjs_set_input_size */
};

/* The node "name" or "name:k" names, -1 when none; *slot gets k (0 when
 * absent; a k no output table could hold is kept out of range, not
 * wrapped, so tfjs_has_output refuses it). */
int tfjs_resolve(const tfjs_model *m, const char *ref, int *slot);

/* Whether node p produces output `slot`.  Slots index konst[] and the
 * runner's value table, so every "name:k" (node inputs, signature outputs,
 * names asked of tfjs_run_named) passes here first. */
static inline int tfjs_has_output(const tfjs_node *p, int slot)
{
    return slot >= 0 && slot < p->nout && slot < TFJS_MAXOUT;
}

/* Graph rewrites after folding (hard-swish chains into one op). */
void tfjs_fuse(tfjs_model *m);
/* Looks up the op, checks attrs; -1 + e naming the op when unsupported. */
int tfjs_op_prepare(tfjs_model *m, tfjs_node *n, ierr *e);
/* Runs node n on in[0..n->nin-1]; fills out[0..n->nout-1]. */
int tfjs_op_run(tfjs_model *m, tfjs_node *n, tensor *const *in, tensor **out, ierr *e);
/* 1 when the op may hand its (last-use) input straight back as output. */
int tfjs_op_is_view(const tfjs_node *n);
/* For view ops: the output shape (returns ndim, -1 + e on error); the
 * runner uses it to retag a dying input instead of copying it. */
int tfjs_op_view_shape(const tfjs_node *n, tensor *const *in, int *shape, ierr *e);

#endif
