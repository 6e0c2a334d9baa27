/* blip_generate.c — writing the caption: greedy or beam search, as Hugging
 * Face's generate does it (transformers 4.45), so that a caption is the one
 * the reference implementation writes.
 *
 * The prompt is [DEC] followed by the prompt's word pieces (BLIP replaces
 * BERT's [CLS] by [DEC] and drops the trailing [SEP]); generation stops at
 * [SEP] or at max_length ids in all.  Logit processors, in order:
 * repetition penalty (each id already present: score * p when negative,
 * / p otherwise), then min length ([SEP] barred below it).  Beam search
 * applies them to log-probabilities and keeps finished hypotheses scored by
 * sum of log-probabilities / (generated length ^ length_penalty), stopping
 * once no running beam can beat the worst kept one.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/blip/blip_impl.h"

void blip_opts_default(blip_opts *o)
{
    *o = (blip_opts){.beams = 1, .max_length = 20, .min_length = 0, .repetition_penalty = 1.0f,
                     .length_penalty = 1.0f, .prompt = NULL};
}

int blip_prompt_ids(const blip_model *m, const char *prompt, int *ids, int max)
{
    if (max < 1) return 0;
    ids[0] = m->cfg.text.bos;
    if (!prompt || !*prompt) return 1;
    int n = wp_encode(m->vocab, prompt, ids + 1, max - 1);
    return 1 + (n < max - 1 ? n : max - 1);
}

char *blip_decode(const blip_model *m, const int *ids, int n)
{
    return wp_decode(m->vocab, ids, n);
}

static void process(const blip_opts *o, int sep, const int *ids, int len, float *s)
{
    float p = o->repetition_penalty;
    if (p != 1.0f) {
        /* Each distinct id once, whatever its count. */
        for (int i = 0; i < len; i++) {
            int seen = 0;
            for (int j = 0; j < i && !seen; j++) seen = ids[j] == ids[i];
            if (seen) continue;
            float v = s[ids[i]];
            s[ids[i]] = v < 0 ? v * p : v / p;
        }
    }
    if (len < o->min_length) s[sep] = -INFINITY;
}

static int argmax(const float *s, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (s[i] > s[best]) best = i;
    return best;
}

static int greedy(const blip_model *m, blip_dec *d, int *seq, int len, const blip_opts *o, blip_step_fn cb,
                  void *ctx, float *logits)
{
    int V = m->cfg.text.vocab, sep = m->cfg.text.sep, fed = 0;
    for (int step = 0; len < o->max_length; step++) {
        blip_dec_step(d, seq + fed, len - fed, logits);
        fed = len;
        if (cb) cb(ctx, step, 1, logits, V);
        process(o, sep, seq, len, logits);
        seq[len] = argmax(logits, V);
        if (seq[len++] == sep) break;
    }
    return len;
}

/* ---- beam search ------------------------------------------------------- */

typedef struct hyps {
    blip_hyp *h;
    int n, cap;
    double worst;
} hyps;

static void hyp_add(hyps *H, int B, const int *ids, int n, double sum, int glen, float lp)
{
    double score = sum / pow((double)glen, lp);
    if (H->n >= B && !(score > H->worst)) return;
    if (H->n == H->cap) {
        H->cap = H->cap ? 2 * H->cap : 8;
        H->h = xrealloc(H->h, (size_t)H->cap * sizeof *H->h);
    }
    blip_hyp *h = &H->h[H->n++];
    h->ids = xmalloc((size_t)(n + 1) * sizeof *h->ids);
    memcpy(h->ids, ids, (size_t)n * sizeof *ids);
    h->n = n;
    h->score = (float)score;
    if (H->n > B) {
        /* Drop the worst (the first of equals); the next worst becomes the bar. */
        int wi = 0;
        for (int i = 1; i < H->n; i++)
            if (H->h[i].score < H->h[wi].score) wi = i;
        free(H->h[wi].ids);
        memmove(H->h + wi, H->h + wi + 1, (size_t)(H->n - wi - 1) * sizeof *H->h);
        H->n--;
        H->worst = H->h[0].score;
        for (int i = 1; i < H->n; i++)
            if (H->h[i].score < H->worst) H->worst = H->h[i].score;
    } else if (score < H->worst) {
        H->worst = score;
    }
}

typedef struct cand {
    double score;
    int flat;
} cand;

static int cand_cmp(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->flat - y->flat;
}

