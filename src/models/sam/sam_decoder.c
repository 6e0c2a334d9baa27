/* sam_decoder.c — SAM's prompt encoder and mask decoder.
 *
 * Prompts become tokens: random Fourier features of each point (shifted to
 * the pixel centre, divided by the input side) plus a learned embedding of
 * its label, a "not a point" token padding point-only prompts, and two
 * corner tokens per box.  The learned IoU and mask tokens join them, and a
 * two-way transformer lets the tokens attend to the image embedding and the
 * image attend back to the tokens.  The image side is then upscaled 4x by
 * two transposed convolutions; each mask token, through its own MLP (the
 * hypernetwork), gives the weights of a dot product with every upscaled
 * pixel: that is its mask.  The IoU token's MLP predicts each mask's IoU.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ops_nn.h"
#include "models/sam/sam_impl.h"

/* out (nq x M) = or += attention of qin over keys from kin and values
 * from vin (SAM adds positional encodings to queries and keys only, so the
 * two differ), projected back.  kp/vp: the key and value projections when
 * already computed. */
static void xattn(const nn_attn *a, const float *qin, int nq, const float *kin, const float *vin, int nk,
                  const float *kp, const float *vp, float *out, int accumulate)
{
    int di = a->inner;
    float *Q = xmalloc((size_t)nq * di * sizeof *Q), *O = xmalloc((size_t)nq * di * sizeof *O);
    float *Kb = NULL, *Vb = NULL;
    nn_attn_project_q(a, qin, nq, Q);
    if (!kp) {
        Kb = xmalloc((size_t)nk * di * sizeof *Kb);
        nn_linear(kin, nk, a->dkv, a->k_w, a->k_b, di, Kb, 0);
        kp = Kb;
    }
    if (!vp) {
        Vb = xmalloc((size_t)nk * di * sizeof *Vb);
        nn_linear(vin, nk, a->dkv, a->v_w, a->v_b, di, Vb, 0);
        vp = Vb;
    }
    float *S = xmalloc((size_t)nq * nk * sizeof *S);
    nn_attention_ex(Q, di, kp, di, vp, di, nq, nk, di, a->heads, -1, NULL, NULL, O, di, S);
    nn_attn_output(a, O, nq, out, accumulate);
    free(S);
    free(Q);
    free(O);
    free(Kb);
    free(Vb);
}

static void add(float *y, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

static void run_mlp(const sam_mlp *f, const float *x, float *out)
{
    float a[4096], b[4096];
    const float *in = x;
    for (int i = 0; i < f->n; i++) {
        float *o = i == f->n - 1 ? out : (i % 2 ? b : a);
        nn_linear(in, 1, f->dims[i], f->w[i], f->b[i], f->dims[i + 1], o, 0);
        if (i < f->n - 1)
            for (int k = 0; k < f->dims[i + 1]; k++) o[k] = o[k] > 0 ? o[k] : 0;
        in = o;
    }
}

/* The prompt's tokens after the IoU and mask tokens; returns their count
 * or -1 on a bad label. */
static int sparse_tokens(const sam_model *m, const sam_prompt *p, float *tok, ierr *e)
{
    int M = m->cfg.prompt.hidden, S = m->cfg.prompt.image, n = 0;
    int np = p->npoints + (p->npoints && !p->has_box);
    double *xy = xmalloc(((size_t)np + 2) * 2 * sizeof *xy);
    for (int i = 0; i < p->npoints; i++) {
        xy[2 * i] = (p->points[2 * i] + 0.5) / S;
        xy[2 * i + 1] = (p->points[2 * i + 1] + 0.5) / S;
    }
    if (p->npoints) {
        sam_fourier(m, xy, p->npoints, tok);
        for (int i = 0; i < np; i++) {
            int lab = i < p->npoints ? p->labels[i] : -1;
            float *t = tok + (size_t)i * M;
            if (lab == -1) {
                memcpy(t, m->not_a_point, (size_t)M * sizeof *t);
            } else if (lab == 0 || lab == 1) {
                for (int k = 0; k < M; k++) t[k] += m->point_embed[lab][k];
            } else {
                free(xy);
                err_set(e, "sam: point %d has label %d (1 foreground, 0 background, -1 none)", i, lab);
                return -1;
            }
        }
        n = np;
    }
    if (p->has_box) {
        for (int i = 0; i < 4; i++) xy[i] = (p->box[i] + 0.5) / S;
        float *t = tok + (size_t)n * M;
        sam_fourier(m, xy, 2, t);
        for (int k = 0; k < M; k++) {
            t[k] += m->point_embed[2][k];
            t[M + k] += m->point_embed[3][k];
        }
        n += 2;
    }
    free(xy);
    return n;
}

/* ConvTranspose2d(k=2, s=2) of a g x g x Cin map: the GEMM gives each
 * input pixel's 2x2 x Cout block; spread them out and add the bias. */
static void upconv(const float *in, int g, int cin, const float *wt, const float *bias, int cout, float *out)
{
    size_t T = (size_t)g * g;
    float *blk = xmalloc(T * cout * 4 * sizeof *blk);
    nn_linear(in, (int)T, cin, wt, NULL, cout * 4, blk, 0);
    int G = 2 * g;
    for (int y = 0; y < g; y++)
        for (int x = 0; x < g; x++) {
            const float *b = blk + ((size_t)y * g + x) * cout * 4;
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++) {
                    float *o = out + ((size_t)(2 * y + dy) * G + 2 * x + dx) * cout;
                    for (int c = 0; c < cout; c++) o[c] = b[c * 4 + dy * 2 + dx] + bias[c];
                }
        }
    free(blk);
}

