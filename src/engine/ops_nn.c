/* ops_nn.c — layer norm, activations, softmax, linear and attention. */
#include "engine/ops_nn.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "engine/engine.h"

void nn_set_threads(int n)
{
    engine_set_threads(n);   /* the pool and OpenBLAS alike */
}

void nn_layernorm(const float *x, float *y, int rows, int dim, const float *g, const float *b,
                  float eps)
{
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * dim;
        float *yr = y + (size_t)r * dim;
        /* Two passes in double: the mean first, then the centred variance,
         * so large offsets do not cancel away the precision. */
        double s = 0;
        for (int i = 0; i < dim; i++) s += xr[i];
        float mean = (float)(s / dim);
        double v = 0;
        for (int i = 0; i < dim; i++) {
            float d = xr[i] - mean;
            v += (double)d * d;
        }
        float inv = (float)(1.0 / sqrt(v / dim + eps));
        for (int i = 0; i < dim; i++) yr[i] = (xr[i] - mean) * inv * g[i] + b[i];
    }
}

void nn_gelu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

void nn_quick_gelu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = x[i] / (1.0f + expf(-1.702f * x[i]));
}

void nn_softmax_rows(float *x, int rows, int n)
{
    for (int r = 0; r < rows; r++) {
        float *xr = x + (size_t)r * n;
        float m = xr[0];
        for (int i = 1; i < n; i++) m = xr[i] > m ? xr[i] : m;
        float s = 0;
        for (int i = 0; i < n; i++) {
            xr[i] = expf(xr[i] - m);
            s += xr[i];
        }
        float inv = 1.0f / s;
        for (int i = 0; i < n; i++) xr[i] *= inv;
    }
}

void nn_linear_ld(const float *x, int rows, int in, const float *W, const float *b, int out,
                  float *y, int ldy, int accumulate)
{
    for (int r = 0; r < rows; r++) {
        float *yr = y + (size_t)r * ldy;
        if (!accumulate) {
            if (b) memcpy(yr, b, (size_t)out * sizeof *y);
            else memset(yr, 0, (size_t)out * sizeof *y);
        } else if (b) {
            for (int o = 0; o < out; o++) yr[o] += b[o];
        }
    }
    if (nn_gemm_avx512(x, rows, in, W, out, y, ldy)) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.0f, x, in, W, in, 1.0f,
                y, ldy);
}

void nn_linear(const float *x, int rows, int in, const float *W, const float *b, int out,
               float *y, int accumulate)
{
    nn_linear_ld(x, rows, in, W, b, out, y, out, accumulate);
}

void nn_attention_ex(const float *q, int ldq, const float *k, int ldk, const float *v, int ldv,
                     int Tq, int Tk, int D, int heads, int causal, nn_score_fn bias, void *bias_ctx,
                     float *out, int ldo, float *scratch)
{
    int hd = D / heads;
    float scale = 1.0f / sqrtf((float)hd);
    for (int h = 0; h < heads; h++) {
        const float *qh = q + h * hd, *kh = k + h * hd, *vh = v + h * hd;
        /* scores = scale * Q_h K_h^T  (Tq x Tk) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Tq, Tk, hd, scale, qh, ldq, kh, ldk,
                    0.0f, scratch, Tk);
        if (bias) bias(bias_ctx, h, scratch, Tq, Tk);
        for (int i = 0; i < Tq; i++) {
            float *row = scratch + (size_t)i * Tk;
            int n = causal >= 0 && causal + i + 1 < Tk ? causal + i + 1 : Tk;
            nn_softmax_rows(row, 1, n);
            for (int j = n; j < Tk; j++) row[j] = 0;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Tq, hd, Tk, 1.0f, scratch, Tk, vh,
                    ldv, 0.0f, out + h * hd, ldo);
    }
}

void nn_attention(const float *q, const float *k, const float *v, int ld, int T, int D,
                  int heads, int causal, float *out, float *scratch)
{
    nn_attention_ex(q, ld, k, ld, v, ld, T, T, D, heads, causal ? 0 : -1, NULL, NULL, out, D,
                    scratch);
}
