/* prep.c — pre- and post-processing shared by the vision models.
 *
 * Resampling writes straight into the model's input tensor: one pass over
 * the source pixels per axis, no intermediate image, no second copy.  The
 * same algorithm is written independently in tests/node/vision-ref.js so
 * that the C pipelines and the tfjs reference see the same input.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "models/prep.h"

tfjs_model *vm_load(const char *name, ierr *e)
{
    const model_info *mi = models_find(name);
    char dir[2048], path[4096];
    path_models_dir(dir, sizeof dir);
    for (int i = 0; mi && i < 8 && mi->files[i]; i++) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, mi->files[i]);
        if (stat(path, &st) != 0) {
            err_set(e, "%s: model file missing in %s (run scripts/setup or `imgdex models fetch %s`)",
                    mi->files[i], dir, name);
            return NULL;
        }
    }
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    return tfjs_load(path, e);
}

/* Per output sample of one axis: the first source index and the weights of
 * the consecutive source samples it blends. */
typedef struct taps {
    int *first, *count;
    float *w;        /* count[o] weights starting at w + o*maxtaps */
    int maxtaps;
} taps;

static void taps_make(int src_n, int dst_n, taps *t)
{
    double scale = (double)src_n / dst_n;
    t->maxtaps = scale > 1 ? (int)ceil(scale) + 2 : 2;
    t->first = xmalloc(sizeof(int) * (size_t)dst_n);
    t->count = xmalloc(sizeof(int) * (size_t)dst_n);
    t->w = xmalloc(sizeof(float) * (size_t)dst_n * (size_t)t->maxtaps);
    for (int o = 0; o < dst_n; o++) {
        float *w = t->w + (size_t)o * t->maxtaps;
        int n = 0;
        if (scale > 1) {
            /* Area average: the weight of source sample s is the length of
             * [s, s+1) inside the output sample's footprint [a, b). */
            double a = o * scale, b = (o + 1) * scale;
            int s0 = (int)floor(a), s1 = (int)ceil(b);
            if (s1 > src_n) s1 = src_n;
            t->first[o] = s0;
            for (int s = s0; s < s1; s++) {
                double lo = a > s ? a : s, hi = b < s + 1 ? b : s + 1;
                w[n++] = hi > lo ? (float)((hi - lo) / scale) : 0.f;
            }
        } else {
            double c = (o + 0.5) * scale - 0.5;
            if (c < 0) c = 0;
            if (c > src_n - 1) c = src_n - 1;
            int s0 = (int)floor(c);
            float f = (float)(c - s0);
            t->first[o] = s0;
            w[n++] = 1.f - f;
            if (f > 0 && s0 + 1 < src_n) w[n++] = f;
        }
        t->count[o] = n;
    }
}

static void taps_free(taps *t)
{
    free(t->first);
    free(t->count);
    free(t->w);
}

