/* ops_shape.c — ops that move data without arithmetic: concat, transpose,
 * (strided) slice, pad, gather, reshape, tile.  f32 and i32 elements are
 * both 4 bytes, so everything here copies uint32 words regardless of type. */
#include <string.h>

#include "engine/ops.h"

static uint32_t *words(const tensor *t)
{
    return t->dtype == DT_F32 ? (uint32_t *)(void *)t->f : (uint32_t *)(void *)t->i;
}

static size_t prod(const int *s, int from, int to)
{
    size_t p = 1;
    for (int d = from; d < to; d++) p *= (size_t)s[d];
    return p;
}

tensor *op_concat(const tensor *const *xs, int n, int axis, ierr *e)
{
    if (n < 1) { err_set(e, "Concat: no inputs"); return NULL; }
    int nd = xs[0]->ndim;
    if (axis < 0) axis += nd;
    if (axis < 0 || axis >= nd) { err_set(e, "Concat: axis %d out of range for %d-D", axis, nd); return NULL; }
    long long dims[TENSOR_MAXDIM];
    for (int d = 0; d < nd; d++) dims[d] = xs[0]->shape[d];
    dims[axis] = 0;
    for (int k = 0; k < n; k++) {
        if (xs[k]->ndim != nd || xs[k]->dtype != xs[0]->dtype) {
            err_set(e, "Concat: inputs differ in rank or type");
            return NULL;
        }
        for (int d = 0; d < nd; d++)
            if (d != axis && xs[k]->shape[d] != xs[0]->shape[d]) {
                err_set(e, "Concat: input %d has dim %d = %d, expected %d", k, d, xs[k]->shape[d],
                        xs[0]->shape[d]);
                return NULL;
            }
        dims[axis] += xs[k]->shape[axis];
    }
    int shape[TENSOR_MAXDIM];
    if (tensor_shape_ok(nd, dims, shape, "Concat", e)) return NULL;
    tensor *y = tensor_new_uninit(xs[0]->dtype, nd, shape);
    size_t outer = prod(shape, 0, axis), inner = prod(shape, axis + 1, nd);
    uint32_t *dst = words(y);
    for (size_t o = 0; o < outer; o++)
        for (int k = 0; k < n; k++) {
            size_t chunk = (size_t)xs[k]->shape[axis] * inner;
            memcpy(dst, words(xs[k]) + o * chunk, chunk * 4);
            dst += chunk;
        }
    return y;
}

tensor *op_transpose(const tensor *x, const int *perm, ierr *e)
{
    int nd = x->ndim, shape[TENSOR_MAXDIM], seen[TENSOR_MAXDIM] = {0};
    size_t istride[TENSOR_MAXDIM], st[TENSOR_MAXDIM];
    for (int d = 0; d < nd; d++) {
        if (perm[d] < 0 || perm[d] >= nd || seen[perm[d]]++) {
            err_set(e, "Transpose: invalid permutation");
            return NULL;
        }
        shape[d] = x->shape[perm[d]];
    }
    for (int d = nd - 1; d >= 0; d--) istride[d] = d == nd - 1 ? 1 : istride[d + 1] * (size_t)x->shape[d + 1];
    for (int d = 0; d < nd; d++) st[d] = istride[perm[d]];
    tensor *y = tensor_new_uninit(x->dtype, nd, shape);
    const uint32_t *src = words(x);
    uint32_t *dst = words(y);
    int ix[TENSOR_MAXDIM] = {0};
    size_t off = 0;
    for (size_t i = 0; i < y->n; i++) {
        dst[i] = src[off];
        for (int d = nd - 1; d >= 0; d--) {
            if (++ix[d] < shape[d]) { off += st[d]; break; }
            off -= st[d] * (size_t)(shape[d] - 1);
            ix[d] = 0;
        }
    }
    return y;
}

/* Copy the box start[d] + k*step[d], k < size[d], of x into a new tensor of
 * `shape` (same element count as the box). */
