/* embed.c — training the joint embedding.
 *
 * Image side: an MLP on standardised features, L2-normalised.  Text side:
 * the weighted mean of word vectors (what textbag_weigh gives for the
 * caption), a linear layer, L2-normalised.  A batch holds B distinct
 * images, one caption each; an epoch shows every training caption once.
 * Loss: symmetric InfoNCE over the batch's B x B cosines (learned
 * temperature), or VSE++'s hinge on the hardest negative in each
 * direction.  The learning rate follows a cosine from lr down to lr/20 over
 * the epochs asked for; after each epoch the dev captions rank the dev
 * images and the best epoch's weights are kept (dev chooses the epoch only).
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train/internal.h"

#define MAXLOGSCALE 4.6051702f   /* temperature no lower than 0.01 */

/* A batch's words: caption b uses bw[off[b] .. off[b+1]) with coefficients
 * summing to 1 (the weighted mean). */
typedef struct bwords { int *off, *word; float *coef; int cap; } bwords;

static void bwords_fill(bwords *bw, const caps *c, const int *ci, int B, float drop, rng *r)
{
    int need = 0;
    for (int b = 0; b < B; b++) need += c->off[ci[b] + 1] - c->off[ci[b]];
    if (need > bw->cap) {
        bw->cap = need * 2;
        bw->word = xrealloc(bw->word, (size_t)bw->cap * sizeof *bw->word);
        bw->coef = xrealloc(bw->coef, (size_t)bw->cap * sizeof *bw->coef);
    }
    int n = 0;
    for (int b = 0; b < B; b++) {
        bw->off[b] = n;
        int a = c->off[ci[b]], e = c->off[ci[b] + 1];
        double sum = 0;
        for (int k = a; k < e; k++) {
            if (drop > 0 && rng_uniform(r) < drop) continue;
            bw->word[n] = c->word[k];
            bw->coef[n++] = c->wt[k];
            sum += c->wt[k];
        }
        if (n == bw->off[b]) {          /* everything dropped: keep everything */
            for (int k = a; k < e; k++) {
                bw->word[n] = c->word[k];
                bw->coef[n++] = c->wt[k];
                sum += c->wt[k];
            }
        }
        for (int k = bw->off[b]; k < n; k++) bw->coef[k] = (float)(bw->coef[k] / (sum > 0 ? sum : 1));
    }
    bw->off[B] = n;
}

/* P = weighted means of word vectors (B x E). */
static void pool_words(const embed_model *m, const bwords *bw, int B, float *P)
{
    memset(P, 0, (size_t)B * m->E * sizeof *P);
    for (int b = 0; b < B; b++)
        for (int k = bw->off[b]; k < bw->off[b + 1]; k++)
            cblas_saxpy(m->E, bw->coef[k], m->words.w + (size_t)bw->word[k] * m->E, 1, P + (size_t)b * m->E, 1);
}

static void pool_words_backward(embed_model *m, const bwords *bw, int B, const float *dP)
{
    for (int b = 0; b < B; b++)
        for (int k = bw->off[b]; k < bw->off[b + 1]; k++)
            cblas_saxpy(m->E, bw->coef[k], dP + (size_t)b * m->E, 1, m->words.g + (size_t)bw->word[k] * m->E, 1);
}

static int all_params(embed_model *m, param **p)
{
    int n = mlp_params(&m->img, p);
    p[n++] = &m->words;
    p[n++] = &m->proj.W;
    p[n++] = &m->proj.b;
    p[n++] = &m->logscale;
    return n;
}

static void model_init(embed_model *m, int F, int V, const train_hparams *h, int maxB, rng *r)
{
    memset(m, 0, sizeof *m);
    m->F = F;
    m->D = h->dim;
    m->E = h->word_dim;
    m->V = V;
    int sizes[3] = {F, h->hidden, h->dim};
    if (h->hidden > 0) mlp_init(&m->img, 2, sizes, maxB, h->decay, r);
    else {
        sizes[1] = h->dim;
        mlp_init(&m->img, 1, sizes, maxB, h->decay, r);
    }
    m->img.in_drop = h->in_drop;
    m->img.hid_drop = h->hid_drop;
    param_init(&m->words, (size_t)V * m->E, h->decay);
    for (size_t i = 0; i < m->words.n; i++) m->words.w[i] = rng_normal(r) * 0.1f;
    dense_init(&m->proj, m->E, m->D, h->decay, r);
    param_init(&m->logscale, 1, 0);
    m->logscale.w[0] = logf(1.0f / h->temp);
}

