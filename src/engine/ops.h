/* ops.h — the engine's operators on tensors (NHWC, f32 unless noted).
 *
 * Each op returns a new tensor (caller frees) or NULL + e with the reason.
 * The graph runner (tfjs_exec.c) maps TensorFlow op names onto these; models
 * may call them directly for pre/post-processing (resize, softmax, top-k).
 * Integer tensors (DT_I32) carry shapes, indices and booleans (0/1). */
#ifndef IMGDEX_OPS_H
#define IMGDEX_OPS_H

#include "base/base.h"
#include "engine/tensor.h"

/* ---- activations, fused into conv/matmul or run alone ---------------- */
typedef enum {
    ACT_NONE, ACT_RELU, ACT_RELU6, ACT_SIGMOID, ACT_TANH,
    ACT_HSWISH,  /* x * relu6(x + 3) * alpha */
    ACT_LEAKY,   /* x < 0 ? alpha*x : x */
    ACT_PRELU,   /* x < 0 ? slope[c]*x : x, slope per channel (last dim) */
    ACT_ELU,
} act_kind;

typedef struct act_spec {
    act_kind kind;
    float alpha;            /* ACT_LEAKY; ACT_HSWISH's scale (0 means 1/6) */
    const float *slope;     /* ACT_PRELU: one per channel */
} act_spec;

/* x[r*c + j] = act(x[r*c + j] + bias[j]) for r rows of c channels; bias may be NULL. */
void act_bias_rows(float *x, long rows, int c, const float *bias, const act_spec *a);

/* ---- convolution ------------------------------------------------------ */
enum { PAD_VALID, PAD_SAME, PAD_EXPLICIT };

typedef struct conv_spec {
    int stride_h, stride_w;
    int dil_h, dil_w;
    int pad_mode;           /* PAD_VALID / PAD_SAME / PAD_EXPLICIT */
    int pad_t, pad_b, pad_l, pad_r;   /* PAD_EXPLICIT only */
} conv_spec;

/* Output size and leading pad of one spatial dim, TensorFlow's rules; -1
 * for a stride, dilation or window below 1, a negative pad, or a padded
 * extent past int (the callers' "does not fit" errors). */
int conv_out_dim(int in, int k, int stride, int dil, int mode, int pad0, int pad1, int *lead);

/* x [N,H,W,Ci], w [KH,KW,Ci,Co] (HWIO), bias [Co] or NULL. */
tensor *op_conv2d(const tensor *x, const tensor *w, const float *bias, const act_spec *act,
                  const conv_spec *s, ierr *e);
/* x [N,H,W,C], w [KH,KW,C,M]: output channel c*M+m. */
tensor *op_depthwise(const tensor *x, const tensor *w, const float *bias, const act_spec *act,
                     const conv_spec *s, ierr *e);
/* Transposed conv (Conv2DBackpropInput): dy [N,h,w,Cy], w [KH,KW,Cx,Cy],
 * out_shape = the forward input's [N,H,W,Cx]. */
tensor *op_conv2d_transpose(const tensor *dy, const tensor *w, const int *out_shape,
                            const conv_spec *s, ierr *e);
/* a [.., M, K] x b [K, N] (2-D b; transposes as flags) + bias, act. */
tensor *op_matmul(const tensor *a, const tensor *b, int trans_a, int trans_b,
                  const float *bias, const act_spec *act, ierr *e);
/* Multiply-adds done by conv/matmul ops since the counter was reset. */
extern _Thread_local double ops_macs;   /* per calling thread */

/* ---- pooling and resizing -------------------------------------------- */
tensor *op_pool(const tensor *x, int kh, int kw, const conv_spec *s, int is_max, ierr *e);
/* TF ResizeBilinear / ResizeNearestNeighbor semantics. */
tensor *op_resize_bilinear(const tensor *x, int oh, int ow, int align_corners,
                           int half_pixel, ierr *e);
tensor *op_resize_nearest(const tensor *x, int oh, int ow, int align_corners,
                          int half_pixel, ierr *e);

/* ---- elementwise ------------------------------------------------------ */
typedef enum {
    BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_FLOORDIV, BIN_FLOORMOD, BIN_MAX, BIN_MIN,
    BIN_POW, BIN_SQDIFF,
    BIN_EQUAL, BIN_NOTEQUAL, BIN_LESS, BIN_LESSEQ, BIN_GREATER, BIN_GREATEREQ,  /* -> i32 0/1 */
    BIN_AND, BIN_OR,
} binop;
/* NumPy/TF broadcasting.  Both f32 -> f32, both i32 -> i32 (DIV truncates
 * toward zero as TF's integer Div; FLOORDIV/FLOORMOD floor), mixed -> f32. */
tensor *op_binary(const tensor *a, const tensor *b, binop op, ierr *e);

typedef enum {
    UN_RELU, UN_RELU6, UN_SIGMOID, UN_TANH, UN_HSWISH, UN_EXP, UN_LOG, UN_SQRT, UN_RSQRT,
    UN_NEG, UN_ABS, UN_SQUARE, UN_FLOOR, UN_CEIL, UN_ROUND, UN_RECIP, UN_ELU, UN_SOFTPLUS,
    UN_IDENTITY,
} unop;
tensor *op_unary(const tensor *x, unop op, ierr *e);
/* Sum of n same-shaped tensors. */
tensor *op_addn(const tensor *const *xs, int n, ierr *e);
/* f32 <-> i32 (f32 -> i32 truncates; i32 -> f32 exact for |v| < 2^24). */
tensor *op_cast(const tensor *x, tensor_dtype to);

/* ---- shapes ----------------------------------------------------------- */
tensor *op_concat(const tensor *const *xs, int n, int axis, ierr *e);
tensor *op_transpose(const tensor *x, const int *perm, ierr *e);
/* TF StridedSlice with begin/end/ellipsis/new_axis/shrink_axis masks;
 * begin/end/strides have n entries. */
tensor *op_strided_slice(const tensor *x, const int *begin, const int *end, const int *strides,
                         int n, int begin_mask, int end_mask, int ellipsis_mask,
                         int new_axis_mask, int shrink_mask, ierr *e);
/* Slice: begin[d], size[d] (-1 = to the end). */
tensor *op_slice(const tensor *x, const int *begin, const int *size, ierr *e);
/* pads[2*d], pads[2*d+1] before/after dim d; constant value. */
tensor *op_pad(const tensor *x, const int *pads, float value, ierr *e);
/* GatherV2 with batch_dims 0: indices (i32) along axis. */
tensor *op_gather(const tensor *x, const tensor *indices, int axis, ierr *e);
/* Copy with a new shape (-1 inferred); TF Reshape/ExpandDims/Squeeze. */
tensor *op_reshape(const tensor *x, int ndim, const int *shape, ierr *e);
tensor *op_tile(const tensor *x, const int *reps, ierr *e);

/* ---- reductions ------------------------------------------------------- */
typedef enum { RED_SUM, RED_MEAN, RED_MAX, RED_MIN, RED_PROD } redop;
/* Reduce over the listed axes (negative allowed; none = all). */
tensor *op_reduce(const tensor *x, const int *axes, int naxes, int keep_dims, redop op, ierr *e);
/* Softmax over the last dimension. */
tensor *op_softmax(const tensor *x, ierr *e);
/* Top k along the last dim, largest first, ties by lower index first (as
 * TF and tfjs).  *values f32, *indices i32, both [..., k]. */
int op_topk(const tensor *x, int k, tensor **values, tensor **indices, ierr *e);
tensor *op_argmax(const tensor *x, int axis, ierr *e);

#endif
