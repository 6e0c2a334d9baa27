/* blip_vision.c — BLIP's image preprocessing and ViT image encoder.
 *
 * Preprocessing is BlipImageProcessor's: the whole image resized to S x S
 * (no crop; PIL's antialiased bicubic), / 255, CLIP's mean and std.  The
 * encoder is a pre-LN ViT: a stride-16 convolution with bias, the class
 * token, learned positions, the layers, then a final layer norm on every
 * token — all 577 of them are what the text decoder attends to.
 */
#include <stdlib.h>
#include <string.h>

#include "models/blip/blip_impl.h"

static const float mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
static const float stdv[3] = {0.26862954f, 0.26130258f, 0.27577711f};

void blip_preprocess(const img *im, int size, float *chw)
{
    img r = {0};
    const img *src = im;
    if (im->w != size || im->h != size) {
        img_resize_bicubic(im, size, size, &r);
        src = &r;
    }
    size_t plane = (size_t)size * size;
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++) chw[c * plane + i] = (src->px[i * 3 + c] / 255.0f - mean[c]) / stdv[c];
    if (src == &r) img_free(&r);
}

void blip_encode_pixels(const blip_model *m, const float *chw, float *out)
{
    const blip_vision_config *c = &m->cfg.vision;
    int S = c->image, P = c->patch, G = S / P, T = G * G + 1, D = c->hidden;
    float *x = out;
    /* Patches straight into rows 1..T-1, then the class token in row 0. */
    nn_patch_embed(chw, 1, 3, S, S, P, m->patch_w, m->patch_b, D, x + D);
    memcpy(x, m->cls_emb, (size_t)D * sizeof *x);
    for (size_t i = 0; i < (size_t)T * D; i++) x[i] += m->vpos_emb[i];
    nn_work w = {0};
    float *h = nn_work_get(&w, 4, (size_t)T * D);
    for (int li = 0; li < c->layers; li++) {
        const blip_vision_layer *l = &m->vl[li];
        nn_norm_apply(&l->ln1, x, h, T, D);
        nn_attn_forward(&l->attn, h, NULL, 1, &T, NULL, 0, NULL, NULL, x, 1, &w);
        nn_norm_apply(&l->ln2, x, h, T, D);
        nn_mlp_forward(&l->mlp, h, T, x, 1, &w);
    }
    nn_norm_apply(&m->post_ln, x, x, T, D);
    nn_work_free(&w);
}