void embed_free(embed_model *m)
{
    mlp_free(&m->img);
    param_free(&m->words);
    dense_free(&m->proj);
    param_free(&m->logscale);
}

/* Copy of every weight (the best epoch). */
static float **snapshot(embed_model *m, float **old)
{
    param *p[16];
    int n = all_params(m, p);
    float **s = old ? old : xcalloc(16, sizeof *s);
    for (int i = 0; i < n; i++) {
        if (!s[i]) s[i] = xmalloc(p[i]->n * sizeof *s[i] + 1);
        memcpy(s[i], p[i]->w, p[i]->n * sizeof *s[i]);
    }
    return s;
}

static void restore(embed_model *m, float **s)
{
    param *p[16];
    int n = all_params(m, p);
    for (int i = 0; i < n; i++) memcpy(p[i]->w, s[i], p[i]->n * sizeof *s[i]);
}

/* ---- losses on S (B x B cosines, row = caption, column = image) ----------- */

static double infonce(const float *S, int B, float scale, float *dS, double *dlogscale)
{
    double loss = 0, dls = 0;
    float *p = xmalloc((size_t)B * B * sizeof *p);
    memset(dS, 0, (size_t)B * B * sizeof *dS);
    for (int dir = 0; dir < 2; dir++) {
        for (int i = 0; i < B; i++) {
            /* dir 0: row i (caption i against images); dir 1: column i */
            double mx = -1e30, sum = 0;
            for (int j = 0; j < B; j++) {
                float s = dir ? S[(size_t)j * B + i] : S[(size_t)i * B + j];
                if (s * scale > mx) mx = s * scale;
            }
            for (int j = 0; j < B; j++) {
                float s = dir ? S[(size_t)j * B + i] : S[(size_t)i * B + j];
                p[j] = (float)exp(s * scale - mx);
                sum += p[j];
            }
            loss += -(S[(size_t)i * B + i] * scale - mx - log(sum));
            for (int j = 0; j < B; j++) {
                float g = (float)(p[j] / sum) - (i == j);
                size_t at = dir ? (size_t)j * B + i : (size_t)i * B + j;
                dS[at] += g * scale / (2.0f * B);
                dls += (double)g * S[at] * scale / (2.0 * B);
            }
        }
    }
    free(p);
    *dlogscale = dls;
    return loss / (2.0 * B);
}

static double hinge(const float *S, int B, float margin, float *dS)
{
    double loss = 0;
    memset(dS, 0, (size_t)B * B * sizeof *dS);
    for (int i = 0; i < B; i++) {
        float pos = S[(size_t)i * B + i];
        int jn = -1, kn = -1;
        for (int j = 0; j < B; j++) {
            if (j == i) continue;
            if (jn < 0 || S[(size_t)i * B + j] > S[(size_t)i * B + jn]) jn = j;
            if (kn < 0 || S[(size_t)j * B + i] > S[(size_t)kn * B + i]) kn = j;
        }
        if (jn < 0) continue;
        float ci = margin - pos + S[(size_t)i * B + jn], cc = margin - pos + S[(size_t)kn * B + i];
        if (ci > 0) {
            loss += ci;
            dS[(size_t)i * B + i] -= 1.0f / B;
            dS[(size_t)i * B + jn] += 1.0f / B;
        }
        if (cc > 0) {
            loss += cc;
            dS[(size_t)i * B + i] -= 1.0f / B;
            dS[(size_t)kn * B + i] += 1.0f / B;
        }
    }
    return loss / B;
}

/* ---- evaluation ------------------------------------------------------------------ */

