/* clip_image.c — CLIP's image preprocessing, and embedding decoded images.
 *
 * Preprocessing follows OpenAI's published pipeline: the shorter side to S
 * with PIL's antialiased bicubic (the longer one to int(S * long / short)),
 * a centre crop whose offset is Python's round((size - S) / 2) (half to
 * even), pixels / 255 normalised with CLIP's mean and std.
 */
#include <stdlib.h>

#include "models/clip/clip_impl.h"

static const float mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
static const float stdv[3] = {0.26862954f, 0.26130258f, 0.27577711f};

/* Python 3's round() of d / 2: halves go to the even neighbour. */
static int half_round_even(int d)
{
    if (d % 2 == 0) return d / 2;
    int lo = (d - 1) / 2;
    return lo % 2 == 0 ? lo : lo + 1;
}

void clip_preprocess(const img *im, int size, float *chw)
{
    int w, h;
    if (im->w <= im->h) {
        w = size;
        h = (int)((long long)size * im->h / im->w);
    } else {
        h = size;
        w = (int)((long long)size * im->w / im->h);
    }
    img r = {0};
    const img *src = im;
    if (w != im->w || h != im->h) {
        img_resize_bicubic(im, w, h, &r);
        src = &r;
    }
    int top = half_round_even(h - size), left = half_round_even(w - size);
    size_t plane = (size_t)size * size;
    for (int y = 0; y < size; y++) {
        const uint8_t *p = src->px + ((size_t)(y + top) * src->w + left) * 3;
        for (int x = 0; x < size; x++, p += 3)
            for (int c = 0; c < 3; c++)
                chw[c * plane + (size_t)y * size + x] = (p[c] / 255.0f - mean[c]) / stdv[c];
    }
    if (src == &r) img_free(&r);
}

int clip_embed_images(clip_model *m, const img *const *ims, int n, float *out, ierr *e)
{
    if (n <= 0) return 0;
    int S = m->cfg.vision.image;
    for (int b = 0; b < n; b++)
        if (!ims[b] || ims[b]->w < 1 || ims[b]->h < 1 || !ims[b]->px) {
            err_set(e, "clip: image %d is empty", b);
            return -1;
        }
    float *chw = xmalloc((size_t)n * 3 * S * S * sizeof *chw);
    for (int b = 0; b < n; b++) clip_preprocess(ims[b], S, chw + (size_t)b * 3 * S * S);
    int rc = clip_embed_pixels(m, chw, n, out, e);
    free(chw);
    return rc;
}

int clip_embed_image(clip_model *m, const img *im, float *out, ierr *e)
{
    return clip_embed_images(m, &im, 1, out, e);
}
