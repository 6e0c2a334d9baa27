/* ops_conv.c — 2-D convolution (im2col + GEMM), transposed convolution and
 * matrix multiplication, all NHWC, all through OpenBLAS' cblas_sgemm.
 *
 * Why this shape: in NHWC a 1×1 convolution *is* a GEMM of the [pixels, Ci]
 * input with the [Ci, Co] filter, with no copy at all; a k×k convolution
 * gathers each output pixel's k·k·Ci patch into a row (im2col) in the same
 * (ky, kx, ci) order as the HWIO filter, and is the same GEMM.  The output
 * pixels are split over the engine's threads, and each thread works in tiles
 * small enough that its im2col rows stay in cache, applying bias and
 * activation to a tile right after its GEMM while it is still hot. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "engine/ops.h"
#include "engine/pool.h"

_Thread_local double ops_macs;

int conv_out_dim(int in, int k, int stride, int dil, int mode, int pad0, int pad1, int *lead)
{
    /* Every argument may come from a model file, so the arithmetic is 64-bit
     * and a result int cannot hold is refused, not wrapped.  The padded
     * extent must fit int: the ops' tap index, oy*stride - lead + ky*dil,
     * stays below it. */
    if (in < 0 || k < 1 || stride < 1 || dil < 1) return -1;
    long long ek = (long long)(k - 1) * dil + 1, out, padded, pad_lead;
    if (mode == PAD_SAME) {
        out = (in + (long long)stride - 1) / stride;
        long long total = (out - 1) * stride + ek - in;
        if (total < 0) total = 0;
        padded = in + total;
        pad_lead = total / 2;
    } else {
        if (mode == PAD_EXPLICIT && (pad0 < 0 || pad1 < 0)) return -1;
        pad_lead = mode == PAD_EXPLICIT ? pad0 : 0;
        padded = in + pad_lead + (mode == PAD_EXPLICIT ? pad1 : 0);
        out = padded < ek ? 0 : (padded - ek) / stride + 1;
    }
    if (padded > INT_MAX) return -1;
    *lead = (int)pad_lead;
    return (int)out;
}

static int spec_dims(const tensor *x, int kh, int kw, const conv_spec *s, int *oh, int *ow,
                     int *pt, int *pl, ierr *e)
{
    if (x->ndim != 4) {
        err_set(e, "convolution input must be 4-D NHWC, got %d-D", x->ndim);
        return -1;
    }
    *oh = conv_out_dim(x->shape[1], kh, s->stride_h, s->dil_h, s->pad_mode, s->pad_t, s->pad_b, pt);
    *ow = conv_out_dim(x->shape[2], kw, s->stride_w, s->dil_w, s->pad_mode, s->pad_l, s->pad_r, pl);
    if (*oh <= 0 || *ow <= 0) {
        err_set(e, "convolution window %dx%d (with its strides, dilations and padding) does not fit the %dx%d input",
                kh, kw, x->shape[1], x->shape[2]);
        return -1;
    }
    return 0;
}

/* ---- Conv2D ------------------------------------------------------------ */

typedef struct conv_job {
    const float *x, *w, *bias;
    float *y;
    const act_spec *act;
    int n, h, wd, ci, co, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl;
    int direct;   /* 1x1, stride 1, no pad: the input rows are the GEMM's A */
} conv_job;

static void im2col_rows(const conv_job *j, long m0, long m1, float *col)
{
    long hw = (long)j->oh * j->ow;
    size_t rowlen = (size_t)j->kh * j->kw * j->ci;
    for (long m = m0; m < m1; m++) {
        int b = (int)(m / hw), r = (int)(m % hw);
        int oy = r / j->ow, ox = r % j->ow;
        float *dst = col + (size_t)(m - m0) * rowlen;
        const float *img = j->x + (size_t)b * j->h * j->wd * j->ci;
        for (int ky = 0; ky < j->kh; ky++) {
            int iy = oy * j->sh - j->pt + ky * j->dh;
            int ix0 = ox * j->sw - j->pl;
            if (iy >= 0 && iy < j->h && j->dw == 1 && ix0 >= 0 && ix0 + j->kw <= j->wd) {
                /* NHWC: the kw taps of one patch row are one contiguous span */
                size_t span = (size_t)j->kw * j->ci;
                memcpy(dst, img + ((size_t)iy * j->wd + ix0) * j->ci, sizeof(float) * span);
                dst += span;
                continue;
            }
            for (int kx = 0; kx < j->kw; kx++, dst += j->ci) {
                int ix = ix0 + kx * j->dw;
                if (iy < 0 || iy >= j->h || ix < 0 || ix >= j->wd)
                    memset(dst, 0, sizeof(float) * (size_t)j->ci);
                else
                    memcpy(dst, img + ((size_t)iy * j->wd + ix) * j->ci, sizeof(float) * (size_t)j->ci);
            }
        }
    }
}