static tensor *gather_box(const tensor *x, const int *start, const int *step, const int *size,
                          int ndim_out, const int *shape_out)
{
    int nd = x->ndim;
    tensor *y = tensor_new_uninit(x->dtype, ndim_out, shape_out);
    if (!y->n) return y;
    size_t istride[TENSOR_MAXDIM];
    for (int d = nd - 1; d >= 0; d--) istride[d] = d == nd - 1 ? 1 : istride[d + 1] * (size_t)x->shape[d + 1];
    const uint32_t *src = words(x);
    uint32_t *dst = words(y);
    int ix[TENSOR_MAXDIM] = {0};
    for (size_t i = 0; i < y->n; i++) {
        long off = 0;
        for (int d = 0; d < nd; d++) off += ((long)start[d] + (long)ix[d] * step[d]) * (long)istride[d];
        dst[i] = src[off];
        for (int d = nd - 1; d >= 0; d--) {
            if (++ix[d] < size[d]) break;
            ix[d] = 0;
        }
    }
    return y;
}

tensor *op_strided_slice(const tensor *x, const int *begin, const int *end, const int *strides,
                         int n, int begin_mask, int end_mask, int ellipsis_mask,
                         int new_axis_mask, int shrink_mask, ierr *e)
{
    int nd = x->ndim;
    /* dense spec: for each input dim, which sparse entry drives it (-1 = full range) */
    int src[TENSOR_MAXDIM];
    /* room for every entry as a new axis plus every input dim, so the count
     * is checked after the walk, not during it (up to 16 new axes once
     * wrote past a 12-slot array) */
    int out_shape[16 + TENSOR_MAXDIM], out_nd = 0;
    int full = 0, after_ellipsis_new = 0, seen_ellipsis = 0;
    for (int i = 0; i < n; i++) {
        if (ellipsis_mask & (1 << i)) seen_ellipsis = 1;
        else if (seen_ellipsis && (new_axis_mask & (1 << i))) after_ellipsis_new++;
    }
    int start[TENSOR_MAXDIM], step[TENSOR_MAXDIM], size[TENSOR_MAXDIM];
    /* First pass: which input dims each sparse entry covers. */
    int kind[16], first_dim[16], ndims_cov[16];
    if (n > 16) { err_set(e, "StridedSlice: too many slice entries (%d)", n); return NULL; }
    for (int i = 0; i < n; i++) {
        first_dim[i] = full;
        if (ellipsis_mask & (1 << i)) {
            int next = nd - (n - i) + 1 + after_ellipsis_new;
            if (next > nd) next = nd;
            if (next < full) next = full;
            kind[i] = 1;
            ndims_cov[i] = next - full;
            for (int d = full; d < next; d++) src[d] = -1;
            full = next;
        } else if (new_axis_mask & (1 << i)) {
            kind[i] = 2;
            ndims_cov[i] = 0;
        } else {
            if (full >= nd) { err_set(e, "StridedSlice: %d slice entries for a %d-D tensor", n, nd); return NULL; }
            kind[i] = 0;
            ndims_cov[i] = 1;
            src[full++] = i;
        }
    }
    for (int d = full; d < nd; d++) src[d] = -1;
    for (int d = 0; d < nd; d++) {
        int dim = x->shape[d], i = src[d];
        if (i < 0) { start[d] = 0; step[d] = 1; size[d] = dim; continue; }
        int st = strides[i];
        if (st == 0) { err_set(e, "StridedSlice: stride 0"); return NULL; }
        if (shrink_mask & (1 << i)) {
            int b = begin[i] < 0 ? begin[i] + dim : begin[i];
            if (b < 0 || b >= dim) { err_set(e, "StridedSlice: index %d out of range for dim %d of size %d", begin[i], d, dim); return NULL; }
            start[d] = b; step[d] = 1; size[d] = 1;
            continue;
        }
        int b = begin[i], en = end[i];
        if (st > 0) {
            b = (begin_mask & (1 << i)) ? 0 : (b < 0 ? b + dim : b);
            en = (end_mask & (1 << i)) ? dim : (en < 0 ? en + dim : en);
            b = b < 0 ? 0 : b > dim ? dim : b;
            en = en < 0 ? 0 : en > dim ? dim : en;
            size[d] = en > b ? (int)(((long long)en - b + st - 1) / st) : 0;   /* st may be INT_MAX */
        } else {
            b = (begin_mask & (1 << i)) ? dim - 1 : (b < 0 ? b + dim : b);
            en = (end_mask & (1 << i)) ? -1 : (en < 0 ? en + dim : en);
            b = b < -1 ? -1 : b > dim - 1 ? dim - 1 : b;
            en = en < -1 ? -1 : en > dim - 1 ? dim - 1 : en;
            long long back = -(long long)st;   /* st may be INT_MIN */
            size[d] = b > en ? (int)(((long long)b - en + back - 1) / back) : 0;
        }
        start[d] = b; step[d] = st;
        if (size[d] == 0) start[d] = 0;
    }
    /* final shape: walk the sparse entries again */
    for (int i = 0; i < n; i++) {
        if (kind[i] == 2) { out_shape[out_nd++] = 1; continue; }
        for (int d = first_dim[i]; d < first_dim[i] + ndims_cov[i]; d++)
            if (kind[i] == 1 || !(shrink_mask & (1 << i))) out_shape[out_nd++] = size[d];
    }
    for (int d = full; d < nd; d++) out_shape[out_nd++] = size[d];
    if (out_nd > TENSOR_MAXDIM) { err_set(e, "StridedSlice: result has more than %d dims", TENSOR_MAXDIM); return NULL; }
    return gather_box(x, start, step, size, out_nd, out_shape);
}