static void beam(const blip_model *m, blip_dec *d, const int *prompt, int P, const blip_opts *o, blip_step_fn cb,
                 void *ctx, float *logits, hyps *H)
{
    int V = m->cfg.text.vocab, sep = m->cfg.text.sep, B = o->beams, ML = o->max_length;
    int *seq = xmalloc((size_t)B * ML * sizeof *seq), *nseq = xmalloc((size_t)B * ML * sizeof *nseq);
    double *bs = xmalloc((size_t)B * sizeof *bs), *nbs = xmalloc((size_t)B * sizeof *nbs);
    int *src = xmalloc((size_t)B * sizeof *src), *tok = xmalloc((size_t)B * sizeof *tok);
    cand *top = xmalloc((size_t)2 * B * sizeof *top);
    double *lp = xmalloc((size_t)V * sizeof *lp);
    for (int b = 0; b < B; b++) {
        memcpy(seq + (size_t)b * ML, prompt, (size_t)P * sizeof *seq);
        bs[b] = b ? -1e9 : 0;
    }
    int len = P, fed = 0, done = 0;
    int *feed = xmalloc((size_t)B * ML * sizeof *feed);
    for (int step = 0;; step++) {
        int n = len - fed;
        for (int b = 0; b < B; b++) memcpy(feed + (size_t)b * n, seq + (size_t)b * ML + fed, (size_t)n * sizeof *feed);
        blip_dec_step(d, feed, n, logits);
        fed = len;
        if (cb) cb(ctx, step, B, logits, V);
        /* The 2B best continuations over all beams. */
        int nt = 0;
        for (int b = 0; b < B; b++) {
            float *lg = logits + (size_t)b * V;
            float mx = lg[argmax(lg, V)];
            double z = 0;
            for (int i = 0; i < V; i++) z += exp((double)lg[i] - mx);
            double lz = mx + log(z);
            for (int i = 0; i < V; i++) lg[i] = (float)(lg[i] - lz);
            process(o, sep, seq + (size_t)b * ML, len, lg);
            for (int i = 0; i < V; i++) lp[i] = lg[i] + bs[b];
            for (int i = 0; i < V; i++) {
                if (nt == 2 * B && !(lp[i] > top[nt - 1].score)) continue;
                cand c = {lp[i], b * V + i};
                int at = nt < 2 * B ? nt++ : nt - 1;
                while (at > 0 && cand_cmp(&c, &top[at - 1]) < 0) {
                    top[at] = top[at - 1];
                    at--;
                }
                top[at] = c;
            }
        }
        int cur = len + 1, k = 0;
        for (int r = 0; r < nt && k < B; r++) {
            int b = top[r].flat / V, t = top[r].flat % V;
            if (t == sep) {
                if (r < B) hyp_add(H, B, seq + (size_t)b * ML, len, top[r].score, cur - P, o->length_penalty);
            } else {
                nbs[k] = top[r].score;
                src[k] = b;
                tok[k++] = t;
            }
        }
        if (H->n >= B && H->worst >= top[0].score / pow((double)(cur - P), o->length_penalty)) done = 1;
        for (int j = 0; j < B; j++) {
            memcpy(nseq + (size_t)j * ML, seq + (size_t)src[j] * ML, (size_t)len * sizeof *seq);
            nseq[(size_t)j * ML + len] = tok[j];
        }
        int *ts = seq;
        seq = nseq;
        nseq = ts;
        double *tb = bs;
        bs = nbs;
        nbs = tb;
        len++;
        blip_dec_reorder(d, src);
        if (done || len >= ML) break;
    }
    if (!done)
        for (int b = 0; b < B; b++) hyp_add(H, B, seq + (size_t)b * ML, len, bs[b], len - P, o->length_penalty);
    free(feed);
    free(lp);
    free(top);
    free(tok);
    free(src);
    free(nbs);
    free(bs);
    free(nseq);
    free(seq);
}

void blip_hyps_free(blip_hyp *h, int n)
{
    for (int i = 0; i < n; i++) free(h[i].ids);
    free(h);
}