static void conv_rows(void *ctx, long begin, long end)
{
    const conv_job *j = ctx;
    long k = (long)j->kh * j->kw * j->ci;
    /* ~256 KiB of im2col rows per tile: fits L2 next to the filter panel. */
    long tile = j->direct ? 1024 : 65536 / (k > 0 ? k : 1);
    if (tile < 16) tile = 16;
    if (tile > 1024) tile = 1024;
    float *col = j->direct ? NULL : tensor_buf_alloc(sizeof(float) * (size_t)(tile * k));
    for (long m0 = begin; m0 < end; m0 += tile) {
        long m1 = m0 + tile < end ? m0 + tile : end;
        const float *a = j->x + (size_t)m0 * j->ci;
        if (!j->direct) {
            im2col_rows(j, m0, m1, col);
            a = col;
        }
        float *y = j->y + (size_t)m0 * j->co;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(m1 - m0), j->co, (int)k,
                    1.0f, a, (int)k, j->w, j->co, 0.0f, y, j->co);
        act_bias_rows(y, m1 - m0, j->co, j->bias, j->act);
    }
    tensor_buf_free(col);
}

tensor *op_conv2d(const tensor *x, const tensor *w, const float *bias, const act_spec *act,
                  const conv_spec *s, ierr *e)
{
    if (w->ndim != 4 || x->ndim != 4 || w->shape[2] != x->shape[3]) {
        err_set(e, "Conv2D: filter [%d,%d,%d,%d] does not match input channels %d",
                w->shape[0], w->shape[1], w->shape[2], w->ndim == 4 ? w->shape[3] : 0,
                x->ndim == 4 ? x->shape[3] : 0);
        return NULL;
    }
    conv_job j = {0};
    j.kh = w->shape[0]; j.kw = w->shape[1]; j.ci = w->shape[2]; j.co = w->shape[3];
    if (spec_dims(x, j.kh, j.kw, s, &j.oh, &j.ow, &j.pt, &j.pl, e)) return NULL;
    j.x = x->f; j.w = w->f; j.bias = bias; j.act = act;
    j.n = x->shape[0]; j.h = x->shape[1]; j.wd = x->shape[2];
    j.sh = s->stride_h; j.sw = s->stride_w; j.dh = s->dil_h; j.dw = s->dil_w;
    j.direct = j.kh == 1 && j.kw == 1 && j.sh == 1 && j.sw == 1 && j.pt == 0 && j.pl == 0 &&
               j.oh == j.h && j.ow == j.wd;
    int ys[4] = {j.n, j.oh, j.ow, j.co};
    if (tensor_size_ok(4, ys, "Conv2D", e)) return NULL;
    tensor *y = tensor_new_uninit(DT_F32, 4, ys);
    if (!y->n) return y;   /* nothing to compute; an empty filter bounds no im2col row */
    j.y = y->f;
    long m = (long)j.n * j.oh * j.ow;
    ops_macs += (double)m * j.co * j.kh * j.kw * j.ci;
    pool_for(m, 64, conv_rows, &j);
    return y;
}

/* ---- Conv2DBackpropInput (transposed convolution) --------------------- */

/* Each input pixel of dy contributes W[ky,kx,:,:]·dy to output pixel
 * (oy*s - pad + ky, ...): one GEMM gives every pixel's kh·kw·Cx
 * contributions, which are then scattered (col2im).  Rows of the output
 * are owned by one thread each, so the scatter needs no locks. */
typedef struct tconv_job {
    const float *col;
    float *y;
    int n, h, w, cx, dh, dw, kh, kw, sh, sw, pt, pl;
} tconv_job;

static void tconv_rows(void *ctx, long begin, long end)
{
    const tconv_job *j = ctx;
    size_t rowlen = (size_t)j->kh * j->kw * j->cx;
    for (long r = begin; r < end; r++) {      /* r = b * H + output row */
        int b = (int)(r / j->h), oy = (int)(r % j->h);
        float *yrow = j->y + (size_t)r * j->w * j->cx;
        for (int ky = 0; ky < j->kh; ky++) {
            int t = oy + j->pt - ky;          /* = iy * sh */
            if (t < 0 || t % j->sh) continue;
            int iy = t / j->sh;
            if (iy >= j->dh) continue;
            for (int ix = 0; ix < j->dw; ix++) {
                const float *src = j->col + ((size_t)(b * j->dh + iy) * j->dw + ix) * rowlen +
                                   (size_t)ky * j->kw * j->cx;
                for (int kx = 0; kx < j->kw; kx++) {
                    int ox = ix * j->sw - j->pl + kx;
                    if (ox < 0 || ox >= j->w) continue;
                    float *d = yrow + (size_t)ox * j->cx;
                    const float *sp = src + (size_t)kx * j->cx;
                    for (int c = 0; c < j->cx; c++) d[c] += sp[c];
                }
            }
        }
    }
}

