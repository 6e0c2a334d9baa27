/* sam_vision.c — SAM's image encoder: a plain ViT over 16x16 patches whose
 * blocks attend either within non-overlapping windows (padded to a
 * multiple of the window, the padding taking part as zero tokens) or
 * globally, with ViTDet's decomposed relative positions added to the
 * attention logits; then the neck (1x1 conv, layer norm, 3x3 conv, layer
 * norm) down to C channels.
 *
 * Tokens are kept row-major (y, x) x channels, so every projection, the
 * patch embedding and both neck convolutions are single GEMMs.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ops_nn.h"
#include "engine/pool.h"
#include "models/sam/sam_impl.h"

typedef struct act_job {
    sam_act a;
    float *x;
} act_job;

static void act_range(void *ctx, long b, long e)
{
    act_job *j = ctx;
    if (j->a == SAM_GELU) nn_gelu(j->x + b, (size_t)(e - b));
    else
        for (long i = b; i < e; i++) j->x[i] = j->x[i] > 0 ? j->x[i] : 0;
}

void sam_act_apply(sam_act a, float *x, size_t n)
{
    act_job j = {a, x};
    pool_for((long)n, 65536, act_range, &j);
}

typedef struct attn_job {
    const float *qkv;          /* nwin * n rows of 3D */
    float *out;                /* nwin * n rows of D */
    const float *rel_h, *rel_w;
    int n, side, D, heads;
} attn_job;

/* Items are (window, head) pairs. */
static void attn_items(void *ctx, long b, long e)
{
    const attn_job *j = ctx;
    int n = j->n, side = j->side, D = j->D, hd = D / j->heads;
    float scale = 1.0f / sqrtf((float)hd);
    float *S = xmalloc(((size_t)n * n + 2 * (size_t)side) * sizeof *S);
    float *rh = S + (size_t)n * n, *rw = rh + side;
    for (long it = b; it < e; it++) {
        int w = (int)(it / j->heads), h = (int)(it % j->heads);
        const float *q = j->qkv + (size_t)w * n * 3 * D + (size_t)h * hd;
        const float *k = q + D, *v = q + 2 * D;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, hd, scale, q, 3 * D, k, 3 * D, 0.0f, S, n);
        for (int i = 0; i < n; i++) {
            float *row = S + (size_t)i * n;
            if (j->rel_h) {
                /* The unscaled query against the embedding of each offset. */
                const float *qi = q + (size_t)i * 3 * D;
                int qy = i / side, qx = i % side;
                for (int t = 0; t < side; t++) {
                    const float *eh = j->rel_h + (size_t)(qy - t + side - 1) * hd;
                    const float *ew = j->rel_w + (size_t)(qx - t + side - 1) * hd;
                    float sh = 0, sw = 0;
                    for (int c = 0; c < hd; c++) {
                        sh += qi[c] * eh[c];
                        sw += qi[c] * ew[c];
                    }
                    rh[t] = sh;
                    rw[t] = sw;
                }
                for (int ky = 0; ky < side; ky++)
                    for (int kx = 0; kx < side; kx++) row[ky * side + kx] += rh[ky] + rw[kx];
            }
            nn_softmax_rows(row, 1, n);
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, hd, n, 1.0f, S, n, v, 3 * D, 0.0f,
                    j->out + (size_t)w * n * D + (size_t)h * hd, D);
    }
    free(S);
}

