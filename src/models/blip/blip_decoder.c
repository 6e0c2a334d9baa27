/* blip_decoder.c — BLIP's text decoder: a BERT whose layers also attend to
 * the image, run one step at a time with cached keys and values.
 *
 * Every layer's image keys and values are computed once per caption (the
 * image does not change while the words do) and shared by all beams; each
 * beam keeps the keys and values of its own words, so a step feeds only the
 * newest word through the stack.  Layers are post-LN (BERT):
 *   x = ln(x + self(x));  x = ln(x + cross(x, image));  x = ln(x + ffn(x)).
 */
#include <stdlib.h>
#include <string.h>

#include "models/blip/blip_impl.h"

struct blip_dec {
    const blip_model *m;
    int beams, cap, len, T;     /* T image tokens */
    float **ck, **cv;           /* per layer: T x D image keys / values */
    float **sk, **sv;           /* per layer: beams x cap x D word keys / values */
    float *swap;                /* beams x cap x D, for reordering */
    nn_work w;
};

blip_dec *blip_dec_new(const blip_model *m, const float *image, int beams, int max_len)
{
    const blip_text_config *t = &m->cfg.text;
    int L = t->layers, D = t->hidden;
    blip_dec *d = xcalloc(1, sizeof *d);
    d->m = m;
    d->beams = beams;
    d->cap = max_len;
    d->T = blip_vision_tokens(&m->cfg.vision);
    d->ck = xcalloc((size_t)L, sizeof *d->ck);
    d->cv = xcalloc((size_t)L, sizeof *d->cv);
    d->sk = xcalloc((size_t)L, sizeof *d->sk);
    d->sv = xcalloc((size_t)L, sizeof *d->sv);
    size_t self = (size_t)beams * max_len * D;
    for (int l = 0; l < L; l++) {
        d->ck[l] = xmalloc((size_t)d->T * D * sizeof(float));
        d->cv[l] = xmalloc((size_t)d->T * D * sizeof(float));
        nn_attn_project_kv(&m->tl[l].cross, image, d->T, d->ck[l], D, d->cv[l], D);
        d->sk[l] = xmalloc(self * sizeof(float));
        d->sv[l] = xmalloc(self * sizeof(float));
    }
    d->swap = xmalloc(self * sizeof(float));
    return d;
}

void blip_dec_free(blip_dec *d)
{
    if (!d) return;
    for (int l = 0; l < d->m->cfg.text.layers; l++) {
        free(d->ck[l]);
        free(d->cv[l]);
        free(d->sk[l]);
        free(d->sv[l]);
    }
    free(d->ck);
    free(d->cv);
    free(d->sk);
    free(d->sv);
    free(d->swap);
    nn_work_free(&d->w);
    free(d);
}

void blip_dec_step(blip_dec *d, const int *ids, int n, float *logits)
{
    const blip_model *m = d->m;
    const blip_text_config *t = &m->cfg.text;
    int D = t->hidden, B = d->beams, R = B * n, past = d->len;
    nn_work *w = &d->w;
    /* slots 0..3 belong to the blocks */
    float *x = nn_work_get(w, 4, (size_t)R * D);
    float *buf = nn_work_get(w, 5, (size_t)R * D * 2);
    float *q = buf, *ctx = buf + (size_t)R * D;
    for (int r = 0; r < R; r++) {
        const float *we = m->word_emb + (size_t)ids[r] * D, *pe = m->tpos_emb + (size_t)(past + r % n) * D;
        for (int k = 0; k < D; k++) x[(size_t)r * D + k] = we[k] + pe[k];
    }
    nn_norm_apply(&m->emb_ln, x, x, R, D);
    for (int li = 0; li < t->layers; li++) {
        const blip_text_layer *l = &m->tl[li];
        /* Self-attention: the new words' keys and values join each beam's cache. */
        float *scores = nn_work_get(w, 3, (size_t)n * (past + n > d->T ? past + n : d->T));
        nn_attn_project_q(&l->self, x, R, q);
        for (int b = 0; b < B; b++) {
            size_t at = ((size_t)b * d->cap + past) * D;
            nn_attn_project_kv(&l->self, x + (size_t)b * n * D, n, d->sk[li] + at, D, d->sv[li] + at, D);
            const float *kb = d->sk[li] + (size_t)b * d->cap * D, *vb = d->sv[li] + (size_t)b * d->cap * D;
            nn_attention_ex(q + (size_t)b * n * D, D, kb, D, vb, D, n, past + n, D, t->heads, past, NULL, NULL,
                            ctx + (size_t)b * n * D, D, scores);
        }
        nn_attn_output(&l->self, ctx, R, x, 1);
        nn_norm_apply(&l->self_ln, x, x, R, D);
        /* Cross-attention to the image, the same keys for every beam. */
        nn_attn_project_q(&l->cross, x, R, q);
        for (int b = 0; b < B; b++)
            nn_attention_ex(q + (size_t)b * n * D, D, d->ck[li], D, d->cv[li], D, n, d->T, D, t->heads, -1,
                            NULL, NULL, ctx + (size_t)b * n * D, D, scores);
        nn_attn_output(&l->cross, ctx, R, x, 1);
        nn_norm_apply(&l->cross_ln, x, x, R, D);
        nn_mlp_forward(&l->ffn, x, R, x, 1, w);
        nn_norm_apply(&l->ffn_ln, x, x, R, D);
    }
    d->len += n;
    /* The prediction head on each beam's last position only. */
    float *last = q, *h = ctx;
    for (int b = 0; b < B; b++)
        memcpy(last + (size_t)b * D, x + ((size_t)b * n + n - 1) * D, (size_t)D * sizeof *last);
    nn_linear(last, B, D, m->head_w, m->head_b, D, h, 0);
    nn_act_apply(t->act, h, (size_t)B * D);
    nn_norm_apply(&m->head_ln, h, h, B, D);
    nn_linear(h, B, D, m->dec_w, m->dec_b, t->vocab, logits, 0);
}

void blip_dec_reorder(blip_dec *d, const int *src)
{
    int D = d->m->cfg.text.hidden;
    size_t row = (size_t)d->cap * D, used = (size_t)d->len * D;
    for (int l = 0; l < d->m->cfg.text.layers; l++) {
        float **caches[2] = {&d->sk[l], &d->sv[l]};
        for (int c = 0; c < 2; c++) {
            float *old = *caches[c];
            for (int j = 0; j < d->beams; j++)
                memcpy(d->swap + j * row, old + (size_t)src[j] * row, used * sizeof(float));
            *caches[c] = d->swap;
            d->swap = old;
        }
    }
}
