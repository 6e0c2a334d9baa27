/* ops_elementwise.c — broadcasting binary ops, unary ops, AddN and Cast.
 *
 * Broadcasting is resolved once per call into the cheapest of four index
 * patterns, so the per-element loop stays simple:
 *   same shape | one side is a scalar | the small side repeats every k
 *   elements (its shape is a suffix, e.g. [C] against [N,H,W,C]) | the
 *   small side is constant over the last k elements ([N,H,W,1] against
 *   [N,H,W,C]); anything else takes the general strided walk. */
#include <math.h>
#include <string.h>

#include "engine/ops.h"
#include "engine/pool.h"
#include "engine/simd.h"

static inline float fbin(binop op, float a, float b)
{
    switch (op) {
    case BIN_ADD: return a + b;
    case BIN_SUB: return a - b;
    case BIN_MUL: return a * b;
    case BIN_DIV: return a / b;
    case BIN_FLOORDIV: return floorf(a / b);
    case BIN_FLOORMOD: { float m = fmodf(a, b); return (m != 0 && ((m < 0) != (b < 0))) ? m + b : m; }
    case BIN_MAX: return a > b ? a : b;
    case BIN_MIN: return a < b ? a : b;
    case BIN_POW: return powf(a, b);
    case BIN_SQDIFF: return (a - b) * (a - b);
    case BIN_EQUAL: return a == b;
    case BIN_NOTEQUAL: return a != b;
    case BIN_LESS: return a < b;
    case BIN_LESSEQ: return a <= b;
    case BIN_GREATER: return a > b;
    case BIN_GREATEREQ: return a >= b;
    case BIN_AND: return a != 0 && b != 0;
    case BIN_OR: return a != 0 || b != 0;
    }
    return 0;
}

static inline int32_t ibin(binop op, int32_t a, int32_t b)
{
    switch (op) {
    case BIN_ADD: return (int32_t)((uint32_t)a + (uint32_t)b);
    case BIN_SUB: return (int32_t)((uint32_t)a - (uint32_t)b);
    case BIN_MUL: return (int32_t)((uint32_t)a * (uint32_t)b);
    case BIN_DIV: return b ? (b == -1 ? (int32_t)(0u - (uint32_t)a) : a / b) : 0;
    case BIN_FLOORDIV: {
        if (!b) return 0;
        if (b == -1) return (int32_t)(0u - (uint32_t)a);
        int32_t q = a / b;
        return (q * b != a && ((a < 0) != (b < 0))) ? q - 1 : q;
    }
    case BIN_FLOORMOD: {
        if (!b || b == -1) return 0;
        int32_t m = a % b;
        return (m != 0 && ((m < 0) != (b < 0))) ? m + b : m;
    }
    case BIN_MAX: return a > b ? a : b;
    case BIN_MIN: return a < b ? a : b;
    case BIN_POW: return (int32_t)pow(a, b);
    case BIN_SQDIFF: return (a - b) * (a - b);
    case BIN_EQUAL: return a == b;
    case BIN_NOTEQUAL: return a != b;
    case BIN_LESS: return a < b;
    case BIN_LESSEQ: return a <= b;
    case BIN_GREATER: return a > b;
    case BIN_GREATEREQ: return a >= b;
    case BIN_AND: return a && b;
    case BIN_OR: return a || b;
    }
    return 0;
}

static int is_compare(binop op) { return op >= BIN_EQUAL; }

enum { PAT_SAME, PAT_SCALAR_A, PAT_SCALAR_B, PAT_REPEAT_A, PAT_REPEAT_B, PAT_SPREAD_A,
       PAT_SPREAD_B, PAT_GENERAL };

typedef struct bin_job {
    const tensor *a, *b;
    tensor *y;
    binop op;
    int pat;
    size_t k;                       /* repeat period / spread width */
    int nd;                         /* general: aligned rank */
    int shape[TENSOR_MAXDIM];
    size_t sa[TENSOR_MAXDIM], sb[TENSOR_MAXDIM];
} bin_job;

