/* blocks.c — activations, layer norm, MLP, patch embedding, scratch. */
#include "models/nn/blocks.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

int nn_act_parse(const char *name, nn_act *act)
{
    if (!strcmp(name, "gelu")) *act = NN_GELU;
    else if (!strcmp(name, "gelu_new") || !strcmp(name, "gelu_pytorch_tanh") ||
             !strcmp(name, "gelu_fast"))
        *act = NN_GELU_TANH;
    else if (!strcmp(name, "quick_gelu")) *act = NN_QUICK_GELU;
    else if (!strcmp(name, "relu")) *act = NN_RELU;
    else return -1;
    return 0;
}

void nn_act_apply(nn_act act, float *x, size_t n)
{
    switch (act) {
    case NN_GELU: nn_gelu(x, n); break;
    case NN_QUICK_GELU: nn_quick_gelu(x, n); break;
    case NN_GELU_TANH:
        for (size_t i = 0; i < n; i++) {
            float v = x[i];
            x[i] = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
        }
        break;
    case NN_RELU:
        for (size_t i = 0; i < n; i++) x[i] = x[i] > 0 ? x[i] : 0;
        break;
    }
}

void nn_norm_apply(const nn_norm *n, const float *x, float *y, int rows, int dim)
{
    nn_layernorm(x, y, rows, dim, n->g, n->b, n->eps);
}

float *nn_work_get(nn_work *w, int slot, size_t nfloats)
{
    if (nfloats > w->cap[slot]) {
        free(w->buf[slot]);
        w->buf[slot] = xmalloc(nfloats * sizeof(float));
        w->cap[slot] = nfloats;
    }
    return w->buf[slot];
}

void nn_work_free(nn_work *w)
{
    for (int i = 0; i < 6; i++) free(w->buf[i]);
    *w = (nn_work){0};
}

void nn_mlp_forward(const nn_mlp *m, const float *x, int rows, float *y, int accumulate, nn_work *w)
{
    float *h = nn_work_get(w, 0, (size_t)rows * m->inter);
    nn_linear(x, rows, m->dim, m->w1, m->b1, m->inter, h, 0);
    nn_act_apply(m->act, h, (size_t)rows * m->inter);
    nn_linear(h, rows, m->inter, m->w2, m->b2, m->out, y, accumulate);
}

void nn_patch_embed(const float *chw, int n, int C, int H, int W, int P, const float *weight,
                    const float *bias, int D, float *out)
{
    int GH = H / P, GW = W / P, K = C * P * P;
    size_t plane = (size_t)H * W, np = (size_t)n * GH * GW;
    /* Patches as rows in (c, ky, kx) order, the conv weight's layout; then
     * one GEMM with the D x K weight embeds them all. */
    float *patches = xmalloc(np * K * sizeof *patches);
    for (int b = 0; b < n; b++)
        for (int gy = 0; gy < GH; gy++)
            for (int gx = 0; gx < GW; gx++) {
                float *row = patches + ((size_t)b * GH * GW + (size_t)gy * GW + gx) * K;
                for (int ch = 0; ch < C; ch++)
                    for (int ky = 0; ky < P; ky++)
                        memcpy(row + (size_t)(ch * P + ky) * P,
                               chw + (size_t)b * C * plane + ch * plane + (size_t)(gy * P + ky) * W + gx * P,
                               (size_t)P * sizeof(float));
            }
    nn_linear(patches, (int)np, K, weight, bias, D, out, 0);
    free(patches);
}
