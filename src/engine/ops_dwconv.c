/* ops_dwconv.c — depthwise 2-D convolution, NHWC, direct.
 *
 * Depthwise layers do ~kh·kw multiply-adds per loaded value, so they are
 * memory-bound and a GEMM formulation would only add copies.  The kernel
 * walks output rows (split over threads); for each output pixel it
 * accumulates the kh·kw taps as vectors over the channels, which are
 * contiguous in NHWC, then applies bias and activation in place. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ops.h"
#include "engine/pool.h"
#include "engine/simd.h"

typedef struct dw_job {
    const float *x, *w, *bias;
    float *y;
    const act_spec *act;
    int h, wd, c, mult, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl;
} dw_job;

static void dw_rows_m1(const dw_job *j, long begin, long end)
{
    int c = j->c;
    act_kind k = j->act ? j->act->kind : ACT_NONE;
    /* relu/relu6/none are a clamp the kernel applies on the fly */
    int clamp = k == ACT_NONE || k == ACT_RELU || k == ACT_RELU6;
    float lo = k == ACT_NONE ? -INFINITY : 0, hi = k == ACT_RELU6 ? 6 : INFINITY;
    const float *rows[64];
    for (long r = begin; r < end; r++) {
        int b = (int)(r / j->oh), oy = (int)(r % j->oh);
        const float *img = j->x + (size_t)b * j->h * j->wd * c;
        float *yrow = j->y + (size_t)r * j->ow * c;
        for (int ky = 0; ky < j->kh && ky < 64; ky++) {
            int iy = oy * j->sh - j->pt + ky * j->dh;
            rows[ky] = iy < 0 || iy >= j->h ? NULL : img + (size_t)iy * j->wd * c;
        }
        simd_dw_row(rows, j->kh, j->kw, c, j->ow, j->wd, j->sw, j->dw, j->pl, j->w, j->bias,
                    clamp ? lo : -INFINITY, clamp ? hi : INFINITY, yrow);
        if (!clamp) act_bias_rows(yrow, j->ow, c, NULL, j->act);
    }
}

static void dw_rows(void *ctx, long begin, long end)
{
    const dw_job *j = ctx;
    if (j->mult == 1 && j->kh <= 64) {
        dw_rows_m1(j, begin, end);
        return;
    }
    int c = j->c, m = j->mult, co = c * m;
    for (long r = begin; r < end; r++) {
        int b = (int)(r / j->oh), oy = (int)(r % j->oh);
        const float *img = j->x + (size_t)b * j->h * j->wd * c;
        float *yrow = j->y + (size_t)r * j->ow * co;
        for (int ox = 0; ox < j->ow; ox++) {
            float *acc = yrow + (size_t)ox * co;
            for (int k = 0; k < co; k++) acc[k] = j->bias ? j->bias[k] : 0;
            for (int ky = 0; ky < j->kh; ky++) {
                int iy = oy * j->sh - j->pt + ky * j->dh;
                if (iy < 0 || iy >= j->h) continue;
                for (int kx = 0; kx < j->kw; kx++) {
                    int ix = ox * j->sw - j->pl + kx * j->dw;
                    if (ix < 0 || ix >= j->wd) continue;
                    const float *in = img + ((size_t)iy * j->wd + ix) * c;
                    const float *wk = j->w + ((size_t)ky * j->kw + kx) * co;
                    for (int ch = 0; ch < c; ch++)
                        for (int q = 0; q < m; q++) acc[ch * m + q] += in[ch] * wk[ch * m + q];
                }
            }
        }
        act_bias_rows(yrow, j->ow, co, NULL, j->act);
    }
}

tensor *op_depthwise(const tensor *x, const tensor *w, const float *bias, const act_spec *act,
                     const conv_spec *s, ierr *e)
{
    if (x->ndim != 4 || w->ndim != 4 || w->shape[2] != x->shape[3]) {
        err_set(e, "DepthwiseConv2d: filter channels do not match input channels");
        return NULL;
    }
    dw_job j = {0};
    j.kh = w->shape[0]; j.kw = w->shape[1]; j.c = w->shape[2]; j.mult = w->shape[3];
    j.h = x->shape[1]; j.wd = x->shape[2];
    j.sh = s->stride_h; j.sw = s->stride_w; j.dh = s->dil_h; j.dw = s->dil_w;
    j.oh = conv_out_dim(j.h, j.kh, j.sh, j.dh, s->pad_mode, s->pad_t, s->pad_b, &j.pt);
    j.ow = conv_out_dim(j.wd, j.kw, j.sw, j.dw, s->pad_mode, s->pad_l, s->pad_r, &j.pl);
    if (j.oh <= 0 || j.ow <= 0) {
        err_set(e, "DepthwiseConv2d: window (with its strides, dilations and padding) does not fit the %dx%d input",
                j.h, j.wd);
        return NULL;
    }
    j.x = x->f; j.w = w->f; j.bias = bias; j.act = act;
    int ys[4];
    if (tensor_shape_ok(4, (long long[]){x->shape[0], j.oh, j.ow, (long long)j.c * j.mult}, ys,
                        "DepthwiseConv2d", e))
        return NULL;
    tensor *y = tensor_new_uninit(DT_F32, 4, ys);
    j.y = y->f;
    ops_macs += (double)y->n * j.kh * j.kw;
    pool_for((long)x->shape[0] * j.oh, 2, dw_rows, &j);
    return y;
}