static inline void idx(const bin_job *j, size_t i, size_t *ia, size_t *ib)
{
    switch (j->pat) {
    case PAT_SAME: *ia = *ib = i; return;
    case PAT_SCALAR_A: *ia = 0; *ib = i; return;
    case PAT_SCALAR_B: *ia = i; *ib = 0; return;
    case PAT_REPEAT_A: *ia = i % j->k; *ib = i; return;
    case PAT_REPEAT_B: *ia = i; *ib = i % j->k; return;
    case PAT_SPREAD_A: *ia = i / j->k; *ib = i; return;
    case PAT_SPREAD_B: *ia = i; *ib = i / j->k; return;
    default: {
        size_t r = i, oa = 0, ob = 0;
        for (int d = j->nd - 1; d >= 0; d--) {
            size_t q = r % (size_t)j->shape[d];
            r /= (size_t)j->shape[d];
            oa += q * j->sa[d];
            ob += q * j->sb[d];
        }
        *ia = oa; *ib = ob;
    }
    }
}

HOT_LOOPS static void bin_run(void *ctx, long begin, long end)
{
    const bin_job *j = ctx;
    int fa = j->a->dtype == DT_F32, fb = j->b->dtype == DT_F32;
    if (fa && fb && j->pat == PAT_SAME && j->y->dtype == DT_I32 &&
        (j->op == BIN_EQUAL || j->op == BIN_GREATER || j->op == BIN_LESS)) {
        /* the comparisons detectors use on whole heatmaps (peak = max-pool) */
        const float *restrict a = j->a->f, *restrict b = j->b->f;
        int32_t *restrict y = j->y->i;
        if (j->op == BIN_EQUAL) for (long i = begin; i < end; i++) y[i] = a[i] == b[i];
        else if (j->op == BIN_GREATER) for (long i = begin; i < end; i++) y[i] = a[i] > b[i];
        else for (long i = begin; i < end; i++) y[i] = a[i] < b[i];
        return;
    }
    if (fa && fb && j->y->dtype == DT_F32 && j->pat != PAT_GENERAL) {
        /* every non-general pattern is a run of vector-vector or
         * vector-scalar pieces: hand those to the SIMD kernel */
        const float *a = j->a->f, *b = j->b->f;
        float *y = j->y->f;
        long i = begin;
        int done = 1;
        while (done && i < end) {
            size_t ia, ib, len = (size_t)(end - i);
            idx(j, (size_t)i, &ia, &ib);
            int sa = 1, sb = 1;
            switch (j->pat) {
            case PAT_SCALAR_A: sa = 0; break;
            case PAT_SCALAR_B: sb = 0; break;
            case PAT_REPEAT_A: case PAT_REPEAT_B: {
                size_t rest = j->k - (size_t)i % j->k;
                if (len > rest) len = rest;
                break;
            }
            case PAT_SPREAD_A: case PAT_SPREAD_B: {
                size_t rest = j->k - (size_t)i % j->k;
                if (len > rest) len = rest;
                if (j->pat == PAT_SPREAD_A) sa = 0; else sb = 0;
                break;
            }
            default: break;
            }
            done = simd_binary(j->op, a + ia, sa, b + ib, sb, y + i, len);
            if (done) i += (long)len;
        }
        if (done) return;
    }
    for (long i = begin; i < end; i++) {
        size_t ia, ib;
        idx(j, (size_t)i, &ia, &ib);
        if (!fa && !fb) {
            int32_t v = ibin(j->op, j->a->i[ia], j->b->i[ib]);
            j->y->i[i] = v;
        } else {
            float va = fa ? j->a->f[ia] : (float)j->a->i[ia];
            float vb = fb ? j->b->f[ib] : (float)j->b->i[ib];
            float v = fbin(j->op, va, vb);
            if (j->y->dtype == DT_F32) j->y->f[i] = v;
            else j->y->i[i] = (int32_t)v;
        }
    }
}

/* Is `small` (aligned to nd dims) equal to `big` on dims [from, nd) and 1 before? */
static int suffix_of(const int *small, const int *big, int nd, int from)
{
    for (int d = 0; d < nd; d++)
        if (d < from ? small[d] != 1 : small[d] != big[d]) return 0;
    return 1;
}