/* One ViT block, in place on x (g*g x D). */
static void vit_block(const sam_model *m, const sam_vit_layer *l, float *x, float *h)
{
    const sam_config *c = &m->cfg;
    int D = c->vision.hidden, g = c->vision.image / c->vision.patch, T = g * g;
    int win = l->window, side = win ? win : g, nw = win ? (g + win - 1) / win : 1;
    int n = side * side, R = nw * nw * n;
    nn_layernorm(x, h, T, D, l->ln1_g, l->ln1_b, c->vision.eps);
    float *rows = h;
    if (win) {
        /* Partition into windows, zero tokens where the grid runs out. */
        rows = xcalloc((size_t)R * D, sizeof *rows);
        for (int y = 0; y < g; y++)
            for (int xx = 0; xx < g; xx++) {
                int w = (y / win) * nw + xx / win, r = (y % win) * win + xx % win;
                memcpy(rows + ((size_t)w * n + r) * D, h + ((size_t)y * g + xx) * D, (size_t)D * sizeof *h);
            }
    }
    float *qkv = xmalloc((size_t)R * 3 * D * sizeof *qkv), *att = xmalloc((size_t)R * D * sizeof *att);
    nn_linear(rows, R, D, l->qkv_w, l->qkv_b, 3 * D, qkv, 0);
    attn_job j = {qkv, att, l->rel_h, l->rel_w, n, side, D, c->vision.heads};
    pool_for((long)nw * nw * c->vision.heads, 1, attn_items, &j);
    free(qkv);
    float *o = rows;      /* reuse: R x D */
    if (!win) o = h;
    nn_linear(att, R, D, l->proj_w, l->proj_b, D, o, 0);
    free(att);
    if (win) {
        for (int y = 0; y < g; y++)
            for (int xx = 0; xx < g; xx++) {
                int w = (y / win) * nw + xx / win, r = (y % win) * win + xx % win;
                const float *src = o + ((size_t)w * n + r) * D;
                float *dst = x + ((size_t)y * g + xx) * D;
                for (int i = 0; i < D; i++) dst[i] += src[i];
            }
        free(rows);
    } else {
        for (size_t i = 0; i < (size_t)T * D; i++) x[i] += o[i];
    }
    nn_layernorm(x, h, T, D, l->ln2_g, l->ln2_b, c->vision.eps);
    float *ff = xmalloc((size_t)T * c->vision.mlp * sizeof *ff);
    nn_linear(h, T, D, l->fc1_w, l->fc1_b, c->vision.mlp, ff, 0);
    sam_act_apply(c->vision.act, ff, (size_t)T * c->vision.mlp);
    nn_linear(ff, T, c->vision.mlp, l->fc2_w, l->fc2_b, D, x, 1);
    free(ff);
}

int sam_embed_pixels(sam_model *m, const float *chw, float *emb, ierr *e)
{
    const sam_config *c = &m->cfg;
    int S = c->vision.image, P = c->vision.patch, g = S / P, T = g * g, D = c->vision.hidden, C = c->vision.out;
    if (!chw || !emb) {
        err_set(e, "sam: no pixels");
        return -1;
    }
    /* Patch embedding: each patch's 3 x P x P pixels as one row (the
     * conv weight's own layout), times the weight. */
    int K = 3 * P * P;
    float *cols = xmalloc((size_t)T * K * sizeof *cols);
    for (int py = 0; py < g; py++)
        for (int px = 0; px < g; px++) {
            float *r = cols + ((size_t)py * g + px) * K;
            for (int ch = 0; ch < 3; ch++)
                for (int y = 0; y < P; y++)
                    memcpy(r + (ch * P + y) * P, chw + ((size_t)ch * S + py * P + y) * S + px * P,
                           (size_t)P * sizeof *r);
        }
    float *x = xmalloc((size_t)T * D * sizeof *x), *h = xmalloc((size_t)T * D * sizeof *h);
    nn_linear(cols, T, K, m->patch_w, m->patch_b, D, x, 0);
    free(cols);
    if (m->pos_embed)
        for (size_t i = 0; i < (size_t)T * D; i++) x[i] += m->pos_embed[i];
    for (int i = 0; i < c->vision.layers; i++) vit_block(m, &m->vit[i], x, h);

    /* The neck, with layer norms over channels (rows here, eps 1e-6 as
     * the reference's channels-first norm fixes it). */
    float *y = xmalloc((size_t)T * C * sizeof *y);
    nn_linear(x, T, D, m->neck1_w, NULL, C, y, 0);
    nn_layernorm(y, y, T, C, m->neck_ln1_g, m->neck_ln1_b, 1e-6f);
    free(h);
    float *col9 = xcalloc((size_t)T * C * 9, sizeof *col9);
    for (int yy = 0; yy < g; yy++)
        for (int xx = 0; xx < g; xx++) {
            float *r = col9 + ((size_t)yy * g + xx) * C * 9;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int sy = yy + dy, sx = xx + dx;
                    if (sy < 0 || sy >= g || sx < 0 || sx >= g) continue;
                    const float *src = y + ((size_t)sy * g + sx) * C;
                    int t = (dy + 1) * 3 + dx + 1;
                    for (int ci = 0; ci < C; ci++) r[ci * 9 + t] = src[ci];
                }
        }
    float *z = xmalloc((size_t)T * C * sizeof *z);
    nn_linear(col9, T, C * 9, m->neck2_w, NULL, C, z, 0);
    free(col9);
    nn_layernorm(z, z, T, C, m->neck_ln2_g, m->neck_ln2_b, 1e-6f);
    for (int t = 0; t < T; t++)
        for (int ci = 0; ci < C; ci++) emb[(size_t)ci * T + t] = z[(size_t)t * C + ci];
    free(x);
    free(y);
    free(z);
    return 0;
}