void rank_captions(const float *Temb, int ncap, const int *cap_image, const float *Iemb, int n, int D,
                   double *ranks)
{
    enum { CH = 256 };
    float *S = xmalloc((size_t)CH * n * sizeof *S);
    for (int c0 = 0; c0 < ncap; c0 += CH) {
        int nc = ncap - c0 < CH ? ncap - c0 : CH;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nc, n, D, 1.0f, Temb + (size_t)c0 * D, D, Iemb, D,
                    0.0f, S, n);
        for (int c = 0; c < nc; c++) {
            const float *row = S + (size_t)c * n;
            float want = row[cap_image[c0 + c]];
            int above = 0, ties = 0;
            for (int j = 0; j < n; j++) {
                if (row[j] > want) above++;
                else if (row[j] == want && j != cap_image[c0 + c]) ties++;
            }
            ranks[c0 + c] = 1 + above + ties * 0.5;
        }
    }
    free(S);
}

/* Image embeddings (n x D) of standardised features, no dropout. */
static void embed_images(embed_model *m, const float *X, int n, float *out)
{
    int B = m->img.maxB;
    float *norms = xmalloc((size_t)B * sizeof *norms);
    for (int i0 = 0; i0 < n; i0 += B) {
        int nb = n - i0 < B ? n - i0 : B;
        const float *y = mlp_forward(&m->img, X + (size_t)i0 * m->F, nb, 0, NULL);
        l2norm_forward(y, nb, m->D, out + (size_t)i0 * m->D, norms);
    }
    free(norms);
}

static void embed_texts(embed_model *m, const caps *c, float *out)
{
    enum { B = 256 };
    bwords bw = {xcalloc(B + 1, sizeof(int)), NULL, NULL, 0};
    float *P = xmalloc((size_t)B * m->E * sizeof *P), *T = xmalloc((size_t)B * m->D * sizeof *T);
    float *norms = xmalloc(B * sizeof *norms);
    int ci[B];
    for (int i0 = 0; i0 < c->n; i0 += B) {
        int nb = c->n - i0 < B ? c->n - i0 : B;
        for (int b = 0; b < nb; b++) ci[b] = i0 + b;
        bwords_fill(&bw, c, ci, nb, 0, NULL);
        pool_words(m, &bw, nb, P);
        dense_forward(&m->proj, P, nb, T);
        l2norm_forward(T, nb, m->D, out + (size_t)i0 * m->D, norms);
        /* a caption without a single known word embeds to zero, as in search */
        for (int b = 0; b < nb; b++)
            if (bw.off[b] == bw.off[b + 1]) memset(out + (size_t)(i0 + b) * m->D, 0, (size_t)m->D * sizeof *out);
    }
    free(bw.off);
    free(bw.word);
    free(bw.coef);
    free(P);
    free(T);
    free(norms);
}

static void evaluate(embed_model *m, const float *X, int n, const caps *c, eval_metrics *out)
{
    float *Ie = xmalloc((size_t)n * m->D * sizeof *Ie), *T = xmalloc((size_t)c->n * m->D * sizeof *T);
    double *ranks = xmalloc(((size_t)c->n + 1) * sizeof *ranks);
    embed_images(m, X, n, Ie);
    embed_texts(m, c, T);
    rank_captions(T, c->n, c->image, Ie, n, m->D, ranks);
    eval_metrics_compute(ranks, c->n, out);
    free(Ie);
    free(T);
    free(ranks);
}

/* ---- training --------------------------------------------------------------------- */

static double rsum(const eval_metrics *m) { return m->r1 + m->r5 + m->r10; }