tensor *op_slice(const tensor *x, const int *begin, const int *sz, ierr *e)
{
    int start[TENSOR_MAXDIM], step[TENSOR_MAXDIM], size[TENSOR_MAXDIM];
    for (int d = 0; d < x->ndim; d++) {
        /* 64-bit: begin and size are values in a graph, and may be near INT_MAX */
        long long want = sz[d] < 0 ? (long long)x->shape[d] - begin[d] : sz[d];
        if (begin[d] < 0 || want < 0 || begin[d] + want > x->shape[d]) {
            err_set(e, "Slice: begin %d size %d out of range for dim %d of size %d", begin[d], sz[d],
                    d, x->shape[d]);
            return NULL;
        }
        start[d] = begin[d];
        step[d] = 1;
        size[d] = (int)want;
    }
    return gather_box(x, start, step, size, x->ndim, size);
}

tensor *op_pad(const tensor *x, const int *pads, float value, ierr *e)
{
    int nd = x->ndim, shape[TENSOR_MAXDIM];
    long long dims[TENSOR_MAXDIM];
    for (int d = 0; d < nd; d++) {
        if (pads[2 * d] < 0 || pads[2 * d + 1] < 0) { err_set(e, "Pad: negative padding"); return NULL; }
        dims[d] = (long long)x->shape[d] + pads[2 * d] + pads[2 * d + 1];
    }
    if (tensor_shape_ok(nd, dims, shape, "Pad", e)) return NULL;
    tensor *y = tensor_new(x->dtype, nd, shape);
    uint32_t fill;
    if (x->dtype == DT_F32) memcpy(&fill, &value, 4);
    else { int32_t iv = (int32_t)value; memcpy(&fill, &iv, 4); }
    uint32_t *dst = words(y);
    if (fill) for (size_t i = 0; i < y->n; i++) dst[i] = fill;
    if (!x->n) return y;
    if (nd == 0) { dst[0] = words(x)[0]; return y; }
    /* copy input rows (last dim) to their padded place */
    size_t rows = x->n / (size_t)x->shape[nd - 1], len = (size_t)x->shape[nd - 1];
    const uint32_t *src = words(x);
    int ix[TENSOR_MAXDIM] = {0};
    for (size_t r = 0; r < rows; r++) {
        size_t off = 0;
        for (int d = 0; d < nd - 1; d++) off = off * (size_t)shape[d] + (size_t)(ix[d] + pads[2 * d]);
        off = off * (size_t)shape[nd - 1] + (size_t)pads[2 * (nd - 1)];
        memcpy(dst + off, src + r * len, len * 4);
        for (int d = nd - 2; d >= 0; d--) {
            if (++ix[d] < x->shape[d]) break;
            ix[d] = 0;
        }
    }
    return y;
}