int blip_generate(const blip_model *m, const float *image, const int *prompt, int nprompt, const blip_opts *o,
                  blip_step_fn cb, void *cb_ctx, int **best, int *nbest, blip_hyp **hyps_out, int *nhyps,
                  ierr *e)
{
    const blip_text_config *t = &m->cfg.text;
    if (o->beams < 1 || o->beams > 64) {
        err_set(e, "blip: %d beams (1..64)", o->beams);
        return -1;
    }
    if (nprompt < 1 || o->max_length > t->max_pos || o->max_length < 1) {
        err_set(e, "blip: max_length %d outside 1..%d (the decoder's positions)", o->max_length, t->max_pos);
        return -1;
    }
    for (int i = 0; i < nprompt; i++)
        if (prompt[i] < 0 || prompt[i] >= t->vocab) {
            err_set(e, "blip: token id %d outside the vocabulary", prompt[i]);
            return -1;
        }
    int B = o->beams, ML = o->max_length > nprompt ? o->max_length : nprompt;
    float *logits = xmalloc((size_t)B * t->vocab * sizeof *logits);
    blip_dec *d = blip_dec_new(m, image, B, ML + 1);
    hyps H = {0};
    if (B == 1) {
        int *seq = xmalloc((size_t)(ML + 1) * sizeof *seq);
        memcpy(seq, prompt, (size_t)nprompt * sizeof *seq);
        int n = nprompt < o->max_length ? greedy(m, d, seq, nprompt, o, cb, cb_ctx, logits) : nprompt;
        H.h = xmalloc(sizeof *H.h);
        H.h[0] = (blip_hyp){seq, n, 0};
        H.n = 1;
    } else if (nprompt < o->max_length) {
        beam(m, d, prompt, nprompt, o, cb, cb_ctx, logits, &H);
        /* Best first; among equal scores the later one (Hugging Face sorts
         * stably and takes the last). */
        for (int i = 1; i < H.n; i++) {
            blip_hyp h = H.h[i];
            int j = i;
            while (j > 0 && H.h[j - 1].score <= h.score) {
                H.h[j] = H.h[j - 1];
                j--;
            }
            H.h[j] = h;
        }
        for (int i = 0; i < H.n; i++)
            if (H.h[i].n < o->max_length) H.h[i].ids[H.h[i].n++] = t->sep;
    } else {
        H.h = xmalloc(sizeof *H.h);
        H.h[0] = (blip_hyp){xmalloc((size_t)nprompt * sizeof(int)), nprompt, 0};
        memcpy(H.h[0].ids, prompt, (size_t)nprompt * sizeof(int));
        H.n = 1;
    }
    blip_dec_free(d);
    free(logits);
    *nbest = H.h[0].n;
    *best = xmalloc((size_t)H.h[0].n * sizeof **best);
    memcpy(*best, H.h[0].ids, (size_t)H.h[0].n * sizeof **best);
    if (hyps_out) {
        *hyps_out = H.h;
        *nhyps = H.n;
    } else {
        blip_hyps_free(H.h, H.n);
    }
    return 0;
}

/* ---- whole images ------------------------------------------------------ */

int blip_captions(blip_model *m, const img *im, const blip_opts *o, char **out, float *scores, int max, ierr *e)
{
    if (!im || im->w < 1 || im->h < 1 || !im->px) {
        err_set(e, "blip: empty image");
        return -1;
    }
    blip_opts def;
    if (!o) {
        blip_opts_default(&def);
        o = &def;
    }
    int S = m->cfg.vision.image, T = blip_vision_tokens(&m->cfg.vision);
    float *chw = xmalloc((size_t)3 * S * S * sizeof *chw);
    float *image = xmalloc((size_t)T * m->cfg.vision.hidden * sizeof *image);
    blip_preprocess(im, S, chw);
    blip_encode_pixels(m, chw, image);
    free(chw);
    int cap = o->max_length > 1 ? o->max_length : 1;
    int *prompt = xmalloc((size_t)cap * sizeof *prompt);
    int np = blip_prompt_ids(m, o->prompt, prompt, cap);
    int *best, nbest, nh = 0;
    blip_hyp *h = NULL;
    int rc = blip_generate(m, image, prompt, np, o, NULL, NULL, &best, &nbest, &h, &nh, e);
    free(prompt);
    free(image);
    if (rc) return -1;
    int k = 0;
    for (; k < nh && k < max; k++) {
        out[k] = blip_decode(m, h[k].ids, h[k].n);
        if (scores) scores[k] = h[k].score;
    }
    blip_hyps_free(h, nh);
    free(best);
    return k;
}

char *blip_caption(blip_model *m, const img *im, const blip_opts *o, ierr *e)
{
    char *c = NULL;
    return blip_captions(m, im, o, &c, NULL, 1, e) == 1 ? c : NULL;
}
