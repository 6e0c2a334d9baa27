/* resize.c — img_resize (area-averaging down, bilinear up) and img_crop.
 *
 * Separable: each axis gets a table of (first source index, weights) per
 * output index, then one horizontal pass into a float buffer and one
 * vertical pass back to bytes.  Downscaling weights are the exact overlap of
 * the output pixel's footprint with each source pixel (a box filter over
 * the true area), which is what keeps thumbnails free of aliasing; upscaling
 * interpolates linearly between pixel centres.
 */
#include "image/image_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct axis {
    int *first;      /* first source index of each output index */
    int *count;      /* number of weights */
    float *w;        /* weights, `stride` per output index */
    int stride;
} axis;

static void axis_free(axis *a)
{
    free(a->first);
    free(a->count);
    free(a->w);
}

static void axis_make(axis *a, int in, int out)
{
    double scale = (double)in / out;
    a->stride = scale > 1 ? (int)ceil(scale) + 2 : 2;
    a->first = xmalloc(sizeof(int) * out);
    a->count = xmalloc(sizeof(int) * out);
    a->w = xcalloc((size_t)out * a->stride, sizeof(float));
    for (int i = 0; i < out; i++) {
        float *w = a->w + (size_t)i * a->stride;
        if (scale > 1) {
            double lo = i * scale, hi = lo + scale;
            int j0 = (int)floor(lo), j1 = (int)ceil(hi);
            if (j1 > in) j1 = in;
            int k = 0;
            for (int j = j0; j < j1 && k < a->stride; j++, k++) {
                double ov = fmin(hi, j + 1.0) - fmax(lo, (double)j);
                w[k] = (float)(ov > 0 ? ov / scale : 0);
            }
            a->first[i] = j0;
            a->count[i] = k;
        } else {
            double c = (i + 0.5) * scale - 0.5;
            if (c < 0) c = 0;
            int j = (int)floor(c);
            if (j >= in - 1) {
                a->first[i] = in - 1;
                a->count[i] = 1;
                w[0] = 1;
            } else {
                float f = (float)(c - j);
                a->first[i] = j;
                a->count[i] = 2;
                w[0] = 1 - f;
                w[1] = f;
            }
        }
    }
}

void img_resize(const img *src, int w, int h, img *dst)
{
    if (w < 1) w = 1;
    if (h < 1) h = 1;
    img_xalloc(dst, w, h);
    if (w == src->w && h == src->h) {
        memcpy(dst->px, src->px, (size_t)w * h * 3);
        return;
    }
    axis ax, ay;
    axis_make(&ax, src->w, w);
    axis_make(&ay, src->h, h);
    /* Horizontal pass over every source row: src->h × w floats. */
    float *tmp = xmalloc(sizeof(float) * (size_t)src->h * w * 3);
    for (int y = 0; y < src->h; y++) {
        const uint8_t *row = src->px + (size_t)y * src->w * 3;
        float *t = tmp + (size_t)y * w * 3;
        for (int x = 0; x < w; x++) {
            const float *wt = ax.w + (size_t)x * ax.stride;
            const uint8_t *p = row + (size_t)ax.first[x] * 3;
            float r = 0, g = 0, b = 0;
            for (int k = 0; k < ax.count[x]; k++, p += 3) {
                r += wt[k] * p[0];
                g += wt[k] * p[1];
                b += wt[k] * p[2];
            }
            t[3 * x] = r;
            t[3 * x + 1] = g;
            t[3 * x + 2] = b;
        }
    }
    float *acc = xmalloc(sizeof(float) * (size_t)w * 3);
    for (int y = 0; y < h; y++) {
        const float *wt = ay.w + (size_t)y * ay.stride;
        memset(acc, 0, sizeof(float) * (size_t)w * 3);
        for (int k = 0; k < ay.count[y]; k++) {
            const float *t = tmp + (size_t)(ay.first[y] + k) * w * 3;
            float c = wt[k];
            for (int i = 0; i < w * 3; i++) acc[i] += c * t[i];
        }
        uint8_t *o = dst->px + (size_t)y * w * 3;
        for (int i = 0; i < w * 3; i++) {
            float v = acc[i] + 0.5f;
            o[i] = v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)v;
        }
    }
    free(acc);
    free(tmp);
    axis_free(&ax);
    axis_free(&ay);
}

void img_crop(const img *src, int x, int y, int w, int h, img *dst)
{
    /* Clamp the rectangle to the image; an empty result is 1x1 at the clamp. */
    if (x < 0) { w += x; x = 0; }
    if (y < 0) { h += y; y = 0; }
    if (x > src->w - 1) x = src->w - 1;
    if (y > src->h - 1) y = src->h - 1;
    if (w > src->w - x) w = src->w - x;
    if (h > src->h - y) h = src->h - y;
    if (w < 1) w = 1;
    if (h < 1) h = 1;
    img_xalloc(dst, w, h);
    for (int r = 0; r < h; r++)
        memcpy(dst->px + (size_t)r * w * 3, src->px + ((size_t)(y + r) * src->w + x) * 3, (size_t)w * 3);
}
