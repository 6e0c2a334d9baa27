/* blocks.h — the transformer building blocks every model family assembles
 * (CLIP, BLIP, SAM): layer norm, activations, the two-layer MLP, multi-head
 * attention (self, cross, causal, with cached keys/values and score hooks
 * for masks or relative positions) and the ViT patch embedding.
 *
 * The arithmetic lives in src/engine/ops_nn.h; these blocks only know the
 * shape of a checkpoint's layers: which weights, which sizes.  Weights follow
 * PyTorch's nn.Linear layout (out x in, y = x W^T + b); biases may be NULL.
 * Sequences of a batch are packed row after row, so every projection is one
 * GEMM over the batch and only attention looks at one sequence at a time.
 */
#ifndef IMGDEX_NN_BLOCKS_H
#define IMGDEX_NN_BLOCKS_H

#include <stddef.h>

#include "engine/ops_nn.h"

typedef enum { NN_GELU, NN_GELU_TANH, NN_QUICK_GELU, NN_RELU } nn_act;
/* Hugging Face's hidden_act names: gelu, gelu_new / gelu_pytorch_tanh,
 * quick_gelu, relu.  -1 when unknown. */
int nn_act_parse(const char *name, nn_act *act);
void nn_act_apply(nn_act act, float *x, size_t n);

typedef struct nn_norm {
    const float *g, *b;
    float eps;
} nn_norm;
/* y may equal x. */
void nn_norm_apply(const nn_norm *n, const float *x, float *y, int rows, int dim);

/* Growable scratch buffers, reused across layers and calls; one per thread. */
typedef struct nn_work {
    float *buf[6];
    size_t cap[6];
} nn_work;
float *nn_work_get(nn_work *w, int slot, size_t nfloats);
void nn_work_free(nn_work *w);

/* fc1 (inter x dim), activation, fc2 (out x inter). */
typedef struct nn_mlp {
    const float *w1, *b1, *w2, *b2;
    int dim, inter, out;
    nn_act act;
} nn_mlp;
/* y (rows x out) = mlp(x); accumulate adds to y (a residual).  Uses slot 0. */
void nn_mlp_forward(const nn_mlp *m, const float *x, int rows, float *y, int accumulate, nn_work *w);

/* q from dq-wide inputs, k and v from dkv-wide ones (dkv = dq for self-
 * attention; the encoder's width for cross-attention), `inner` = heads x
 * head size, the output projection back to dout.  When q, k and v weights
 * (and biases) lie back to back, as in a fused qkv tensor, self-attention
 * projects all three with one GEMM. */
typedef struct nn_attn {
    const float *q_w, *q_b, *k_w, *k_b, *v_w, *v_b, *o_w, *o_b;
    int dq, dkv, inner, dout, heads;
} nn_attn;

/* Point q/k/v at the three blocks of a fused (3 inner x d) qkv weight. */
void nn_attn_split_qkv(nn_attn *a, const float *qkv_w, const float *qkv_b);

/* A hook on the scores of one sequence and head (see nn_score_fn). */
typedef void (*nn_seq_score_fn)(void *ctx, int seq, int head, float *scores, int Tq, int Tk);

/* Attention over nseq packed sequences.  xkv NULL: self-attention (sequence
 * s is lq[s] rows of xq, lkv ignored); otherwise queries of sequence s attend
 * to its lkv[s] rows of xkv.  causal: query i sees keys 0..i.  y (rows x
 * dout) gets the output projection; accumulate adds it (a residual).
 * Uses slots 1..3. */
void nn_attn_forward(const nn_attn *a, const float *xq, const float *xkv, int nseq, const int *lq,
                     const int *lkv, int causal, nn_seq_score_fn hook, void *hook_ctx, float *y,
                     int accumulate, nn_work *w);

/* The pieces, for decoders that cache keys and values between steps:
 * q (rows x inner) = projection of x; k and v (rows x inner each, row
 * strides ldk / ldv) of xkv; out (rows x dout) from the attention context. */
void nn_attn_project_q(const nn_attn *a, const float *x, int rows, float *q);
void nn_attn_project_kv(const nn_attn *a, const float *xkv, int rows, float *k, int ldk, float *v,
                        int ldv);
void nn_attn_output(const nn_attn *a, const float *ctx, int rows, float *y, int accumulate);

/* ViT patch embedding: a stride-P, P x P convolution (weight D x C x P x P,
 * bias D or NULL) over n images of C x H x W floats, as one GEMM.  out gets
 * n * (H/P) * (W/P) rows of D, patches in raster order. */
void nn_patch_embed(const float *chw, int n, int C, int H, int W, int P, const float *weight,
                    const float *bias, int D, float *out);

#endif