int embed_train(const float *Xtr, const caps *ctr, int ntr, const float *Xdev, const caps *cdev, int ndev,
                int F, int V, const float *word_init, const train_opts *o, embed_result *res)
{
    const train_hparams *h = &o->hp;
    memset(res, 0, sizeof *res);
    rng r = {o->seed * 0x2545f4914f6cdd1dULL + 1};
    int B = h->batch < ntr ? h->batch : ntr;
    if (B < 2) B = 2;
    embed_model *m = &res->m;
    model_init(m, F, V, h, B, &r);
    for (int w = 0; word_init && w < V; w++) {
        const float *row = word_init + (size_t)w * m->E;
        int any = 0;
        for (int k = 0; k < m->E && !any; k++) any = row[k] != 0;
        if (any) memcpy(m->words.w + (size_t)w * m->E, row, (size_t)m->E * sizeof *row);
    }
    int epochs = o->epochs > 0 ? o->epochs : 20;
    res->ep = xcalloc((size_t)epochs + 1, sizeof *res->ep);

    /* captions of each image, to show every caption once per epoch */
    int *nc = xcalloc((size_t)ntr + 1, sizeof *nc), maxc = 0;
    for (int i = 0; i < ctr->n; i++) nc[ctr->image[i]]++;
    for (int i = 0; i < ntr; i++) if (nc[i] > maxc) maxc = nc[i];
    int *capof = xmalloc(((size_t)ntr * maxc + 1) * sizeof *capof), *fill = xcalloc((size_t)ntr + 1, sizeof *fill);
    for (int i = 0; i < ctr->n; i++) {
        int im = ctr->image[i];
        capof[(size_t)im * maxc + fill[im]++] = i;
    }

    param *ps[16];
    int np = all_params(m, ps);
    if (!h->learn_temp || h->loss != TRAIN_LOSS_INFONCE) np--;    /* logscale is the last */
    adam opt = {h->lr, 0.9f, 0.999f, 1e-8f, 0};
    bwords bw = {xcalloc((size_t)B + 1, sizeof(int)), NULL, NULL, 0};
    float *Xb = xmalloc((size_t)B * F * sizeof *Xb);
    float *P = xmalloc((size_t)B * m->E * sizeof *P), *dP = xmalloc((size_t)B * m->E * sizeof *dP);
    float *Traw = xmalloc((size_t)B * m->D * sizeof *Traw), *T = xmalloc((size_t)B * m->D * sizeof *T);
    float *Ie = xmalloc((size_t)B * m->D * sizeof *Ie);
    float *dT = xmalloc((size_t)B * m->D * sizeof *dT), *dIe = xmalloc((size_t)B * m->D * sizeof *dIe);
    float *dTraw = xmalloc((size_t)B * m->D * sizeof *dTraw), *dIraw = xmalloc((size_t)B * m->D * sizeof *dIraw);
    float *S = xmalloc((size_t)B * B * sizeof *S), *dS = xmalloc((size_t)B * B * sizeof *dS);
    float *tnorm = xmalloc((size_t)B * sizeof *tnorm), *inorm = xmalloc((size_t)B * sizeof *inorm);
    int *order = xmalloc(((size_t)ntr + 1) * sizeof *order), *ci = xmalloc(((size_t)B + 1) * sizeof *ci);
    int *pick = xmalloc(((size_t)ntr * maxc + 1) * sizeof *pick);
    float **best = NULL;
    int since = 0;
    int tty = o->progress && isatty(2);

    for (int ep = 0; ep < epochs; ep++) {
        double t0 = now_seconds(), lsum = 0;
        int nsteps = 0;
        opt.lr = h->lr * (0.05f + 0.95f * 0.5f * (1 + cosf((float)M_PI * ep / epochs)));
        /* each image's captions in a fresh random order; pass k uses the k-th */
        for (int i = 0; i < ntr; i++) {
            for (int k = 0; k < nc[i]; k++) pick[(size_t)i * maxc + k] = capof[(size_t)i * maxc + k];
            rng_shuffle(&r, pick + (size_t)i * maxc, nc[i]);
        }
        int steps_total = 0;
        for (int pass = 0; pass < maxc; pass++) {
            int n = 0;
            for (int i = 0; i < ntr; i++) if (nc[i] > pass) order[n++] = i;
            steps_total += n / B;
        }
        for (int pass = 0; pass < maxc; pass++) {
            int n = 0;
            for (int i = 0; i < ntr; i++) if (nc[i] > pass) order[n++] = i;
            rng_shuffle(&r, order, n);
            for (int s0 = 0; s0 + B <= n; s0 += B) {
                for (int b = 0; b < B; b++) {
                    int im = order[s0 + b];
                    ci[b] = pick[(size_t)im * maxc + pass];
                    memcpy(Xb + (size_t)b * F, Xtr + (size_t)im * F, (size_t)F * sizeof *Xb);
                }
                /* forward */
                const float *Iraw = mlp_forward(&m->img, Xb, B, 1, &r);
                l2norm_forward(Iraw, B, m->D, Ie, inorm);
                bwords_fill(&bw, ctr, ci, B, h->word_drop, &r);
                pool_words(m, &bw, B, P);
                dense_forward(&m->proj, P, B, Traw);
                l2norm_forward(Traw, B, m->D, T, tnorm);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, B, m->D, 1.0f, T, m->D, Ie, m->D, 0.0f, S, B);
                double loss, dls = 0;
                if (h->loss == TRAIN_LOSS_INFONCE) {
                    if (m->logscale.w[0] > MAXLOGSCALE) m->logscale.w[0] = MAXLOGSCALE;
                    loss = infonce(S, B, expf(m->logscale.w[0]), dS, &dls);
                } else {
                    loss = hinge(S, B, h->margin, dS);
                }
                lsum += loss;
                nsteps++;
                /* backward */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, m->D, B, 1.0f, dS, B, Ie, m->D, 0.0f, dT, m->D);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, B, m->D, B, 1.0f, dS, B, T, m->D, 0.0f, dIe, m->D);
                l2norm_backward(T, dT, tnorm, B, m->D, dTraw);
                l2norm_backward(Ie, dIe, inorm, B, m->D, dIraw);
                dense_backward(&m->proj, P, dTraw, B, dP);
                pool_words_backward(m, &bw, B, dP);
                mlp_backward(&m->img, dIraw, B);
                m->logscale.g[0] = (float)dls;
                adam_step(&opt, ps, np);
                param_zero_grad(&m->logscale);
                if (tty && (nsteps % 8 == 0 || nsteps == steps_total)) {
                    int w = 30, done = steps_total ? nsteps * w / steps_total : w;
                    fprintf(stderr, "\r  epoch %3d [%.*s%*s] loss %.4f", ep + 1, done,
                            "##############################", w - done, "", lsum / nsteps);
                    fflush(stderr);
                }
            }
        }
        train_epoch *te = &res->ep[ep];
        te->loss = nsteps ? lsum / nsteps : 0;
        evaluate(m, Xdev, ndev, cdev, &te->dev);
        te->seconds = now_seconds() - t0;
        res->epochs_run = ep + 1;
        int better = !best || rsum(&te->dev) > rsum(&res->best) + 1e-9;
        if (better) {
            best = snapshot(m, best);
            res->best = te->dev;
            res->best_epoch = ep + 1;
            since = 0;
        } else {
            since++;
        }
        if (o->progress) {
            fprintf(stderr, "%sepoch %3d  loss %.4f  dev R@1 %5.2f R@5 %5.2f R@10 %5.2f  median %5.1f  %s%.1f s\n",
                    tty ? "\r\033[K" : "", ep + 1, te->loss, 100 * te->dev.r1, 100 * te->dev.r5,
                    100 * te->dev.r10, te->dev.median_rank, better ? "* " : "  ", te->seconds);
            fflush(stderr);
        }
        if (h->patience > 0 && since >= h->patience) break;
    }
    if (best) {
        restore(m, best);
        for (int i = 0; i < 16; i++) free(best[i]);
        free(best);
    }
    free(nc);
    free(capof);
    free(fill);
    free(bw.off);
    free(bw.word);
    free(bw.coef);
    free(Xb);
    free(P);
    free(dP);
    free(Traw);
    free(T);
    free(Ie);
    free(dT);
    free(dIe);
    free(dTraw);
    free(dIraw);
    free(S);
    free(dS);
    free(tnorm);
    free(inorm);
    free(order);
    free(ci);
    free(pick);
    return 0;
}
