/* nn.h — the little neural-network toolkit `imgdex train` is written in:
 * parameters with Adam, dense layers and ReLU/dropout stacks on OpenBLAS,
 * L2 normalisation, and a seeded random generator.  Batches are row-major
 * [B][features]; every backward accumulates into the parameters' gradients.
 *
 * Internal to src/train/.
 */
#ifndef IMGDEX_TRAIN_NN_H
#define IMGDEX_TRAIN_NN_H

#include <stddef.h>
#include <stdint.h>

/* splitmix64: the only source of randomness, so a seed fixes a run. */
typedef struct rng { uint64_t s; } rng;
uint64_t rng_next(rng *r);
float rng_uniform(rng *r);                 /* [0, 1) */
float rng_normal(rng *r);
int rng_below(rng *r, int n);              /* 0..n-1 */
void rng_shuffle(rng *r, int *a, int n);

typedef struct param {
    float *w, *g, *m, *v;                  /* value, gradient, Adam moments */
    size_t n;
    float decay;                           /* decoupled weight decay (AdamW) */
} param;

void param_init(param *p, size_t n, float decay);
void param_free(param *p);
void param_zero_grad(param *p);

typedef struct adam { float lr, b1, b2, eps; int t; } adam;
/* One step on every parameter (bias correction included), then zero grads. */
void adam_step(adam *a, param *const *p, int np);

/* y[B][out] = x[B][in] W^T + b */
typedef struct dense { int in, out; param W, b; } dense;
void dense_init(dense *l, int in, int out, float decay, rng *r);
void dense_free(dense *l);
void dense_forward(const dense *l, const float *x, int B, float *y);
/* dW += dy^T x, db += sum dy; dx (may be NULL) = dy W */
void dense_backward(dense *l, const float *x, const float *dy, int B, float *dx);

/* Layers with ReLU (and inverted dropout while training) between them,
 * none after the last.  Activations are kept for backward. */
#define MLP_MAX 4
typedef struct mlp {
    int layers, maxB;
    int sizes[MLP_MAX + 1];
    dense l[MLP_MAX];
    float in_drop, hid_drop;               /* dropout on the input and on hidden layers */
    float *act[MLP_MAX + 1];               /* act[0] = (dropped) input, act[k] = after layer k-1 (+ReLU) */
    uint8_t *mask[MLP_MAX];                /* dropout masks of act[0..layers-1] */
} mlp;
void mlp_init(mlp *m, int layers, const int *sizes, int maxB, float decay, rng *r);
void mlp_free(mlp *m);
/* out = act[layers]; train: apply dropout (r needed). */
const float *mlp_forward(mlp *m, const float *x, int B, int train, rng *r);
/* dout: gradient at the output; accumulates into the layers. */
void mlp_backward(mlp *m, const float *dout, int B);
int mlp_params(mlp *m, param **out);       /* returns count (2 per layer) */

/* Rows of x (B x n) to unit length; norms (B) kept for backward. */
void l2norm_forward(const float *x, int B, int n, float *y, float *norms);
/* dx = (dy - y (y.dy)) / |x| */
void l2norm_backward(const float *y, const float *dy, const float *norms, int B, int n, float *dx);

#endif
