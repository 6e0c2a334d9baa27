/* clip_encoder.c — the pre-LN transformer stack shared by both towers.
 *
 * All sequences of a batch are packed row after row into one matrix, so
 * every projection and MLP is a single GEMM over the whole batch; only
 * attention looks at one sequence at a time (src/models/nn/blocks.h).
 */
#include <math.h>
#include <stdlib.h>

#include "models/clip/clip_impl.h"

void clip_encoder(const clip_tower *t, float *x, int nseq, const int *len, int causal, nn_work *w)
{
    const clip_tower_config *c = &t->c;
    int D = c->hidden, R = 0;
    for (int s = 0; s < nseq; s++) R += len[s];
    /* slot 4: the normed rows (slots 0..3 belong to the blocks) */
    float *h = nn_work_get(w, 4, (size_t)R * D);
    for (int li = 0; li < c->layers; li++) {
        const clip_layer *l = &t->layers[li];
        nn_norm_apply(&l->ln1, x, h, R, D);
        nn_attn_forward(&l->attn, h, NULL, nseq, len, NULL, causal, NULL, NULL, x, 1, w);
        nn_norm_apply(&l->ln2, x, h, R, D);
        nn_mlp_forward(&l->mlp, h, R, x, 1, w);
    }
}

void clip_head(const clip_tower *t, const float *row, int proj_dim, float *out)
{
    int D = t->c.hidden;
    float *h = xmalloc((size_t)D * sizeof *h);
    nn_layernorm(row, h, 1, D, t->final_g, t->final_b, t->c.eps);
    nn_linear(h, 1, D, t->proj, NULL, proj_dim, out, 0);
    double ss = 0;
    for (int i = 0; i < proj_dim; i++) ss += (double)out[i] * out[i];
    float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
    for (int i = 0; i < proj_dim; i++) out[i] *= inv;
    free(h);
}
