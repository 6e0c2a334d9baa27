/* sam_image.c — SAM's image preprocessing as the reference processor does
 * it: the longer side to S (the shorter int(side * S / longer + 0.5)) with
 * PIL's bilinear filter, pixels / 255 normalised with ImageNet's mean and
 * std, then zeros to the right and below up to S x S.  Prompts and masks
 * live in that top-left frame. */
#include <string.h>

#include "models/sam/sam_impl.h"

static const float mean[3] = {0.485f, 0.456f, 0.406f};
static const float stdv[3] = {0.229f, 0.224f, 0.225f};

void sam_resized_shape(int w, int h, int S, int *rw, int *rh)
{
    double s = (double)S / (w > h ? w : h);
    *rw = (int)(w * s + 0.5);
    *rh = (int)(h * s + 0.5);
    if (*rw < 1) *rw = 1;
    if (*rh < 1) *rh = 1;
}

void sam_preprocess(const img *im, int S, float *chw, int *rw, int *rh)
{
    int w, h;
    sam_resized_shape(im->w, im->h, S, &w, &h);
    img r = {0};
    const img *src = im;
    if (w != im->w || h != im->h) {
        img_resize_bilinear(im, w, h, &r);
        src = &r;
    }
    size_t plane = (size_t)S * S;
    memset(chw, 0, 3 * plane * sizeof *chw);
    for (int y = 0; y < h; y++) {
        const uint8_t *p = src->px + (size_t)y * w * 3;
        for (int x = 0; x < w; x++, p += 3)
            for (int c = 0; c < 3; c++)
                chw[c * plane + (size_t)y * S + x] = (float)((p[c] / 255.0 - mean[c]) / stdv[c]);
    }
    if (src == &r) img_free(&r);
    if (rw) *rw = w;
    if (rh) *rh = h;
}
