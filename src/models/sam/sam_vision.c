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
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/pool.h"
#include "models/sam/sam_impl.h"

typedef struct act_job {
    nn_act a;
    float *x;
} act_job;

static void act_range(void *ctx, long b, long e)
{
    act_job *j = ctx;
    nn_act_apply(j->a, j->x + b, (size_t)(e - b));
}

void sam_act_parallel(nn_act a, float *x, size_t n)
{
    act_job j = {a, x};
    pool_for((long)n, 65536, act_range, &j);
}

/* ViTDet's decomposed relative positions: the unscaled query of token
 * (qy, qx) against the embeddings of the row offset qy - ky and of the
 * column offset qx - kx, added to the score of every key (ky, kx). */
typedef struct relpos {
    const float *q;            /* this window's and head's queries, row stride ldq */
    int ldq, side, hd;
    const float *rel_h, *rel_w;
} relpos;

static void add_relpos(void *ctx, int head, float *S, int Tq, int Tk)
{
    const relpos *r = ctx;
    int side = r->side, hd = r->hd;
    float rh[256], rw[256];
    (void)head, (void)Tq;
    for (int i = 0; i < side * side; i++) {
        const float *qi = r->q + (size_t)i * r->ldq;
        int qy = i / side, qx = i % side;
        for (int t = 0; t < side; t++) {
            const float *eh = r->rel_h + (size_t)(qy - t + side - 1) * hd;
            const float *ew = r->rel_w + (size_t)(qx - t + side - 1) * hd;
            float sh = 0, sw = 0;
            for (int c = 0; c < hd; c++) {
                sh += qi[c] * eh[c];
                sw += qi[c] * ew[c];
            }
            rh[t] = sh;
            rw[t] = sw;
        }
        float *row = S + (size_t)i * Tk;
        for (int ky = 0; ky < side; ky++)
            for (int kx = 0; kx < side; kx++) row[ky * side + kx] += rh[ky] + rw[kx];
    }
}

typedef struct attn_job {
    const float *qkv;          /* nwin * n rows of q | k | v, D each */
    float *out;                /* nwin * n rows of D */
    const float *rel_h, *rel_w;
    int n, side, D, heads;
} attn_job;

/* Items are (window, head) pairs, so that one global window still keeps
 * every thread busy. */
static void attn_items(void *ctx, long b, long e)
{
    const attn_job *j = ctx;
    int n = j->n, D = j->D, hd = D / j->heads;
    float *S = xmalloc((size_t)n * n * sizeof *S);
    for (long it = b; it < e; it++) {
        int w = (int)(it / j->heads), h = (int)(it % j->heads);
        const float *q = j->qkv + (size_t)w * n * 3 * D + (size_t)h * hd;
        relpos r = {q, 3 * D, j->side, hd, j->rel_h, j->rel_w};
        nn_attention_ex(q, 3 * D, q + D, 3 * D, q + 2 * D, 3 * D, n, n, hd, 1, -1, j->rel_h ? add_relpos : NULL,
                        &r, j->out + (size_t)w * n * D + (size_t)h * hd, D, S);
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
    nn_norm_apply(&l->ln1, x, h, T, D);
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
    /* The checkpoint's fused qkv (nn_attn_split_qkv kept it back to back): one GEMM. */
    nn_linear(rows, R, D, l->attn.q_w, l->attn.q_b, 3 * D, qkv, 0);
    attn_job j = {qkv, att, l->rel_h, l->rel_w, n, side, D, c->vision.heads};
    pool_for((long)nw * nw * c->vision.heads, 1, attn_items, &j);
    free(qkv);
    float *o = win ? rows : h;      /* R x D, reused */
    nn_attn_output(&l->attn, att, R, o, 0);
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
    nn_norm_apply(&l->ln2, x, h, T, D);
    float *ff = xmalloc((size_t)T * l->mlp.inter * sizeof *ff);
    nn_linear(h, T, D, l->mlp.w1, l->mlp.b1, l->mlp.inter, ff, 0);
    sam_act_parallel(l->mlp.act, ff, (size_t)T * l->mlp.inter);
    nn_linear(ff, T, l->mlp.inter, l->mlp.w2, l->mlp.b2, D, x, 1);
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
    float *x = xmalloc((size_t)T * D * sizeof *x), *h = xmalloc((size_t)T * D * sizeof *h);
    nn_patch_embed(chw, 1, 3, S, S, P, m->patch_w, m->patch_b, D, x);
    if (m->pos_embed)
        for (size_t i = 0; i < (size_t)T * D; i++) x[i] += m->pos_embed[i];
    for (int i = 0; i < c->vision.layers; i++) vit_block(m, &m->vit[i], x, h);

    /* The neck; its layer norms over channels are norms of rows here. */
    float *y = xmalloc((size_t)T * C * sizeof *y);
    nn_linear(x, T, D, m->neck1_w, NULL, C, y, 0);
    nn_norm_apply(&m->neck_ln1, y, y, T, C);
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
    nn_norm_apply(&m->neck_ln2, z, z, T, C);
    for (int t = 0; t < T; t++)
        for (int ci = 0; ci < C; ci++) emb[(size_t)ci * T + t] = z[(size_t)t * C + ci];
    free(x);
    free(y);
    free(z);
    return 0;
}