tensor *op_gather(const tensor *x, const tensor *indices, int axis, ierr *e)
{
    int nd = x->ndim;
    if (axis < 0) axis += nd;
    if (axis < 0 || axis >= nd || indices->dtype != DT_I32) {
        err_set(e, "GatherV2: bad axis %d or non-integer indices", axis);
        return NULL;
    }
    /* counted before the shape is filled: a 6-D operand gathered with 6-D
     * indices has 11 dims, and filling first wrote past shape[] */
    if (nd - 1 + indices->ndim > TENSOR_MAXDIM) { err_set(e, "GatherV2: result has too many dims"); return NULL; }
    int shape[TENSOR_MAXDIM] = {0}, on = 0;
    for (int d = 0; d < axis; d++) shape[on++] = x->shape[d];
    for (int d = 0; d < indices->ndim; d++) shape[on++] = indices->shape[d];
    for (int d = axis + 1; d < nd; d++) shape[on++] = x->shape[d];
    if (tensor_size_ok(on, shape, "GatherV2", e)) return NULL;
    size_t outer = prod(x->shape, 0, axis), inner = prod(x->shape, axis + 1, nd);
    int dim = x->shape[axis];
    for (size_t k = 0; k < indices->n; k++)
        if (indices->i[k] < 0 || indices->i[k] >= dim) {
            err_set(e, "GatherV2: index %d out of range [0, %d)", indices->i[k], dim);
            return NULL;
        }
    tensor *y = tensor_new_uninit(x->dtype, on, shape);
    const uint32_t *src = words(x);
    uint32_t *dst = words(y);
    for (size_t o = 0; o < outer; o++)
        for (size_t k = 0; k < indices->n; k++) {
            memcpy(dst, src + (o * (size_t)dim + (size_t)indices->i[k]) * inner, inner * 4);
            dst += inner;
        }
    return y;
}

tensor *op_reshape(const tensor *x, int ndim, const int *shape, ierr *e)
{
    tensor *y = tensor_clone(x);
    if (tensor_reshape(y, ndim, shape) != 0) {
        char s[96];
        err_set(e, "Reshape: cannot reshape %s to %d dims (%d,%d,...)", tensor_shape_str(x, s, sizeof s),
                ndim, ndim > 0 ? shape[0] : 0, ndim > 1 ? shape[1] : 0);
        tensor_free(y);
        return NULL;
    }
    return y;
}

tensor *op_tile(const tensor *x, const int *reps, ierr *e)
{
    int nd = x->ndim, shape[TENSOR_MAXDIM];
    long long dims[TENSOR_MAXDIM];
    for (int d = 0; d < nd; d++) {
        if (reps[d] < 0) { err_set(e, "Tile: negative multiple"); return NULL; }
        dims[d] = (long long)x->shape[d] * reps[d];
    }
    if (tensor_shape_ok(nd, dims, shape, "Tile", e)) return NULL;
    tensor *y = tensor_new(x->dtype, nd, shape);
    const uint32_t *src = words(x);
    uint32_t *dst = words(y);
    int ix[TENSOR_MAXDIM] = {0};
    for (size_t i = 0; i < y->n; i++) {
        size_t off = 0;
        for (int d = 0; d < nd; d++) off = off * (size_t)x->shape[d] + (size_t)(ix[d] % x->shape[d]);
        dst[i] = src[off];
        for (int d = nd - 1; d >= 0; d--) {
            if (++ix[d] < shape[d]) break;
            ix[d] = 0;
        }
    }
    return y;
}
