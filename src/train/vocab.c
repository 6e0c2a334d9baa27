/* vocab.c — caption lemmas, the vocabularies, captions as word indices,
 * feature standardisation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/wordnet.h"
#include "train/internal.h"

#define CAP_LEMMAS 64

void lemmas_build(const train_data *d, lemmas *l)
{
    memset(l, 0, sizeof *l);
    l->ncap = d->ncap;
    l->off = xcalloc((size_t)d->ncap + 1, sizeof *l->off);
    size_t cap = (size_t)d->ncap * 8 + 16, n = 0;
    l->lem = xmalloc(cap * sizeof *l->lem);
    char tmp[CAP_LEMMAS][TEXTBAG_WORD];
    for (int i = 0; i < d->ncap; i++) {
        int k = textbag_lemmas(d->cap_text[i], tmp, CAP_LEMMAS);
        if (n + (size_t)k > cap) {
            cap = (n + (size_t)k) * 2;
            l->lem = xrealloc(l->lem, cap * sizeof *l->lem);
        }
        memcpy(l->lem + n, tmp, (size_t)k * sizeof *tmp);
        n += (size_t)k;
        l->off[i + 1] = (int)n;
    }
}

void lemmas_free(lemmas *l)
{
    free(l->off);
    free(l->lem);
    memset(l, 0, sizeof *l);
}

/* ---- vocabulary ----------------------------------------------------------- */

typedef struct wc { const char *w; int n, last; } wc;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_wc_word(const void *a, const void *b) { return strcmp(((const wc *)a)->w, ((const wc *)b)->w); }

static int cmp_wc_freq(const void *a, const void *b)
{
    const wc *x = a, *y = b;
    if (x->n != y->n) return x->n < y->n ? 1 : -1;
    return strcmp(x->w, y->w);
}

static const vocab *sort_v;   /* vocab_build is single-threaded */
static int cmp_ix(const void *a, const void *b)
{
    return strcmp(sort_v->w[*(const int *)a], sort_v->w[*(const int *)b]);
}

void vocab_build(const lemmas *l, const train_data *d, int floor, int per_image, int tags_only, vocab *v)
{
    memset(v, 0, sizeof *v);
    int total = l->off[l->ncap];
    /* distinct words, sorted */
    const char **all = xmalloc(((size_t)total + 1) * sizeof *all);
    for (int i = 0; i < total; i++) all[i] = l->lem[i];
    qsort(all, (size_t)total, sizeof *all, cmp_str);
    wc *u = xcalloc((size_t)total + 1, sizeof *u);
    int nu = 0;
    for (int i = 0; i < total; i++)
        if (!nu || strcmp(u[nu - 1].w, all[i])) u[nu++] = (wc){all[i], 0, -1};
    free(all);
    /* count units (caption or image) containing each word once */
    for (int c = 0; c < l->ncap; c++) {
        int unit = per_image ? d->cap_image[c] : c;
        for (int k = l->off[c]; k < l->off[c + 1]; k++) {
            wc key = {l->lem[k], 0, 0};
            wc *h = bsearch(&key, u, (size_t)nu, sizeof *u, cmp_wc_word);
            if (h->last != unit) {
                h->last = unit;
                h->n++;
            }
        }
    }
    qsort(u, (size_t)nu, sizeof *u, cmp_wc_freq);
    v->w = xcalloc((size_t)nu + 1, sizeof *v->w);
    for (int i = 0; i < nu && u[i].n >= floor; i++) {
        const char *w = u[i].w;
        if (tags_only) {
            /* tags are things one can see or do: words of letters WordNet
             * knows as noun, verb or adjective */
            int letters = 1;
            for (const char *p = w; *p; p++) if ((*p < 'a' || *p > 'z') && *p != '-') letters = 0;
            if (!letters || strlen(w) < 2) continue;
            if (wn_available() && !wn_in_index(w, 'n') && !wn_in_index(w, 'v') && !wn_in_index(w, 'a'))
                continue;
        }
        v->w[v->n++] = xstrdup(w);
    }
    free(u);
    v->sorted = xmalloc(((size_t)v->n + 1) * sizeof *v->sorted);
    for (int i = 0; i < v->n; i++) v->sorted[i] = i;
    sort_v = v;
    qsort(v->sorted, (size_t)v->n, sizeof *v->sorted, cmp_ix);
    sort_v = NULL;
}

int vocab_find(const vocab *v, const char *w)
{
    int lo = 0, hi = v->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2, c = strcmp(v->w[v->sorted[mid]], w);
        if (!c) return v->sorted[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

void vocab_free(vocab *v)
{
    for (int i = 0; i < v->n; i++) free(v->w[i]);
    free(v->w);
    free(v->sorted);
    memset(v, 0, sizeof *v);
}

/* ---- captions as word indices ------------------------------------------------ */

static int knows(void *ctx, const char *w) { return vocab_find(ctx, w) >= 0; }

void caps_encode(const lemmas *l, const train_data *d, const vocab *v, caps *c)
{
    memset(c, 0, sizeof *c);
    c->n = d->ncap;
    c->off = xcalloc((size_t)d->ncap + 1, sizeof *c->off);
    c->image = xcalloc((size_t)d->ncap + 1, sizeof *c->image);
    size_t cap = (size_t)l->off[l->ncap] * 2 + 16, n = 0;
    c->word = xmalloc(cap * sizeof *c->word);
    c->wt = xmalloc(cap * sizeof *c->wt);
    textbag_term t[CAP_LEMMAS * 4];
    for (int i = 0; i < d->ncap; i++) {
        int unk = 0;
        int k = textbag_weigh(l->lem + l->off[i], l->off[i + 1] - l->off[i], knows, (void *)v, t,
                              CAP_LEMMAS * 4, &unk);
        c->unknown += unk;
        if (n + (size_t)k > cap) {
            cap = (n + (size_t)k) * 2;
            c->word = xrealloc(c->word, cap * sizeof *c->word);
            c->wt = xrealloc(c->wt, cap * sizeof *c->wt);
        }
        for (int j = 0; j < k; j++) {
            c->word[n] = vocab_find(v, t[j].word);
            c->wt[n++] = t[j].weight;
        }
        c->off[i + 1] = (int)n;
        c->image[i] = d->cap_image[i];
    }
}

void caps_free(caps *c)
{
    free(c->off);
    free(c->word);
    free(c->wt);
    free(c->image);
    memset(c, 0, sizeof *c);
}

/* ---- features ------------------------------------------------------------------ */

void feat_stats(const train_data *d, float *mean, float *scale)
{
    for (int k = 0; k < d->dim; k++) {
        double s = 0, s2 = 0;
        for (int i = 0; i < d->n; i++) {
            double x = d->X[(size_t)i * d->dim + k];
            s += x;
            s2 += x * x;
        }
        double m = d->n ? s / d->n : 0, var = d->n ? s2 / d->n - m * m : 0;
        mean[k] = (float)m;
        /* a constant feature carries nothing: weight 0, not 1/0 */
        scale[k] = var > 1e-12 ? (float)(1.0 / sqrt(var)) : 0.0f;
    }
}

float *feat_standardise(const train_data *d, const float *mean, const float *scale)
{
    float *x = xmalloc((size_t)d->n * d->dim * sizeof *x + 1);
    for (int i = 0; i < d->n; i++)
        for (int k = 0; k < d->dim; k++)
            x[(size_t)i * d->dim + k] = (d->X[(size_t)i * d->dim + k] - mean[k]) * scale[k];
    return x;
}