tensor *op_conv2d_transpose(const tensor *dy, const tensor *w, const int *out_shape,
                            const conv_spec *s, ierr *e)
{
    if (dy->ndim != 4 || w->ndim != 4 || w->shape[3] != dy->shape[3] || out_shape[3] != w->shape[2]) {
        err_set(e, "Conv2DBackpropInput: filter/input/output channel mismatch");
        return NULL;
    }
    tconv_job j = {0};
    j.kh = w->shape[0]; j.kw = w->shape[1]; j.cx = w->shape[2];
    int cy = w->shape[3];
    j.n = out_shape[0]; j.h = out_shape[1]; j.w = out_shape[2];
    j.dh = dy->shape[1]; j.dw = dy->shape[2];
    j.sh = s->stride_h; j.sw = s->stride_w;
    int oh, ow;
    oh = conv_out_dim(j.h, j.kh, j.sh, 1, s->pad_mode, s->pad_t, s->pad_b, &j.pt);
    ow = conv_out_dim(j.w, j.kw, j.sw, 1, s->pad_mode, s->pad_l, s->pad_r, &j.pl);
    if (oh != j.dh || ow != j.dw || j.n != dy->shape[0]) {
        err_set(e, "Conv2DBackpropInput: output [%d,%d,%d,%d] does not match input %dx%d",
                out_shape[0], out_shape[1], out_shape[2], out_shape[3], j.dh, j.dw);
        return NULL;
    }
    /* the output's shape is a value in the graph; the scratch holds every
     * input pixel's kh*kw*Cx contributions */
    if (tensor_size_ok(4, out_shape, "Conv2DBackpropInput", e) ||
        tensor_size_ok(6, (int[]){j.n, j.dh, j.dw, j.kh, j.kw, j.cx}, "Conv2DBackpropInput scratch", e))
        return NULL;
    long m = (long)j.n * j.dh * j.dw;
    if (m == 0) return tensor_new4(j.n, j.h, j.w, j.cx);   /* no input pixel: zeros */
    int k = j.kh * j.kw * j.cx;
    float *col = tensor_buf_alloc(sizeof(float) * (size_t)m * (size_t)k + 4);
    /* col[m, (ky,kx,cx)] = sum_cy dy[m, cy] * W[ky,kx,cx,cy] */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, k, cy, 1.0f, dy->f, cy,
                w->f, cy, 0.0f, col, k);
    ops_macs += (double)m * k * cy;
    tensor *y = tensor_new4(j.n, j.h, j.w, j.cx);
    j.col = col;
    j.y = y->f;
    pool_for((long)j.n * j.h, 4, tconv_rows, &j);
    tensor_buf_free(col);
    return y;
}

/* ---- MatMul ------------------------------------------------------------ */

tensor *op_matmul(const tensor *a, const tensor *b, int trans_a, int trans_b,
                  const float *bias, const act_spec *act, ierr *e)
{
    if (a->ndim < 2 || b->ndim != 2 || a->dtype != DT_F32 || b->dtype != DT_F32) {
        err_set(e, "MatMul: need f32 [..,M,K] x [K,N] operands");
        return NULL;
    }
    int ka = a->shape[a->ndim - 1], ma = (int)(a->n / (size_t)(ka ? ka : 1));
    if (trans_a) {
        if (a->ndim != 2) { err_set(e, "MatMul: transpose_a needs a 2-D operand"); return NULL; }
        ma = a->shape[1];
        ka = a->shape[0];
    }
    int kb = trans_b ? b->shape[1] : b->shape[0], nb = trans_b ? b->shape[0] : b->shape[1];
    if (ka != kb) {
        err_set(e, "MatMul: inner dimensions differ (%d vs %d)", ka, kb);
        return NULL;
    }
    int shape[TENSOR_MAXDIM] = {0};
    for (int d = 0; d < a->ndim; d++) shape[d] = a->shape[d];
    if (trans_a) shape[0] = ma;
    shape[a->ndim - 1] = nb;
    if (tensor_size_ok(a->ndim, shape, "MatMul", e)) return NULL;
    tensor *y = tensor_new_uninit(DT_F32, a->ndim, shape);
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, ma, nb, ka, 1.0f, a->f,
                a->shape[a->ndim - 1], b->f, b->shape[1], 0.0f, y->f, nb);
    ops_macs += (double)ma * nb * ka;
    act_bias_rows(y->f, ma, nb, bias, act);
    return y;
}