void vm_resample(const img *im, int sx, int sy, int sw, int sh,
                 float *dst, int dw, int dh, int stride, float mul, float add)
{
    taps tx, ty;
    taps_make(sw, dw, &tx);
    taps_make(sh, dh, &ty);
    /* Horizontal pass over only the source rows some output row reads. */
    int rlo = ty.first[0], rhi = ty.first[dh - 1] + ty.count[dh - 1];
    float *tmp = xmalloc(sizeof(float) * (size_t)(rhi - rlo) * (size_t)dw * 3);
    for (int y = rlo; y < rhi; y++) {
        const uint8_t *row = im->px + ((size_t)(sy + y) * (size_t)im->w + (size_t)sx) * 3;
        float *out = tmp + (size_t)(y - rlo) * (size_t)dw * 3;
        for (int x = 0; x < dw; x++) {
            const uint8_t *p = row + (size_t)tx.first[x] * 3;
            const float *w = tx.w + (size_t)x * tx.maxtaps;
            float r = 0, g = 0, b = 0;
            for (int k = 0; k < tx.count[x]; k++, p += 3) {
                r += w[k] * p[0];
                g += w[k] * p[1];
                b += w[k] * p[2];
            }
            out[3 * x] = r;
            out[3 * x + 1] = g;
            out[3 * x + 2] = b;
        }
    }
    /* Vertical pass, then the value transform, straight into dst. */
    for (int y = 0; y < dh; y++) {
        float *out = dst + (size_t)y * (size_t)stride;
        const float *w = ty.w + (size_t)y * ty.maxtaps;
        const float *src = tmp + (size_t)(ty.first[y] - rlo) * (size_t)dw * 3;
        for (int i = 0; i < dw * 3; i++) out[i] = w[0] * src[i];
        for (int k = 1; k < ty.count[y]; k++) {
            const float *s = src + (size_t)k * (size_t)dw * 3;
            for (int i = 0; i < dw * 3; i++) out[i] += w[k] * s[i];
        }
        if (mul != 1.f || add != 0.f)
            for (int i = 0; i < dw * 3; i++) out[i] = out[i] * mul + add;
    }
    free(tmp);
    taps_free(&tx);
    taps_free(&ty);
}

void vm_letterbox(const img *im, int side, float *dst, float mul, float add, letterbox *lb)
{
    double scale = (double)side / (im->w > im->h ? im->w : im->h);
    int nw = (int)lround(im->w * scale), nh = (int)lround(im->h * scale);
    if (nw < 1) nw = 1;
    if (nh < 1) nh = 1;
    if (nw > side) nw = side;
    if (nh > side) nh = side;
    lb->side = side;
    lb->nw = nw;
    lb->nh = nh;
    lb->ox = (side - nw) / 2;
    lb->oy = (side - nh) / 2;
    /* Only the padding strips get the fill value; the picture is written
     * once, by the resampler. */
    size_t rowf = (size_t)side * 3;
    for (int y = 0; y < side; y++) {
        float *row = dst + (size_t)y * rowf;
        if (y < lb->oy || y >= lb->oy + nh) {
            for (size_t i = 0; i < rowf; i++) row[i] = add;
            continue;
        }
        for (int i = 0; i < lb->ox * 3; i++) row[i] = add;
        for (size_t i = (size_t)(lb->ox + nw) * 3; i < rowf; i++) row[i] = add;
    }
    vm_resample(im, 0, 0, im->w, im->h, dst + (size_t)lb->oy * rowf + (size_t)lb->ox * 3,
                nw, nh, side * 3, mul, add);
}

static float clamp01(float v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

float lb_x(const letterbox *lb, float px) { return clamp01((px - (float)lb->ox) / (float)lb->nw); }
float lb_y(const letterbox *lb, float py) { return clamp01((py - (float)lb->oy) / (float)lb->nh); }

float vm_iou(const det_box *a, const det_box *b)
{
    float ix = fminf(a->x1, b->x1) - fmaxf(a->x0, b->x0);
    float iy = fminf(a->y1, b->y1) - fmaxf(a->y0, b->y0);
    if (ix <= 0 || iy <= 0) return 0;
    float inter = ix * iy;
    float u = (a->x1 - a->x0) * (a->y1 - a->y0) + (b->x1 - b->x0) * (b->y1 - b->y0) - inter;
    return u > 0 ? inter / u : 0;
}

static int by_score(const void *pa, const void *pb)
{
    const det_box *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return 0;
}

int vm_nms(det_box *b, int n, float iou)
{
    qsort(b, (size_t)n, sizeof *b, by_score);
    if (iou >= 1) return n;
    int kept = 0;
    for (int i = 0; i < n; i++) {
        int drop = 0;
        for (int k = 0; k < kept && !drop; k++)
            drop = b[k].cls == b[i].cls && vm_iou(&b[k], &b[i]) > iou;
        if (!drop) b[kept++] = b[i];
    }
    return kept;
}
