/* clip_text.c — the text tower.
 *
 * Token + position embeddings, the causal transformer, the final layer norm
 * and projection at the end token.  Because attention is causal, nothing
 * after the end token can change its feature, so each text is run only up
 * to and including it (a short query is ~8 tokens, not 77) — exact, and
 * about ten times less work than the padded sequence CLIP itself runs.
 */
#include <stdlib.h>
#include <string.h>

#include "models/clip/clip_impl.h"

/* Where the feature is read: the first occurrence of the largest id
 * (CLIP's argmax over the ids, the end token being the last in the vocabulary). */
static int end_position(const int *ids, int len)
{
    int best = 0;
    for (int i = 1; i < len; i++)
        if (ids[i] > ids[best]) best = i;
    return best;
}

static int embed_token_seqs(clip_model *m, const int *const *ids, const int *lens, int n, float *out,
                            ierr *e)
{
    const clip_tower *t = &m->text;
    int D = t->c.hidden, R = 0;
    int *use = xmalloc((size_t)n * sizeof *use);
    for (int s = 0; s < n; s++) {
        if (lens[s] < 1 || lens[s] > t->c.max_pos) {
            err_set(e, "clip: %d tokens (the text tower takes 1..%d)", lens[s], t->c.max_pos);
            free(use);
            return -1;
        }
        for (int i = 0; i < lens[s]; i++)
            if (ids[s][i] < 0 || ids[s][i] >= t->c.vocab) {
                err_set(e, "clip: token id %d outside the vocabulary (0..%d)", ids[s][i], t->c.vocab - 1);
                free(use);
                return -1;
            }
        use[s] = end_position(ids[s], lens[s]) + 1;
        R += use[s];
    }
    float *x = xmalloc((size_t)R * D * sizeof *x);
    for (int s = 0, off = 0; s < n; off += use[s++])
        for (int i = 0; i < use[s]; i++) {
            const float *te = t->tok_emb + (size_t)ids[s][i] * D, *pe = t->pos_emb + (size_t)i * D;
            float *row = x + (size_t)(off + i) * D;
            for (int k = 0; k < D; k++) row[k] = te[k] + pe[k];
        }
    nn_work w = {0};
    clip_encoder(t, x, n, use, 1, &w);
    for (int s = 0, off = 0; s < n; off += use[s++])
        clip_head(t, x + (size_t)(off + use[s] - 1) * D, m->cfg.proj_dim, out + (size_t)s * m->cfg.proj_dim);
    nn_work_free(&w);
    free(x);
    free(use);
    return 0;
}

int clip_embed_tokens(clip_model *m, const int *ids, int len, float *out, ierr *e)
{
    return embed_token_seqs(m, &ids, &len, 1, out, e);
}

int clip_embed_texts(clip_model *m, const char *const *texts, int n, float *out, ierr *e)
{
    if (n <= 0) return 0;
    int ctx = m->cfg.text.max_pos;
    int *ids = xmalloc((size_t)n * ctx * sizeof *ids);
    int *lens = xmalloc((size_t)n * sizeof *lens);
    const int **seqs = xmalloc((size_t)n * sizeof *seqs);
    for (int s = 0; s < n; s++) {
        lens[s] = bpe_tokenize(m->vocab, texts[s] ? texts[s] : "", ids + (size_t)s * ctx, ctx);
        seqs[s] = ids + (size_t)s * ctx;
    }
    int rc = embed_token_seqs(m, seqs, lens, n, out, e);
    free(seqs);
    free(lens);
    free(ids);
    return rc;
}

int clip_embed_text(clip_model *m, const char *text, float *out, ierr *e)
{
    return clip_embed_texts(m, &text, 1, out, e);
}
