/* ops_reduce.c — reductions (sum, mean, max, min, prod), softmax, top-k
 * and argmax. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ops.h"
#include "engine/simd.h"

static double rinit(redop op)
{
    switch (op) {
    case RED_MAX: return -INFINITY;
    case RED_MIN: return INFINITY;
    case RED_PROD: return 1;
    default: return 0;
    }
}

/* Reduce the middle axis of an [outer, red, inner] view.  Float sums
 * accumulate in float per output lane, as TensorFlow's CPU kernels do;
 * one loop per op keeps each vectorisable. */
HOT_LOOPS static void reduce3(const tensor *x, tensor *y, size_t outer, size_t red, size_t inner, redop op)
{
    if (x->dtype == DT_F32 && y->dtype == DT_F32 && op != RED_PROD) {
        for (size_t o = 0; o < outer; o++) {
            float *restrict acc = y->f + o * inner;
            const float *base = x->f + o * red * inner;
            float init = op == RED_MAX ? -INFINITY : op == RED_MIN ? INFINITY : 0;
            for (size_t k = 0; k < inner; k++) acc[k] = init;
            for (size_t r = 0; r < red; r++) {
                const float *restrict row = base + r * inner;
                if (op == RED_MAX) for (size_t k = 0; k < inner; k++) acc[k] = row[k] > acc[k] ? row[k] : acc[k];
                else if (op == RED_MIN) for (size_t k = 0; k < inner; k++) acc[k] = row[k] < acc[k] ? row[k] : acc[k];
                else for (size_t k = 0; k < inner; k++) acc[k] += row[k];
            }
            if (op == RED_MEAN) {
                float inv = red ? 1.0f / (float)red : NAN;
                for (size_t k = 0; k < inner; k++) acc[k] *= inv;
            }
        }
        return;
    }
    int f = x->dtype == DT_F32;
    double *acc = malloc(sizeof(double) * (inner ? inner : 1));
    for (size_t o = 0; o < outer; o++) {
        for (size_t k = 0; k < inner; k++) acc[k] = rinit(op);
        for (size_t r = 0; r < red; r++) {
            size_t base = (o * red + r) * inner;
            for (size_t k = 0; k < inner; k++) {
                double v = f ? (double)x->f[base + k] : (double)x->i[base + k];
                switch (op) {
                case RED_MAX: if (v > acc[k]) acc[k] = v; break;
                case RED_MIN: if (v < acc[k]) acc[k] = v; break;
                case RED_PROD: acc[k] *= v; break;
                default: acc[k] += v;
                }
            }
        }
        for (size_t k = 0; k < inner; k++) {
            double v = acc[k];
            if (op == RED_MEAN) v = red ? v / (double)red : NAN;
            if (y->dtype == DT_F32) y->f[o * inner + k] = (float)v;
            else y->i[o * inner + k] = tensor_i32_of(v);
        }
    }
    free(acc);
}

tensor *op_reduce(const tensor *x, const int *axes, int naxes, int keep_dims, redop op, ierr *e)
{
    int nd = x->ndim, red[TENSOR_MAXDIM] = {0};
    for (int k = 0; k < naxes; k++) {
        int a = axes[k] < 0 ? axes[k] + nd : axes[k];
        if (a < 0 || a >= nd) { err_set(e, "reduction axis %d out of range for %d-D", axes[k], nd); return NULL; }
        red[a] = 1;
    }
    if (naxes == 0)
        for (int d = 0; d < nd; d++) red[d] = 1;
    /* Move reduced axes to the end (stable) when they are not contiguous. */
    int first = -1, last = -1, contiguous = 1;
    for (int d = 0; d < nd; d++)
        if (red[d]) { if (first < 0) first = d; last = d; }
    for (int d = first; d >= 0 && d <= last; d++)
        if (!red[d]) contiguous = 0;
    int shape[TENSOR_MAXDIM] = {0}, on = 0;
    long long dims[TENSOR_MAXDIM];
    for (int d = 0; d < nd; d++) {
        if (!red[d]) dims[on++] = x->shape[d];
        else if (keep_dims) dims[on++] = 1;
    }
    /* reducing an empty axis can yield more elements than were read */
    if (tensor_shape_ok(on, dims, shape, "reduction", e)) return NULL;
    tensor *y = tensor_new(op == RED_MEAN ? DT_F32 : x->dtype, on, shape);
    if (y->dtype != x->dtype && x->dtype == DT_I32) { /* TF keeps int mean as int */
        tensor_free(y);
        y = tensor_new(DT_I32, on, shape);
    }
    if (first < 0) {   /* nothing to reduce */
        for (size_t i = 0; i < x->n; i++) {
            if (y->dtype == DT_F32) y->f[i] = x->dtype == DT_F32 ? x->f[i] : (float)x->i[i];
            else y->i[i] = x->i[i];
        }
        return y;
    }
    if (contiguous) {
        size_t outer = 1, r = 1, inner = 1;
        for (int d = 0; d < first; d++) outer *= (size_t)x->shape[d];
        for (int d = first; d <= last; d++) r *= (size_t)x->shape[d];
        for (int d = last + 1; d < nd; d++) inner *= (size_t)x->shape[d];
        reduce3(x, y, outer, r, inner, op);
        return y;
    }
    int perm[TENSOR_MAXDIM], p = 0;
    size_t outer = 1, r = 1;
    for (int d = 0; d < nd; d++) if (!red[d]) { perm[p++] = d; outer *= (size_t)x->shape[d]; }
    for (int d = 0; d < nd; d++) if (red[d]) { perm[p++] = d; r *= (size_t)x->shape[d]; }
    tensor *t = op_transpose(x, perm, e);
    if (!t) { tensor_free(y); return NULL; }
    reduce3(t, y, outer, r, 1, op);
    tensor_free(t);
    return y;
}