static void classify(bin_job *j, const int *as, const int *bs, int nd)
{
    size_t na = j->a->n, nb = j->b->n, ny = j->y->n;
    if (na == ny && nb == ny) { j->pat = PAT_SAME; return; }
    if (na == 1) { j->pat = PAT_SCALAR_A; return; }
    if (nb == 1) { j->pat = PAT_SCALAR_B; return; }
    const int *ys = j->shape;
    for (int from = 1; from < nd; from++) {
        if (nb < ny && suffix_of(bs, ys, nd, from) && na == ny) { j->pat = PAT_REPEAT_B; j->k = nb; return; }
        if (na < ny && suffix_of(as, ys, nd, from) && nb == ny) { j->pat = PAT_REPEAT_A; j->k = na; return; }
    }
    /* prefix: small equals big on [0, to) and is 1 after */
    for (int to = nd - 1; to >= 1; to--) {
        int okb = nb < ny && na == ny, oka = na < ny && nb == ny;
        size_t k = 1;
        for (int d = 0; d < nd; d++) {
            if (d < to) { okb &= bs[d] == ys[d]; oka &= as[d] == ys[d]; }
            else { okb &= bs[d] == 1; oka &= as[d] == 1; k *= (size_t)ys[d]; }
        }
        if (okb) { j->pat = PAT_SPREAD_B; j->k = k; return; }
        if (oka) { j->pat = PAT_SPREAD_A; j->k = k; return; }
    }
    j->pat = PAT_GENERAL;
    size_t sa = 1, sb = 1;
    for (int d = nd - 1; d >= 0; d--) {
        j->sa[d] = as[d] == 1 ? 0 : sa;
        j->sb[d] = bs[d] == 1 ? 0 : sb;
        sa *= (size_t)as[d];
        sb *= (size_t)bs[d];
    }
}

tensor *op_binary(const tensor *a, const tensor *b, binop op, ierr *e)
{
    bin_job j = {0};
    j.a = a; j.b = b; j.op = op;
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    int as[TENSOR_MAXDIM], bs[TENSOR_MAXDIM];
    for (int d = 0; d < nd; d++) {
        int da = d - (nd - a->ndim), db = d - (nd - b->ndim);
        as[d] = da >= 0 ? a->shape[da] : 1;
        bs[d] = db >= 0 ? b->shape[db] : 1;
        if (as[d] != bs[d] && as[d] != 1 && bs[d] != 1) {
            char s1[96], s2[96];
            err_set(e, "incompatible shapes for broadcasting: %s and %s",
                    tensor_shape_str(a, s1, sizeof s1), tensor_shape_str(b, s2, sizeof s2));
            return NULL;
        }
        j.shape[d] = as[d] == 1 ? bs[d] : as[d];
    }
    j.nd = nd;
    if (tensor_size_ok(nd, j.shape, "broadcast", e)) return NULL;
    tensor_dtype dt = (a->dtype == DT_I32 && b->dtype == DT_I32) || is_compare(op) ? DT_I32 : DT_F32;
    j.y = tensor_new_uninit(dt, nd, j.shape);
    if (!j.y->n) return j.y;
    classify(&j, as, bs, nd);
    pool_for((long)j.y->n, 16384, bin_run, &j);
    return j.y;
}

/* ---- unary ---------------------------------------------------------- */

static inline float fun(unop op, float v)
{
    switch (op) {
    case UN_RELU: return v > 0 ? v : 0;
    case UN_RELU6: return v < 0 ? 0 : v > 6 ? 6 : v;
    case UN_SIGMOID: return 1.0f / (1.0f + expf(-v));
    case UN_TANH: return tanhf(v);
    case UN_HSWISH: { float r = v + 3; r = r < 0 ? 0 : r > 6 ? 6 : r; return v * r / 6; }
    case UN_EXP: return expf(v);
    case UN_LOG: return logf(v);
    case UN_SQRT: return sqrtf(v);
    case UN_RSQRT: return 1.0f / sqrtf(v);
    case UN_NEG: return -v;
    case UN_ABS: return fabsf(v);
    case UN_SQUARE: return v * v;
    case UN_FLOOR: return floorf(v);
    case UN_CEIL: return ceilf(v);
    case UN_ROUND: return rintf(v);   /* banker's rounding, as TF Round */
    case UN_RECIP: return 1.0f / v;
    case UN_ELU: return v < 0 ? expm1f(v) : v;
    case UN_SOFTPLUS: return v > 20 ? v : log1pf(expf(v));
    case UN_IDENTITY: return v;
    }
    return v;
}

