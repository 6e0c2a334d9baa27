/* clip_encoder.c — the pre-LN transformer stack shared by both towers.
 *
 * All sequences of a batch are packed row after row into one matrix, so
 * every projection and MLP is a single GEMM over the whole batch; only
 * attention looks at one sequence at a time.
 */
#include <math.h>
#include <stdlib.h>

#include "engine/ops_nn.h"
#include "models/clip_impl.h"

void clip_work_free(clip_work *w)
{
    free(w->x);
    free(w->h);
    free(w->qkv);
    free(w->attn);
    free(w->ff);
    free(w->scores);
    *w = (clip_work){0};
}

static void work_reserve(clip_work *w, const clip_tower_config *c, size_t rows, size_t tmax)
{
    if (rows > w->rows_cap) {
        size_t D = (size_t)c->hidden, I = (size_t)c->inter;
        free(w->h);
        free(w->qkv);
        free(w->attn);
        free(w->ff);
        w->h = xmalloc(rows * D * sizeof(float));
        w->qkv = xmalloc(rows * 3 * D * sizeof(float));
        w->attn = xmalloc(rows * D * sizeof(float));
        w->ff = xmalloc(rows * I * sizeof(float));
        w->rows_cap = rows;
    }
    if (tmax > w->t_cap) {
        free(w->scores);
        w->scores = xmalloc(tmax * tmax * sizeof(float));
        w->t_cap = tmax;
    }
}

void clip_encoder(const clip_tower *t, float *x, int nseq, const int *len, int causal, clip_work *w)
{
    const clip_tower_config *c = &t->c;
    int D = c->hidden, I = c->inter, R = 0, tmax = 0;
    for (int s = 0; s < nseq; s++) {
        R += len[s];
        if (len[s] > tmax) tmax = len[s];
    }
    work_reserve(w, c, (size_t)R, (size_t)tmax);
    for (int li = 0; li < c->layers; li++) {
        const clip_layer *l = &t->layers[li];
        nn_layernorm(x, w->h, R, D, l->ln1_g, l->ln1_b, c->eps);
        /* q, k and v side by side in one R x 3D matrix, straight from the
         * checkpoint's three weights (no fused copy, so nothing to build at load). */
        nn_linear_ld(w->h, R, D, l->q_w, l->q_b, D, w->qkv, 3 * D, 0);
        nn_linear_ld(w->h, R, D, l->k_w, l->k_b, D, w->qkv + D, 3 * D, 0);
        nn_linear_ld(w->h, R, D, l->v_w, l->v_b, D, w->qkv + 2 * D, 3 * D, 0);
        for (int s = 0, off = 0; s < nseq; off += len[s++]) {
            const float *q = w->qkv + (size_t)off * 3 * D;
            nn_attention(q, q + D, q + 2 * D, 3 * D, len[s], D, c->heads, causal,
                         w->attn + (size_t)off * D, w->scores);
        }
        nn_linear(w->attn, R, D, l->o_w, l->o_b, D, x, 1);
        nn_layernorm(x, w->h, R, D, l->ln2_g, l->ln2_b, c->eps);
        nn_linear(w->h, R, D, l->fc1_w, l->fc1_b, I, w->ff, 0);
        if (c->act == CLIP_GELU) nn_gelu(w->ff, (size_t)R * I);
        else nn_quick_gelu(w->ff, (size_t)R * I);
        nn_linear(w->ff, R, I, l->fc2_w, l->fc2_b, D, x, 1);
    }
}

void clip_head(const clip_tower *t, const float *row, int proj_dim, float *out)
{
    int D = t->c.hidden;
    float *h = xmalloc((size_t)D * sizeof *h);
    nn_layernorm(row, h, 1, D, t->final_g, t->final_b, t->c.eps);
    nn_linear(h, 1, D, t->proj, NULL, proj_dim, out, 0);
    double ss = 0;
    for (int i = 0; i < proj_dim; i++) ss += (double)out[i] * out[i];
    float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
    for (int i = 0; i < proj_dim; i++) out[i] *= inv;
    free(h);
}
