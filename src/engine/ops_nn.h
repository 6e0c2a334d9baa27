/* ops_nn.h — the transformer building blocks (CLIP's towers use nothing else).
 *
 * Plain row-major float32 arrays: a "rows x dim" matrix is rows*dim floats.
 * Weights follow PyTorch's nn.Linear layout, W is out x in, so
 * y = x W^T + b.  GEMMs go through OpenBLAS' cblas_sgemm.
 */
#ifndef IMGDEX_OPS_NN_H
#define IMGDEX_OPS_NN_H

#include <stddef.h>

/* y[r] = (x[r] - mean) / sqrt(var + eps) * g + b, per row; y may equal x. */
void nn_layernorm(const float *x, float *y, int rows, int dim, const float *g, const float *b,
                  float eps);
/* In place.  gelu: exact, x/2 (1 + erf(x / sqrt 2)).  quick_gelu: x sigmoid(1.702 x). */
void nn_gelu(float *x, size_t n);
void nn_quick_gelu(float *x, size_t n);
/* Softmax of each row of length n, in place, numerically stable. */
void nn_softmax_rows(float *x, int rows, int n);
/* y (rows x out) = x (rows x in) W^T + b, W out x in; b may be NULL.
 * accumulate=1 adds to y instead (fuses a residual connection). */
void nn_linear(const float *x, int rows, int in, const float *W, const float *b, int out,
               float *y, int accumulate);
/* The same writing rows of y ldy floats apart (ldy >= out): lets separate
 * projections fill the columns of one packed matrix without copies. */
void nn_linear_ld(const float *x, int rows, int in, const float *W, const float *b, int out,
                  float *y, int ldy, int accumulate);
/* Multi-head scaled dot-product attention over one sequence of T tokens.
 * q, k, v: T x D each, row stride ld (so one fused T x 3D qkv buffer works:
 * q = qkv, k = qkv + D, v = qkv + 2D, ld = 3D).  heads divides D.
 * causal: token i attends to tokens 0..i only.  out: T x D (stride D).
 * scratch: T*T floats. */
void nn_attention(const float *q, const float *k, const float *v, int ld, int T, int D,
                  int heads, int causal, float *out, float *scratch);
/* Adds to one head's Tq x Tk scaled scores before the softmax (masks,
 * relative positions). */
typedef void (*nn_score_fn)(void *ctx, int head, float *scores, int Tq, int Tk);
/* The general form: Tq queries against Tk keys and values, each with its own
 * row stride; D = heads * head size.  causal < 0: every query sees every
 * key; causal >= 0: query i sees keys 0..causal+i (causal = Tk - Tq for the
 * newest rows of a cached sequence).  bias may be NULL.  out rows are ldo
 * apart; scratch holds Tq*Tk floats. */
void nn_attention_ex(const float *q, int ldq, const float *k, int ldk, const float *v, int ldv,
                     int Tq, int Tk, int D, int heads, int causal, nn_score_fn bias, void *bias_ctx,
                     float *out, int ldo, float *scratch);

/* Threads for the GEMMs (engine pool and OpenBLAS); 0 = all online CPUs. */
void nn_set_threads(int n);
/* y (M x N, row stride ldy) += x (M x K) W^T with the AVX-512 kernel;
 * 0 when this CPU lacks AVX-512F (or IMGDEX_NO_AVX512 is set): use BLAS. */
int nn_gemm_avx512(const float *x, int M, int K, const float *W, int N, float *y, int ldy);

#endif