typedef struct un_job { const tensor *x; tensor *y; unop op; } un_job;

HOT_LOOPS static void un_run(void *ctx, long begin, long end)
{
    const un_job *j = ctx;
    const float *x = j->x->f;
    float *y = j->y->f;
    if (j->op == UN_RELU) {
        for (long i = begin; i < end; i++) y[i] = x[i] > 0 ? x[i] : 0;
        return;
    }
    if (j->op == UN_SIGMOID) {
        simd_sigmoid(x + begin, y + begin, (size_t)(end - begin));
        return;
    }
    if (j->op == UN_RELU6) {
        for (long i = begin; i < end; i++) y[i] = x[i] < 0 ? 0 : x[i] > 6 ? 6 : x[i];
        return;
    }
    for (long i = begin; i < end; i++) y[i] = fun(j->op, x[i]);
}

tensor *op_unary(const tensor *x, unop op, ierr *e)
{
    if (x->dtype == DT_I32) {
        tensor *y = tensor_new(DT_I32, x->ndim, x->shape);
        for (size_t i = 0; i < x->n; i++) {
            int32_t v = x->i[i];
            switch (op) {
            case UN_NEG: v = (int32_t)(0u - (uint32_t)v); break;
            case UN_ABS: v = v < 0 ? (int32_t)(0u - (uint32_t)v) : v; break;
            case UN_RELU: v = v > 0 ? v : 0; break;
            case UN_SQUARE: v = (int32_t)((uint32_t)v * (uint32_t)v); break;
            case UN_IDENTITY: case UN_FLOOR: case UN_CEIL: case UN_ROUND: break;
            default:
                tensor_free(y);
                err_set(e, "unary op %d is not defined on int32 tensors", (int)op);
                return NULL;
            }
            y->i[i] = v;
        }
        return y;
    }
    un_job j = {x, tensor_new_uninit(DT_F32, x->ndim, x->shape), op};
    pool_for((long)x->n, 16384, un_run, &j);
    return j.y;
}

tensor *op_addn(const tensor *const *xs, int n, ierr *e)
{
    if (n < 1) { err_set(e, "AddN: no inputs"); return NULL; }
    for (int k = 1; k < n; k++)
        if (xs[k]->n != xs[0]->n || xs[k]->dtype != xs[0]->dtype) {
            err_set(e, "AddN: inputs differ in shape or type");
            return NULL;
        }
    tensor *y = tensor_clone(xs[0]);
    for (int k = 1; k < n; k++)
        for (size_t i = 0; i < y->n; i++) {
            if (y->dtype == DT_F32) y->f[i] += xs[k]->f[i];
            else y->i[i] += xs[k]->i[i];
        }
    return y;
}

HOT_LOOPS tensor *op_cast(const tensor *x, tensor_dtype to)
{
    if (x->dtype == to) return tensor_clone(x);
    tensor *y = tensor_new_uninit(to, x->ndim, x->shape);
    if (to == DT_F32) {
        const int32_t *restrict src = x->i;
        float *restrict dst = y->f;
        for (size_t i = 0; i < x->n; i++) dst[i] = (float)src[i];
        return y;
    }
    for (size_t i = 0; i < x->n; i++) {
        {
            float v = x->f[i];
            y->i[i] = isnan(v) ? 0 : v >= 2147483647.0f ? INT32_MAX : v <= -2147483648.0f ? INT32_MIN : (int32_t)v;
        }
    }
    return y;
}
