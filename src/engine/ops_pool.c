/* ops_pool.c — max and average pooling, NHWC.  As in TensorFlow, padded
 * positions are ignored: max over the valid taps, average divided by the
 * number of valid taps. */
#include <float.h>

#include "engine/ops.h"
#include "engine/pool.h"
#include "engine/simd.h"

typedef struct pool_job {
    const float *x;
    float *y;
    int h, w, c, kh, kw, oh, ow, sh, sw, pt, pl, is_max;
} pool_job;

HOT_LOOPS static void pool_rows(void *ctx, long begin, long end)
{
    const pool_job *j = ctx;
    int c = j->c;
    for (long r = begin; r < end; r++) {
        int b = (int)(r / j->oh), oy = (int)(r % j->oh);
        const float *img = j->x + (size_t)b * j->h * j->w * c;
        int y0 = oy * j->sh - j->pt, y1 = y0 + j->kh;
        if (y0 < 0) y0 = 0;
        if (y1 > j->h) y1 = j->h;
        for (int ox = 0; ox < j->ow; ox++) {
            int x0 = ox * j->sw - j->pl, x1 = x0 + j->kw;
            if (x0 < 0) x0 = 0;
            if (x1 > j->w) x1 = j->w;
            float *restrict out = j->y + ((size_t)r * j->ow + ox) * c;
            if (j->is_max) {
                for (int ch = 0; ch < c; ch++) out[ch] = -FLT_MAX;
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) {
                        const float *restrict in = img + ((size_t)iy * j->w + ix) * c;
                        for (int ch = 0; ch < c; ch++) out[ch] = in[ch] > out[ch] ? in[ch] : out[ch];
                    }
                continue;
            }
            for (int ch = 0; ch < c; ch++) out[ch] = 0;
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++) {
                    const float *restrict in = img + ((size_t)iy * j->w + ix) * c;
                    for (int ch = 0; ch < c; ch++) out[ch] += in[ch];
                }
            int cnt = (y1 - y0) * (x1 - x0);
            float inv = cnt > 0 ? 1.0f / (float)cnt : 0;
            for (int ch = 0; ch < c; ch++) out[ch] *= inv;
        }
    }
}

tensor *op_pool(const tensor *x, int kh, int kw, const conv_spec *s, int is_max, ierr *e)
{
    if (x->ndim != 4 || x->dtype != DT_F32) {
        err_set(e, "%s: input must be 4-D NHWC f32", is_max ? "MaxPool" : "AvgPool");
        return NULL;
    }
    pool_job j = {0};
    j.x = x->f; j.h = x->shape[1]; j.w = x->shape[2]; j.c = x->shape[3];
    j.kh = kh; j.kw = kw; j.sh = s->stride_h; j.sw = s->stride_w; j.is_max = is_max;
    j.oh = conv_out_dim(j.h, kh, j.sh, 1, s->pad_mode, s->pad_t, s->pad_b, &j.pt);
    j.ow = conv_out_dim(j.w, kw, j.sw, 1, s->pad_mode, s->pad_l, s->pad_r, &j.pl);
    if (j.oh <= 0 || j.ow <= 0) {
        err_set(e, "%s: window %dx%d (with its strides and padding) does not fit the %dx%d input", is_max ? "MaxPool" : "AvgPool",
                kh, kw, j.h, j.w);
        return NULL;
    }
    int ys[4] = {x->shape[0], j.oh, j.ow, j.c};
    if (tensor_size_ok(4, ys, is_max ? "MaxPool" : "AvgPool", e)) return NULL;
    tensor *y = tensor_new_uninit(DT_F32, 4, ys);
    j.y = y->f;
    pool_for((long)x->shape[0] * j.oh, 2, pool_rows, &j);
    return y;
}