tensor *op_softmax(const tensor *x, ierr *e)
{
    if (x->dtype != DT_F32 || x->ndim < 1) { err_set(e, "Softmax: need an f32 tensor"); return NULL; }
    tensor *y = tensor_new_uninit(DT_F32, x->ndim, x->shape);
    size_t c = (size_t)x->shape[x->ndim - 1];
    if (!c) return y;
    for (size_t r = 0; r < x->n / c; r++) {
        const float *in = x->f + r * c;
        float *out = y->f + r * c, mx = -INFINITY;
        for (size_t k = 0; k < c; k++) if (in[k] > mx) mx = in[k];
        double s = 0;
        for (size_t k = 0; k < c; k++) { out[k] = expf(in[k] - mx); s += out[k]; }
        for (size_t k = 0; k < c; k++) out[k] = (float)(out[k] / s);
    }
    return y;
}

/* "a ranks before b": larger value first, then lower index. */
static int before(float va, int ia, float vb, int ib)
{
    return va > vb || (va == vb && ia < ib);
}

/* heap of the k best so far, worst at the root */
static void sift_down(float *v, int *ix, int k, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, w = i;
        if (l < k && before(v[w], ix[w], v[l], ix[l])) w = l;
        if (r < k && before(v[w], ix[w], v[r], ix[r])) w = r;
        if (w == i) return;
        float tv = v[i]; v[i] = v[w]; v[w] = tv;
        int ti = ix[i]; ix[i] = ix[w]; ix[w] = ti;
        i = w;
    }
}

int op_topk(const tensor *x, int k, tensor **values, tensor **indices, ierr *e)
{
    if (x->ndim < 1 || x->dtype != DT_F32) { err_set(e, "TopK: need an f32 tensor"); return -1; }
    int len = x->shape[x->ndim - 1];
    if (k < 0 || k > len) { err_set(e, "TopK: k = %d out of range for last dim %d", k, len); return -1; }
    int shape[TENSOR_MAXDIM] = {0};
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = k;
    tensor *tv = tensor_new(DT_F32, x->ndim, shape), *ti = tensor_new(DT_I32, x->ndim, shape);
    size_t rows = len ? x->n / (size_t)len : 0;
    for (size_t r = 0; r < rows && k > 0; r++) {
        const float *in = x->f + r * (size_t)len;
        float *hv = tv->f + r * (size_t)k;
        int *hi = ti->i + r * (size_t)k;
        for (int q = 0; q < k; q++) { hv[q] = in[q]; hi[q] = q; }
        for (int q = k / 2 - 1; q >= 0; q--) sift_down(hv, hi, k, q);
        for (int q = k; q < len; q++)
            if (before(in[q], q, hv[0], hi[0])) {
                hv[0] = in[q]; hi[0] = q;
                sift_down(hv, hi, k, 0);
            }
        /* heap sort: repeatedly move the worst to the end */
        for (int n = k - 1; n > 0; n--) {
            float t = hv[0]; hv[0] = hv[n]; hv[n] = t;
            int u = hi[0]; hi[0] = hi[n]; hi[n] = u;
            sift_down(hv, hi, n, 0);
        }
    }
    *values = tv;
    *indices = ti;
    return 0;
}

tensor *op_argmax(const tensor *x, int axis, ierr *e)
{
    int nd = x->ndim;
    if (axis < 0) axis += nd;
    if (axis < 0 || axis >= nd) { err_set(e, "ArgMax: axis out of range"); return NULL; }
    int shape[TENSOR_MAXDIM] = {0}, on = 0;
    size_t outer = 1, inner = 1, len = (size_t)x->shape[axis];
    for (int d = 0; d < nd; d++) {
        if (d != axis) shape[on++] = x->shape[d];
        if (d < axis) outer *= (size_t)x->shape[d];
        if (d > axis) inner *= (size_t)x->shape[d];
    }
    /* an empty axis leaves the other dims, which need not be small */
    if (tensor_size_ok(on, shape, "ArgMax", e)) return NULL;
    tensor *y = tensor_new(DT_I32, on, shape);
    for (size_t o = 0; o < outer; o++)
        for (size_t k = 0; k < inner; k++) {
            size_t best = 0;
            for (size_t r = 1; r < len; r++) {
                size_t a = (o * len + r) * inner + k, b = (o * len + best) * inner + k;
                double va = x->dtype == DT_F32 ? x->f[a] : x->i[a], vb = x->dtype == DT_F32 ? x->f[b] : x->i[b];
                if (va > vb) best = r;
            }
            y->i[o * inner + k] = (int32_t)best;
        }
    return y;
}
