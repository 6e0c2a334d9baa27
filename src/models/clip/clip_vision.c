/* clip_vision.c — CLIP's vision tower (preprocessing is in clip_image.c).
 *
 * A ViT: a stride-P convolution without bias (the shared patch embedding),
 * the class token, position embeddings, a pre-layernorm, the encoder, then
 * post-layernorm and projection of the class token.
 */
#include <stdlib.h>

#include "engine/ops_nn.h"
#include "models/clip/clip_impl.h"

int clip_embed_pixels(clip_model *m, const float *chw, int n, float *out, ierr *e)
{
    (void)e;
    if (n <= 0) return 0;
    const clip_tower *t = &m->vision;
    const clip_tower_config *c = &t->c;
    int S = c->image, P = c->patch, G = S / P, T = G * G + 1, D = c->hidden;
    float *emb = xmalloc((size_t)n * G * G * D * sizeof *emb);
    nn_patch_embed(chw, n, c->channels, S, S, P, t->patch_w, NULL, D, emb);
    float *x = xmalloc((size_t)n * T * D * sizeof *x);
    int *lens = xmalloc((size_t)n * sizeof *lens);
    for (int b = 0; b < n; b++) {
        float *xb = x + (size_t)b * T * D;
        for (int k = 0; k < D; k++) xb[k] = t->cls_emb[k] + t->pos_emb[k];
        for (int p = 0; p < G * G; p++) {
            const float *src = emb + ((size_t)b * G * G + p) * D, *pe = t->pos_emb + (size_t)(p + 1) * D;
            float *row = xb + (size_t)(p + 1) * D;
            for (int k = 0; k < D; k++) row[k] = src[k] + pe[k];
        }
        lens[b] = T;
    }
    free(emb);
    nn_layernorm(x, x, n * T, D, t->pre_g, t->pre_b, c->eps);
    nn_work w = {0};
    clip_encoder(t, x, n, lens, 0, &w);
    for (int b = 0; b < n; b++)
        clip_head(t, x + (size_t)b * T * D, m->cfg.proj_dim, out + (size_t)b * m->cfg.proj_dim);
    nn_work_free(&w);
    free(lens);
    free(x);
    return 0;
}
