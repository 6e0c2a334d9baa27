/* tagger.c — P(tag | image): a multi-label logistic model (optionally one
 * hidden layer) on the standardised features, trained with binary
 * cross-entropy against soft targets (the share of an image's captions
 * that use the tag), early-stopped on dev mean average precision against
 * "some caption of the image uses the tag". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train/internal.h"

typedef struct scored { float s; uint8_t y; } scored;

static int by_score(const void *a, const void *b)
{
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    if (x != y) return x < y ? 1 : -1;
    /* ties: negatives first, so a constant scorer gets no credit */
    return (int)((const scored *)a)->y - (int)((const scored *)b)->y;
}

double mean_average_precision(const float *P, const uint8_t *Y, int n, int T)
{
    scored *v = xmalloc(((size_t)n + 1) * sizeof *v);
    double sum = 0;
    int used = 0;
    for (int t = 0; t < T; t++) {
        int pos = 0;
        for (int i = 0; i < n; i++) {
            v[i].s = P[(size_t)i * T + t];
            v[i].y = Y[(size_t)i * T + t];
            pos += v[i].y;
        }
        if (!pos) continue;
        qsort(v, (size_t)n, sizeof *v, by_score);
        double ap = 0;
        int hits = 0;
        for (int i = 0; i < n; i++)
            if (v[i].y) ap += (double)++hits / (i + 1);
        sum += ap / pos;
        used++;
    }
    free(v);
    return used ? sum / used : 0;
}

static void predict(mlp *net, const float *X, int n, int F, int T, float *P)
{
    int B = net->maxB;
    for (int i0 = 0; i0 < n; i0 += B) {
        int nb = n - i0 < B ? n - i0 : B;
        const float *z = mlp_forward(net, X + (size_t)i0 * F, nb, 0, NULL);
        memcpy(P + (size_t)i0 * T, z, (size_t)nb * T * sizeof *P);   /* logits rank like probabilities */
    }
}

int tagger_train(const float *Xtr, int ntr, const float *Ytr, const float *Xdev, int ndev, const uint8_t *Ydev,
                 int F, int T, const train_opts *o, tagger_result *res)
{
    const train_hparams *h = &o->hp;
    memset(res, 0, sizeof *res);
    rng r = {o->seed * 0x9e3779b97f4a7c15ULL + 7};
    int B = h->batch < ntr ? h->batch : ntr;
    if (B < 1) B = 1;
    int sizes[3] = {F, h->tag_hidden, T};
    if (h->tag_hidden > 0) mlp_init(&res->net, 2, sizes, B, h->decay, &r);
    else {
        sizes[1] = T;
        mlp_init(&res->net, 1, sizes, B, h->decay, &r);
    }
    mlp *net = &res->net;
    net->in_drop = h->in_drop;
    net->hid_drop = h->hid_drop;
    /* start the output biases at the tags' base rates: the first epochs
     * then learn what distinguishes images, not how common words are */
    dense *last = &net->l[net->layers - 1];
    for (int t = 0; t < T; t++) {
        double s = 0;
        for (int i = 0; i < ntr; i++) s += Ytr[(size_t)i * T + t];
        double p = (s + 0.5) / (ntr + 1.0);
        last->b.w[t] = (float)log(p / (1 - p));
        for (int k = 0; k < last->in; k++) last->W.w[(size_t)t * last->in + k] *= 0.1f;
    }
    param *ps[2 * MLP_MAX];
    int np = mlp_params(net, ps);
    adam opt = {h->tag_lr, 0.9f, 0.999f, 1e-8f, 0};
    float *Xb = xmalloc((size_t)B * F * sizeof *Xb), *dz = xmalloc((size_t)B * T * sizeof *dz);
    float *Pdev = xmalloc(((size_t)ndev * T + 1) * sizeof *Pdev);
    int *order = xmalloc(((size_t)ntr + 1) * sizeof *order);
    float **best = xcalloc((size_t)np, sizeof *best);
    double best_map = -1;
    int since = 0, epochs = h->tag_epochs > 0 ? h->tag_epochs : 40;
    for (int i = 0; i < ntr; i++) order[i] = i;
    for (int ep = 0; ep < epochs; ep++) {
        double t0 = now_seconds(), lsum = 0;
        int steps = 0;
        opt.lr = h->tag_lr * (0.05f + 0.95f * 0.5f * (1 + cosf((float)M_PI * ep / epochs)));
        rng_shuffle(&r, order, ntr);
        for (int s0 = 0; s0 + B <= ntr; s0 += B) {
            for (int b = 0; b < B; b++)
                memcpy(Xb + (size_t)b * F, Xtr + (size_t)order[s0 + b] * F, (size_t)F * sizeof *Xb);
            const float *z = mlp_forward(net, Xb, B, 1, &r);
            double loss = 0;
            for (int b = 0; b < B; b++) {
                const float *y = Ytr + (size_t)order[s0 + b] * T;
                for (int t = 0; t < T; t++) {
                    float zz = z[(size_t)b * T + t], p = 1.0f / (1.0f + expf(-zz));
                    /* log(1+e^z) - y z, stably */
                    loss += (zz > 0 ? zz + log1pf(expf(-zz)) : log1pf(expf(zz))) - y[t] * zz;
                    dz[(size_t)b * T + t] = (p - y[t]) / B;
                }
            }
            lsum += loss / B;
            steps++;
            mlp_backward(net, dz, B);
            adam_step(&opt, ps, np);
        }
        predict(net, Xdev, ndev, F, T, Pdev);
        double map = mean_average_precision(Pdev, Ydev, ndev, T);
        res->epochs = ep + 1;
        int better = map > best_map + 1e-9;
        if (better) {
            best_map = map;
            for (int k = 0; k < np; k++) {
                if (!best[k]) best[k] = xmalloc(ps[k]->n * sizeof *best[k] + 1);
                memcpy(best[k], ps[k]->w, ps[k]->n * sizeof *best[k]);
            }
            since = 0;
        } else {
            since++;
        }
        if (o->progress) {
            fprintf(stderr, "tagger epoch %3d  loss %.4f  dev mAP %.4f  %s%.1f s\n", ep + 1,
                    steps ? lsum / steps : 0, map, better ? "* " : "  ", now_seconds() - t0);
            fflush(stderr);
        }
        if (h->patience > 0 && since >= h->patience) break;
    }
    for (int k = 0; k < np; k++) {
        if (best[k]) memcpy(ps[k]->w, best[k], ps[k]->n * sizeof *best[k]);
        free(best[k]);
    }
    free(best);
    res->map = best_map < 0 ? 0 : best_map;
    free(Xb);
    free(dz);
    free(Pdev);
    free(order);
    return 0;
}
