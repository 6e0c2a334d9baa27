/* bicubic.c — img_resize_bicubic and img_resize_bilinear: the same numbers
 * as PIL's Image.resize(size, Image.BICUBIC / Image.BILINEAR), because CLIP
 * and SAM were trained on images PIL prepared and their outputs drift when
 * the pixels do.
 *
 * What PIL does (libImaging/Resample.c, read for behaviour, not copied):
 *  - a separable convolution with the Keys cubic, a = -0.5, support 2
 *    (bilinear: the triangle 1 - |x|, support 1);
 *  - when shrinking, the kernel is stretched by the scale factor (support
 *    2*scale), which is the antialiasing;
 *  - for output index i the centre is (i + 0.5) * scale, the taps run from
 *    int(centre - support + 0.5) (clamped at 0) to int(centre + support + 0.5)
 *    (clamped at the size), weights are normalised to sum 1;
 *  - 8-bit images use fixed-point weights with 22 fractional bits, each
 *    rounded half away from zero, accumulation starts at one half, and the
 *    result is shifted and clamped to 0..255;
 *  - the horizontal pass runs first, into an 8-bit image, then the vertical
 *    pass; a pass whose size does not change is skipped.
 */
#include "image/image_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREC 22

static double triangle(double x)
{
    if (x < 0) x = -x;
    return x < 1 ? 1 - x : 0;
}

static double cubic(double x)
{
    const double a = -0.5;
    if (x < 0) x = -x;
    if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
    return 0;
}

typedef struct taps {
    int ksize;
    int *lo, *n;     /* first tap and tap count per output index */
    int32_t *k;      /* ksize fixed-point weights per output index */
} taps;

typedef struct filter {
    double (*fn)(double);
    double support;
} filter;

static const filter f_cubic = {cubic, 2.0}, f_triangle = {triangle, 1.0};

static void taps_make(taps *t, int in, int out, const filter *f)
{
    double scale = (double)in / out, fscale = scale < 1 ? 1 : scale;
    double support = f->support * fscale;
    t->ksize = (int)ceil(support) * 2 + 1;
    t->lo = xmalloc(sizeof(int) * out);
    t->n = xmalloc(sizeof(int) * out);
    t->k = xcalloc((size_t)out * t->ksize, sizeof(int32_t));
    double *w = xmalloc(sizeof(double) * t->ksize);
    for (int i = 0; i < out; i++) {
        double centre = (i + 0.5) * scale;
        int lo = (int)(centre - support + 0.5);
        int hi = (int)(centre + support + 0.5);
        if (lo < 0) lo = 0;
        if (hi > in) hi = in;
        int n = hi - lo;
        if (n > t->ksize) n = t->ksize;
        double sum = 0;
        for (int j = 0; j < n; j++) {
            w[j] = f->fn((j + lo - centre + 0.5) / fscale);
            sum += w[j];
        }
        int32_t *k = t->k + (size_t)i * t->ksize;
        for (int j = 0; j < n; j++) {
            double v = sum != 0 ? w[j] / sum : w[j];
            v *= (double)(1 << PREC);
            k[j] = (int32_t)(v < 0 ? v - 0.5 : v + 0.5);
        }
        t->lo[i] = lo;
        t->n[i] = n;
    }
    free(w);
}

static void taps_free(taps *t)
{
    free(t->lo);
    free(t->n);
    free(t->k);
}

static inline uint8_t clip8(int64_t v)
{
    v >>= PREC;
    return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

static void pass_h(const img *s, img *d, int w, const filter *f)
{
    taps t;
    taps_make(&t, s->w, w, f);
    img_xalloc(d, w, s->h);
    for (int y = 0; y < s->h; y++) {
        const uint8_t *row = s->px + (size_t)y * s->w * 3;
        uint8_t *o = d->px + (size_t)y * w * 3;
        for (int x = 0; x < w; x++) {
            const int32_t *k = t.k + (size_t)x * t.ksize;
            const uint8_t *p = row + (size_t)t.lo[x] * 3;
            int64_t r = 1 << (PREC - 1), g = r, b = r;
            for (int j = 0; j < t.n[x]; j++, p += 3) {
                r += (int64_t)p[0] * k[j];
                g += (int64_t)p[1] * k[j];
                b += (int64_t)p[2] * k[j];
            }
            o[3 * x] = clip8(r);
            o[3 * x + 1] = clip8(g);
            o[3 * x + 2] = clip8(b);
        }
    }
    taps_free(&t);
}

static void pass_v(const img *s, img *d, int h, const filter *f)
{
    taps t;
    taps_make(&t, s->h, h, f);
    img_xalloc(d, s->w, h);
    size_t stride = (size_t)s->w * 3;
    for (int y = 0; y < h; y++) {
        const int32_t *k = t.k + (size_t)y * t.ksize;
        uint8_t *o = d->px + (size_t)y * stride;
        for (size_t i = 0; i < stride; i++) {
            int64_t acc = 1 << (PREC - 1);
            const uint8_t *p = s->px + (size_t)t.lo[y] * stride + i;
            for (int j = 0; j < t.n[y]; j++, p += stride) acc += (int64_t)*p * k[j];
            o[i] = clip8(acc);
        }
    }
    taps_free(&t);
}

static void resample(const img *src, int w, int h, img *dst, const filter *f)
{
    if (w < 1) w = 1;
    if (h < 1) h = 1;
    img mid = *src;
    int own_mid = 0;
    if (w != src->w) {
        pass_h(src, &mid, w, f);
        own_mid = 1;
    }
    if (h != src->h) {
        pass_v(&mid, dst, h, f);
    } else if (own_mid) {
        *dst = mid;
        return;
    } else {
        img_xalloc(dst, w, h);
        memcpy(dst->px, src->px, (size_t)w * h * 3);
    }
    if (own_mid) img_free(&mid);
}

void img_resize_bicubic(const img *src, int w, int h, img *dst) { resample(src, w, h, dst, &f_cubic); }
void img_resize_bilinear(const img *src, int w, int h, img *dst) { resample(src, w, h, dst, &f_triangle); }
