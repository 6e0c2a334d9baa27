/* ops_resize.c — bilinear and nearest-neighbour resizing of NHWC tensors
 * with TensorFlow's coordinate conventions:
 *   align_corners: scale = (in-1)/(out-1), src = dst*scale
 *   half_pixel_centers: scale = in/out, src = (dst+0.5)*scale - 0.5
 *   neither (legacy): scale = in/out, src = dst*scale */
#include <math.h>

#include "engine/ops.h"
#include "engine/pool.h"
#include "engine/simd.h"

static float ratio(int in, int out, int align)
{
    if (align && out > 1) return (float)(in - 1) / (float)(out - 1);
    return (float)in / (float)out;
}

typedef struct rs_job {
    const float *x;
    float *y;
    int h, w, c, oh, ow, align, half, nearest;
    float ry, rx;
} rs_job;

HOT_LOOPS static void rs_rows(void *ctx, long begin, long end)
{
    const rs_job *j = ctx;
    int c = j->c;
    for (long r = begin; r < end; r++) {
        int b = (int)(r / j->oh), oy = (int)(r % j->oh);
        const float *img = j->x + (size_t)b * j->h * j->w * c;
        float *out = j->y + (size_t)r * j->ow * c;
        if (j->nearest) {
            float sy = j->half ? ((float)oy + 0.5f) * j->ry : (float)oy * j->ry;
            int iy = j->align ? (int)roundf(sy) : (int)floorf(sy);
            if (iy > j->h - 1) iy = j->h - 1;
            if (iy < 0) iy = 0;
            for (int ox = 0; ox < j->ow; ox++) {
                float sx = j->half ? ((float)ox + 0.5f) * j->rx : (float)ox * j->rx;
                int ix = j->align ? (int)roundf(sx) : (int)floorf(sx);
                if (ix > j->w - 1) ix = j->w - 1;
                if (ix < 0) ix = 0;
                const float *in = img + ((size_t)iy * j->w + ix) * c;
                for (int ch = 0; ch < c; ch++) out[(size_t)ox * c + ch] = in[ch];
            }
            continue;
        }
        float sy = j->half ? ((float)oy + 0.5f) * j->ry - 0.5f : (float)oy * j->ry;
        int y0 = (int)floorf(sy);
        float fy = sy - (float)y0;
        int y1 = y0 + 1;
        if (y0 < 0) { y0 = 0; fy = 0; }
        if (y1 > j->h - 1) y1 = j->h - 1;
        if (y0 > j->h - 1) y0 = j->h - 1;
        const float *top = img + (size_t)y0 * j->w * c, *bot = img + (size_t)y1 * j->w * c;
        for (int ox = 0; ox < j->ow; ox++) {
            float sx = j->half ? ((float)ox + 0.5f) * j->rx - 0.5f : (float)ox * j->rx;
            int x0 = (int)floorf(sx);
            float fx = sx - (float)x0;
            int x1 = x0 + 1;
            if (x0 < 0) { x0 = 0; fx = 0; }
            if (x1 > j->w - 1) x1 = j->w - 1;
            if (x0 > j->w - 1) x0 = j->w - 1;
            const float *tl = top + (size_t)x0 * c, *tr = top + (size_t)x1 * c;
            const float *bl = bot + (size_t)x0 * c, *br = bot + (size_t)x1 * c;
            float *o = out + (size_t)ox * c;
            for (int ch = 0; ch < c; ch++) {
                float t = tl[ch] + (tr[ch] - tl[ch]) * fx;
                float u = bl[ch] + (br[ch] - bl[ch]) * fx;
                o[ch] = t + (u - t) * fy;
            }
        }
    }
}

static tensor *resize(const tensor *x, int oh, int ow, int align, int half, int nearest, ierr *e)
{
    if (x->ndim != 4 || x->dtype != DT_F32 || oh <= 0 || ow <= 0 || x->shape[1] <= 0 ||
        x->shape[2] <= 0) {
        err_set(e, "resize: need a non-empty 4-D f32 input and a positive size (got %dx%d)", oh, ow);
        return NULL;
    }
    rs_job j = {x->f, NULL, x->shape[1], x->shape[2], x->shape[3], oh, ow, align, half, nearest,
                ratio(x->shape[1], oh, align), ratio(x->shape[2], ow, align)};
    long long dims[4] = {x->shape[0], oh, ow, x->shape[3]};
    int ys[4];
    if (tensor_shape_ok(4, dims, ys, "resize", e)) return NULL;
    tensor *y = tensor_new_uninit(DT_F32, 4, ys);
    j.y = y->f;
    pool_for((long)x->shape[0] * oh, 4, rs_rows, &j);
    return y;
}

tensor *op_resize_bilinear(const tensor *x, int oh, int ow, int align_corners, int half_pixel,
                           ierr *e)
{
    return resize(x, oh, ow, align_corners, half_pixel, 0, e);
}

tensor *op_resize_nearest(const tensor *x, int oh, int ow, int align_corners, int half_pixel,
                          ierr *e)
{
    return resize(x, oh, ow, align_corners, half_pixel, 1, e);
}