int sam_decode(sam_model *m, const float *emb, const sam_prompt *p, int n, float *masks, float *iou, ierr *e)
{
    const sam_config *c = &m->cfg;
    int M = c->decoder.hidden, g = c->prompt.embed, T = g * g, K = c->decoder.nmulti + 1;
    int G = 4 * g, c1 = M / 4, c2 = M / 8, maxtok = 0;
    for (int i = 0; i < n; i++) {
        int t = p[i].npoints + 1 + 2 * (p[i].has_box != 0);
        if (p[i].npoints < 0 || (p[i].npoints && (!p[i].points || !p[i].labels))) {
            err_set(e, "sam: prompt %d has no points", i);
            return -1;
        }
        if (t > maxtok) maxtok = t;
    }
    if (M > 4096 || c->decoder.iou_hidden > 4096) {
        err_set(e, "sam: decoder width %d is too large", M);
        return -1;
    }
    size_t TM = (size_t)T * M;
    /* Keys before any prompt: the embedding plus the "no mask" dense
     * prompt, token-major; their first projections are the same for every
     * prompt, so they are computed once. */
    float *keys0 = xmalloc(TM * sizeof *keys0), *kk = xmalloc(TM * sizeof *kk);
    for (int t = 0; t < T; t++)
        for (int ch = 0; ch < M; ch++) keys0[(size_t)t * M + ch] = emb[(size_t)ch * T + t] + m->no_mask[ch];
    const nn_attn *a0 = &m->tw[0].t2i;
    float *k0 = xmalloc((size_t)T * a0->inner * sizeof *k0), *v0 = xmalloc((size_t)T * a0->inner * sizeof *v0);
    add(kk, keys0, m->dense_pe, TM);
    nn_linear(kk, T, M, a0->k_w, a0->k_b, a0->inner, k0, 0);
    nn_linear(keys0, T, M, a0->v_w, a0->v_b, a0->inner, v0, 0);

    int maxt = 1 + K + maxtok;
    float *keys = xmalloc(TM * sizeof *keys);
    float *tok = xmalloc((size_t)maxt * M * sizeof *tok), *q = xmalloc((size_t)maxt * M * sizeof *q);
    float *qq = xmalloc((size_t)maxt * M * sizeof *qq);
    nn_work work = {0};
    float *u1 = xmalloc((size_t)4 * T * c1 * sizeof *u1), *u2 = xmalloc((size_t)16 * T * c2 * sizeof *u2);
    float hyper[SAM_MAX_TOKENS * 512];
    int rc = 0;
    for (int i = 0; i < n; i++) {
        memcpy(tok, m->iou_token, (size_t)M * sizeof *tok);
        memcpy(tok + M, m->mask_tokens, (size_t)K * M * sizeof *tok);
        int ns = sparse_tokens(m, &p[i], tok + (size_t)(1 + K) * M, e);
        if (ns < 0) {
            rc = -1;
            break;
        }
        int nt = 1 + K + ns;
        size_t QM = (size_t)nt * M;
        memcpy(q, tok, QM * sizeof *q);
        memcpy(keys, keys0, TM * sizeof *keys);
        for (int li = 0; li < c->decoder.layers; li++) {
            const sam_twoway_layer *l = &m->tw[li];
            if (li == 0) {
                memcpy(qq, q, QM * sizeof *q);
                xattn(&l->self, qq, nt, qq, qq, nt, NULL, NULL, q, 0);
            } else {
                add(qq, q, tok, QM);
                xattn(&l->self, qq, nt, qq, q, nt, NULL, NULL, q, 1);
            }
            nn_norm_apply(&l->ln[0], q, q, nt, M);
            add(qq, q, tok, QM);
            add(kk, keys, m->dense_pe, TM);
            if (li == 0) xattn(&l->t2i, qq, nt, NULL, NULL, T, k0, v0, q, 1);
            else xattn(&l->t2i, qq, nt, kk, keys, T, NULL, NULL, q, 1);
            nn_norm_apply(&l->ln[1], q, q, nt, M);
            nn_mlp_forward(&l->mlp, q, nt, q, 1, &work);
            nn_norm_apply(&l->ln[2], q, q, nt, M);
            add(qq, q, tok, QM);
            xattn(&l->i2t, kk, T, qq, q, nt, NULL, NULL, keys, 1);
            nn_norm_apply(&l->ln[3], keys, keys, T, M);
        }
        add(qq, q, tok, QM);
        add(kk, keys, m->dense_pe, TM);
        xattn(&m->final, qq, nt, kk, keys, T, NULL, NULL, q, 1);
        nn_norm_apply(&m->lnf, q, q, nt, M);

        upconv(keys, g, M, m->up1_wt, m->up1_b, c1, u1);
        nn_norm_apply(&m->upln, u1, u1, 4 * T, c1);
        sam_act_parallel(NN_GELU, u1, (size_t)4 * T * c1);
        upconv(u1, 2 * g, c1, m->up2_wt, m->up2_b, c2, u2);
        sam_act_parallel(NN_GELU, u2, (size_t)16 * T * c2);
        for (int k = 0; k < K; k++) run_mlp(&m->hyper[k], q + (size_t)(1 + k) * M, hyper + k * c2);
        nn_linear(hyper, K, c2, u2, NULL, G * G, masks + (size_t)i * K * G * G, 0);
        run_mlp(&m->iou_head, q, iou + (size_t)i * K);
    }
    free(keys0);
    free(kk);
    free(k0);
    free(v0);
    free(keys);
    free(tok);
    free(q);
    free(qq);
    nn_work_free(&work);
    free(u1);
    free(u2);
    return rc;
}
