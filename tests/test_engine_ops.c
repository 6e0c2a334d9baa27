/* test_engine_ops.c — elementwise, shape and reduction ops against values
 * worked out by hand. */
#include "test.h"
#include "engine/ops.h"

static tensor *ft(int nd, const int *shape, const float *v)
{
    tensor *t = tensor_new(DT_F32, nd, shape);
    if (v) memcpy(t->f, v, t->n * sizeof(float));
    else for (size_t i = 0; i < t->n; i++) t->f[i] = (float)i;   /* 0, 1, 2, ... */
    return t;
}

static tensor *it(int nd, const int *shape, const int32_t *v)
{
    tensor *t = tensor_new(DT_I32, nd, shape);
    memcpy(t->i, v, t->n * sizeof(int32_t));
    return t;
}

static int same(const tensor *t, const float *want, size_t n, double tol)
{
    if (!t || t->n != n) { printf("# got %zu elements, want %zu\n", t ? t->n : 0, n); return 0; }
    for (size_t i = 0; i < n; i++) {
        double v = t->dtype == DT_F32 ? t->f[i] : t->i[i];
        if (fabs(v - want[i]) > tol) { printf("# element %zu: got %g, want %g\n", i, v, want[i]); return 0; }
    }
    return 1;
}

static int shape_is(const tensor *t, int nd, const int *s)
{
    if (!t || t->ndim != nd) return 0;
    for (int d = 0; d < nd; d++) if (t->shape[d] != s[d]) return 0;
    return 1;
}

TEST(broadcast_patterns)
{
    ierr e = {0};
    tensor *a = ft(2, (int[]){2, 3}, NULL);                 /* 0..5 */
    tensor *row = ft(1, (int[]){3}, (float[]){10, 20, 30});
    tensor *col = ft(2, (int[]){2, 1}, (float[]){100, 200});
    tensor *s = ft(0, NULL, (float[]){2});
    tensor *y = op_binary(a, row, BIN_ADD, &e);
    CHECK(shape_is(y, 2, (int[]){2, 3}) && same(y, (float[]){10, 21, 32, 13, 24, 35}, 6, 0));
    tensor_free(y);
    y = op_binary(col, a, BIN_SUB, &e);
    CHECK(same(y, (float[]){100, 99, 98, 197, 196, 195}, 6, 0));
    tensor_free(y);
    y = op_binary(s, a, BIN_MUL, &e);
    CHECK(same(y, (float[]){0, 2, 4, 6, 8, 10}, 6, 0));
    tensor_free(y);
    y = op_binary(a, s, BIN_DIV, &e);
    CHECK(same(y, (float[]){0, 0.5f, 1, 1.5f, 2, 2.5f}, 6, 1e-7));
    tensor_free(y);
    /* [2,1] x [1,3] -> [2,3]: the general strided walk */
    tensor *r13 = ft(2, (int[]){1, 3}, (float[]){1, 2, 3});
    y = op_binary(col, r13, BIN_MUL, &e);
    CHECK(shape_is(y, 2, (int[]){2, 3}) && same(y, (float[]){100, 200, 300, 200, 400, 600}, 6, 0));
    tensor_free(y);
    tensor *bad = ft(1, (int[]){4}, NULL);
    CHECK(op_binary(a, bad, BIN_ADD, &e) == NULL && e.set && strstr(e.msg, "broadcast"));
    tensor_free(a); tensor_free(row); tensor_free(col); tensor_free(s); tensor_free(r13); tensor_free(bad);
}

TEST(large_broadcast_uses_same_values)
{
    /* big enough for the threaded SIMD path: [1,64,64,24] * [1,1,1,24] and * [1,64,64,1] */
    ierr e = {0};
    tensor *x = ft(4, (int[]){1, 64, 64, 24}, NULL);
    tensor *c = ft(4, (int[]){1, 1, 1, 24}, NULL);
    tensor *p = ft(4, (int[]){1, 64, 64, 1}, NULL);
    tensor *y = op_binary(x, c, BIN_MUL, &e), *z = op_binary(p, x, BIN_SUB, &e);
    CHECK(y && z);
    for (size_t i = 0; i < y->n; i += 97) {
        CHECK_NEAR(y->f[i], (double)i * (double)(i % 24), 1e-3 * (double)i * 24);
        CHECK_NEAR(z->f[i], (double)(i / 24) - (double)i, 1e-3);
    }
    tensor_free(x); tensor_free(c); tensor_free(p); tensor_free(y); tensor_free(z);
}

TEST(integer_floor_ops_and_compare)
{
    ierr e = {0};
    tensor *a = it(1, (int[]){4}, (int32_t[]){-7, 7, -7, 6});
    tensor *b = it(1, (int[]){4}, (int32_t[]){2, 2, -2, 3});
    tensor *y = op_binary(a, b, BIN_FLOORDIV, &e);
    CHECK(y->dtype == DT_I32 && same(y, (float[]){-4, 3, 3, 2}, 4, 0));
    tensor_free(y);
    y = op_binary(a, b, BIN_FLOORMOD, &e);
    CHECK(same(y, (float[]){1, 1, -1, 0}, 4, 0));
    tensor_free(y);
    tensor *fa = ft(1, (int[]){2}, (float[]){-7.5f, 7.5f}), *fb = ft(1, (int[]){2}, (float[]){2, -2});
    y = op_binary(fa, fb, BIN_FLOORMOD, &e);
    CHECK(y->dtype == DT_F32 && same(y, (float[]){0.5f, -0.5f}, 2, 1e-6));
    tensor_free(y);
    y = op_binary(fa, fb, BIN_FLOORDIV, &e);
    CHECK(same(y, (float[]){-4, -4}, 2, 0));
    tensor_free(y);
    y = op_binary(a, b, BIN_EQUAL, &e);
    CHECK(y->dtype == DT_I32 && same(y, (float[]){0, 0, 0, 0}, 4, 0));
    tensor_free(y);
    tensor *c = it(1, (int[]){4}, (int32_t[]){-7, 0, 0, 6});
    y = op_binary(a, c, BIN_EQUAL, &e);
    CHECK(same(y, (float[]){1, 0, 0, 1}, 4, 0));
    tensor_free(y);
    /* mixed int/float: float result */
    y = op_binary(a, fb, BIN_ADD, &e);
    CHECK(y == NULL && e.set);   /* [4] vs [2] do not broadcast */
    err_clear(&e);
    tensor *one = ft(0, NULL, (float[]){0.5f});
    y = op_binary(a, one, BIN_ADD, &e);
    CHECK(y && y->dtype == DT_F32 && same(y, (float[]){-6.5f, 7.5f, -6.5f, 6.5f}, 4, 0));
    tensor_free(y);
    tensor_free(a); tensor_free(b); tensor_free(c); tensor_free(fa); tensor_free(fb); tensor_free(one);
}

TEST(unary_activations)
{
    ierr e = {0};
    tensor *x = ft(1, (int[]){5}, (float[]){-4, -1, 0, 1, 8});
    tensor *y = op_unary(x, UN_RELU6, &e);
    CHECK(same(y, (float[]){0, 0, 0, 1, 6}, 5, 0));
    tensor_free(y);
    y = op_unary(x, UN_HSWISH, &e);   /* x * relu6(x+3) / 6 */
    CHECK(same(y, (float[]){0, -1.0f / 3, 0, 4.0f / 6, 8}, 5, 1e-6));
    tensor_free(y);
    y = op_unary(x, UN_SIGMOID, &e);
    CHECK(same(y, (float[]){0.0179862100f, 0.268941421f, 0.5f, 0.731058579f, 0.999664650f}, 5, 1e-6));
    tensor_free(y);
    y = op_unary(x, UN_TANH, &e);
    CHECK(same(y, (float[]){-0.999329300f, -0.761594156f, 0, 0.761594156f, 0.999999775f}, 5, 1e-6));
    tensor_free(y);
    /* a long run takes the vector path: check it against the formula */
    tensor *big = ft(1, (int[]){1003}, NULL);
    for (size_t i = 0; i < big->n; i++) big->f[i] = (float)i / 50.0f - 10;
    y = op_unary(big, UN_SIGMOID, &e);
    for (size_t i = 0; i < big->n; i++) CHECK_NEAR(y->f[i], 1 / (1 + exp(-(double)big->f[i])), 2e-7);
    tensor_free(y); tensor_free(big);
    tensor_free(x);
}

TEST(addn_and_cast)
{
    ierr e = {0};
    tensor *a = ft(1, (int[]){3}, (float[]){1, 2, 3}), *b = ft(1, (int[]){3}, (float[]){10, 20, 30});
    const tensor *xs[3] = {a, b, a};
    tensor *y = op_addn(xs, 3, &e);
    CHECK(same(y, (float[]){12, 24, 36}, 3, 0));
    tensor_free(y);
    tensor *f = ft(1, (int[]){3}, (float[]){-1.7f, 2.9f, 0});
    tensor *i = op_cast(f, DT_I32);
    CHECK(i->dtype == DT_I32 && same(i, (float[]){-1, 2, 0}, 3, 0));
    tensor *back = op_cast(i, DT_F32);
    CHECK(back->dtype == DT_F32 && same(back, (float[]){-1, 2, 0}, 3, 0));
    tensor_free(a); tensor_free(b); tensor_free(f); tensor_free(i); tensor_free(back);
}

TEST(concat_transpose)
{
    ierr e = {0};
    tensor *a = ft(2, (int[]){2, 2}, (float[]){1, 2, 3, 4}), *b = ft(2, (int[]){2, 1}, (float[]){9, 8});
    const tensor *xs[2] = {a, b};
    tensor *y = op_concat(xs, 2, -1, &e);
    CHECK(shape_is(y, 2, (int[]){2, 3}) && same(y, (float[]){1, 2, 9, 3, 4, 8}, 6, 0));
    tensor_free(y);
    CHECK(op_concat(xs, 2, 0, &e) == NULL && e.set);
    tensor *x = ft(3, (int[]){2, 3, 4}, NULL);
    y = op_transpose(x, (int[]){2, 0, 1}, &e);
    CHECK(shape_is(y, 3, (int[]){4, 2, 3}));
    /* y[k][i][j] = x[i][j][k] = 12i + 4j + k */
    CHECK_NEAR(y->f[(1 * 2 + 1) * 3 + 2], 12 + 8 + 1, 0);
    CHECK_NEAR(y->f[(3 * 2 + 0) * 3 + 1], 4 + 3, 0);
    tensor_free(y);
    tensor_free(a); tensor_free(b); tensor_free(x);
}

TEST(strided_slice_masks)
{
    ierr e = {0};
    tensor *x = ft(3, (int[]){2, 3, 4}, NULL);
    tensor *y = op_strided_slice(x, (int[]){0, 1, 0}, (int[]){2, 3, 4}, (int[]){1, 1, 2}, 3, 0, 0, 0, 0, 0, &e);
    CHECK(shape_is(y, 3, (int[]){2, 2, 2}) && same(y, (float[]){4, 6, 8, 10, 16, 18, 20, 22}, 8, 0));
    tensor_free(y);
    /* shrink axis 0 -> [3,4] = 12..23 */
    y = op_strided_slice(x, (int[]){1}, (int[]){2}, (int[]){1}, 1, 0, 0, 0, 0, 1, &e);
    CHECK(shape_is(y, 2, (int[]){3, 4}) && y->f[0] == 12 && y->f[11] == 23);
    tensor_free(y);
    /* begin/end masks with negative stride: reverse the last axis */
    y = op_strided_slice(x, (int[]){0, 0, 0}, (int[]){0, 0, 0}, (int[]){1, 1, -1}, 3, 7, 7, 0, 0, 0, &e);
    CHECK(shape_is(y, 3, (int[]){2, 3, 4}) && y->f[0] == 3 && y->f[3] == 0 && y->f[4] == 7);
    tensor_free(y);
    /* ellipsis then new axis: x[..., None] */
    y = op_strided_slice(x, (int[]){0, 0}, (int[]){0, 0}, (int[]){1, 1}, 2, 0, 0, 1, 2, 0, &e);
    CHECK(shape_is(y, 4, (int[]){2, 3, 4, 1}) && y->f[23] == 23);
    tensor_free(y);
    /* negative begin, shrink on the last axis: x[:, :, -1] */
    y = op_strided_slice(x, (int[]){0, 0, -1}, (int[]){0, 0, 0}, (int[]){1, 1, 1}, 3, 3, 3, 0, 0, 4, &e);
    CHECK(shape_is(y, 2, (int[]){2, 3}) && same(y, (float[]){3, 7, 11, 15, 19, 23}, 6, 0));
    tensor_free(y);
    tensor *s = op_slice(x, (int[]){1, 1, 2}, (int[]){1, -1, 2}, &e);
    CHECK(shape_is(s, 3, (int[]){1, 2, 2}) && same(s, (float[]){18, 19, 22, 23}, 4, 0));
    tensor_free(s);
    tensor_free(x);
}

/* Begin, end, strides and sizes are values in a graph.  Sixteen new axes
 * once wrote past the 12-slot result shape (ASan), and strides of INT_MAX
 * or INT_MIN and a Slice reaching past INT_MAX overflowed int (UBSan). */
TEST(hostile_slices_are_errors_or_exact)
{
    ierr e = {0};
    tensor *x = ft(1, (int[]){4}, NULL);   /* 0 1 2 3 */
    int zero[16] = {0}, one[16];
    for (int i = 0; i < 16; i++) one[i] = 1;
    tensor *y = op_strided_slice(x, zero, zero, one, 16, 0, 0, 0, 0xffff, 0, &e);
    CHECKF(y == NULL && strstr(e.msg, "dims"), "%s", e.msg);
    tensor_free(y);
    err_clear(&e);
    y = op_strided_slice(x, (int[]){1}, (int[]){4}, (int[]){2147483647}, 1, 0, 0, 0, 0, 0, &e);
    CHECKF(shape_is(y, 1, (int[]){1}) && y->f[0] == 1, "%s", e.msg);
    tensor_free(y);
    y = op_strided_slice(x, (int[]){3}, (int[]){0}, (int[]){INT32_MIN}, 1, 0, 1, 0, 0, 0, &e);
    CHECKF(shape_is(y, 1, (int[]){1}) && y->f[0] == 3, "%s", e.msg);
    tensor_free(y);
    y = op_slice(x, (int[]){2147483647}, (int[]){2147483647}, &e);
    CHECKF(y == NULL && strstr(e.msg, "out of range"), "%s", e.msg);
    tensor_free(y);
    err_clear(&e);
    y = op_slice(x, (int[]){-2147483647 - 1}, (int[]){-1}, &e);
    CHECKF(y == NULL && strstr(e.msg, "out of range"), "%s", e.msg);
    tensor_free(y);
    tensor_free(x);
}

TEST(pad_gather_reshape_tile)
{
    ierr e = {0};
    tensor *x = ft(2, (int[]){2, 2}, (float[]){1, 2, 3, 4});
    tensor *y = op_pad(x, (int[]){1, 0, 0, 2}, 0, &e);
    CHECK(shape_is(y, 2, (int[]){3, 4}) && same(y, (float[]){0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0}, 12, 0));
    tensor_free(y);
    y = op_pad(x, (int[]){0, 0, 1, 1}, -1, &e);
    CHECK(same(y, (float[]){-1, 1, 2, -1, -1, 3, 4, -1}, 8, 0));
    tensor_free(y);
    tensor *idx = it(1, (int[]){3}, (int32_t[]){1, 0, 1});
    y = op_gather(x, idx, 1, &e);
    CHECK(shape_is(y, 2, (int[]){2, 3}) && same(y, (float[]){2, 1, 2, 4, 3, 4}, 6, 0));
    tensor_free(y);
    tensor *bad = it(1, (int[]){1}, (int32_t[]){2});
    CHECK(op_gather(x, bad, 0, &e) == NULL && e.set && strstr(e.msg, "out of range"));
    /* 6-D by 6-D indices is 11 dims: refused before any is written (the
     * shape was once filled first, past its 6 slots; ASan saw it) */
    tensor *x6 = ft(6, (int[]){1, 1, 1, 1, 1, 2}, NULL), *i6 = it(6, (int[]){1, 1, 1, 1, 1, 1}, (int32_t[]){0});
    err_clear(&e);
    CHECKF(op_gather(x6, i6, 0, &e) == NULL && strstr(e.msg, "too many dims"), "%s", e.msg);
    tensor_free(x6); tensor_free(i6);
    y = op_reshape(x, 3, (int[]){1, -1, 1}, &e);
    CHECK(shape_is(y, 3, (int[]){1, 4, 1}) && same(y, (float[]){1, 2, 3, 4}, 4, 0));
    tensor_free(y);
    y = op_tile(x, (int[]){1, 2}, &e);
    CHECK(shape_is(y, 2, (int[]){2, 4}) && same(y, (float[]){1, 2, 1, 2, 3, 4, 3, 4}, 8, 0));
    tensor_free(y);
    tensor_free(x); tensor_free(idx); tensor_free(bad);
}

TEST(reductions)
{
    ierr e = {0};
    tensor *x = ft(4, (int[]){1, 2, 2, 3}, NULL);    /* 0..11, NHWC */
    tensor *y = op_reduce(x, (int[]){1, 2}, 2, 1, RED_MEAN, &e);
    /* channel c: mean of c, c+3, c+6, c+9 = c + 4.5 */
    CHECK(shape_is(y, 4, (int[]){1, 1, 1, 3}) && same(y, (float[]){4.5f, 5.5f, 6.5f}, 3, 1e-6));
    tensor_free(y);
    y = op_reduce(x, (int[]){-1}, 1, 0, RED_MAX, &e);
    CHECK(shape_is(y, 3, (int[]){1, 2, 2}) && same(y, (float[]){2, 5, 8, 11}, 4, 0));
    tensor_free(y);
    /* non-contiguous axes 1 and 3: sum over h and c, keep w */
    y = op_reduce(x, (int[]){1, 3}, 2, 0, RED_SUM, &e);
    /* w=0: 0+1+2+6+7+8 = 24; w=1: 3+4+5+9+10+11 = 42 */
    CHECK(shape_is(y, 2, (int[]){1, 2}) && same(y, (float[]){24, 42}, 2, 0));
    tensor_free(y);
    CHECK(op_reduce(x, (int[]){4}, 1, 0, RED_SUM, &e) == NULL && e.set);
    tensor_free(x);
}

/* Outputs sized from values in a graph are held to TENSOR_MAX_ELEMS: an
 * empty [0, 2^31-1, 10] reduced over its empty axis once asked for 80 GB
 * while a model's constants were folded (fuzz_tfjs); a padding or tile
 * multiple near 2^31 overflowed int. */
TEST(outputs_past_the_element_limit_are_errors)
{
    ierr e = {0};
    tensor *empty = tensor_new(DT_F32, 3, (int[]){0, 2147483647, 10});
    CHECK(empty->n == 0);
    tensor *y = op_reduce(empty, (int[]){0}, 1, 0, RED_MAX, &e);
    CHECKF(y == NULL && strstr(e.msg, "reduction") && strstr(e.msg, "limit"), "%s", e.msg);
    tensor_free(y);
    err_clear(&e);
    y = op_argmax(empty, 0, &e);   /* the same shape, by ArgMax */
    CHECKF(y == NULL && strstr(e.msg, "ArgMax") && strstr(e.msg, "limit"), "%s", e.msg);
    tensor_free(y);
    tensor_free(empty);
    /* an int Max over an empty axis is -inf before it is stored: held to
     * int32's range, not an undefined conversion (fuzz_tfjs, UBSan) */
    tensor *iempty = tensor_new(DT_I32, 2, (int[]){0, 3});
    err_clear(&e);
    y = op_reduce(iempty, (int[]){0}, 1, 0, RED_MAX, &e);
    CHECKF(y && y->dtype == DT_I32 && y->n == 3 && y->i[0] == INT32_MIN && y->i[2] == INT32_MIN, "%s", e.msg);
    tensor_free(y);
    y = op_reduce(iempty, (int[]){0}, 1, 0, RED_MIN, &e);
    CHECK(y && y->i[1] == INT32_MAX);
    tensor_free(y);
    tensor_free(iempty);
    tensor *x = ft(2, (int[]){2, 3}, NULL);
    err_clear(&e);
    y = op_pad(x, (int[]){0, 2000000000, 0, 2000000000}, 0, &e);
    CHECKF(y == NULL && strstr(e.msg, "Pad"), "%s", e.msg);
    tensor_free(y);
    err_clear(&e);
    y = op_tile(x, (int[]){1 << 30, 4}, &e);
    CHECKF(y == NULL && strstr(e.msg, "Tile"), "%s", e.msg);
    tensor_free(y);
    /* a legitimate result is still made */
    err_clear(&e);
    y = op_tile(x, (int[]){1000, 2}, &e);
    CHECKF(y && shape_is(y, 2, (int[]){2000, 6}), "%s", e.msg);
    tensor_free(y);
    tensor_free(x);
    tensor *img = ft(4, (int[]){1, 2, 2, 1}, NULL);
    err_clear(&e);
    y = op_resize_bilinear(img, 100000, 100000, 0, 0, &e);
    CHECKF(y == NULL && strstr(e.msg, "resize"), "%s", e.msg);
    tensor_free(y);
    tensor_free(img);
    /* the limit's edge, exactly: 2^14 x 2^14 is TENSOR_MAX_ELEMS */
    CHECK(tensor_size_ok(2, (int[]){1 << 14, 1 << 14}, "edge", &e) == 0);
    err_clear(&e);
    CHECKF(tensor_size_ok(2, (int[]){1 << 14, (1 << 14) + 1}, "edge", &e) == -1 && strstr(e.msg, "edge"), "%s", e.msg);
    /* outputs that outgrow their operands: a broadcast of [2^20,1] by
     * [1,2^20] (4 TB once asked of malloc), a Gather of 2^20 rows of 2^20,
     * a Concat whose axis sums past int (wrapped once) */
    tensor *col = tensor_new(DT_F32, 2, (int[]){1 << 20, 1}), *row = tensor_new(DT_F32, 2, (int[]){1, 1 << 20});
    err_clear(&e);
    y = op_binary(col, row, BIN_ADD, &e);
    CHECKF(y == NULL && strstr(e.msg, "broadcast") && strstr(e.msg, "limit"), "%s", e.msg);
    tensor *zeros = tensor_new(DT_I32, 1, (int[]){1 << 20});
    err_clear(&e);
    y = op_gather(row, zeros, 0, &e);
    CHECKF(y == NULL && strstr(e.msg, "GatherV2") && strstr(e.msg, "limit"), "%s", e.msg);
    tensor_free(col); tensor_free(row); tensor_free(zeros);
    tensor *wide = tensor_new(DT_F32, 2, (int[]){0, 1 << 30});
    const tensor *three[3] = {wide, wide, wide};
    err_clear(&e);
    y = op_concat(three, 3, 1, &e);
    CHECKF(y == NULL && strstr(e.msg, "Concat") && strstr(e.msg, "out of range"), "%s", e.msg);
    tensor_free(wide);
}

TEST(softmax_topk_argmax)
{
    ierr e = {0};
    tensor *x = ft(2, (int[]){1, 3}, (float[]){1, 2, 3});
    tensor *y = op_softmax(x, &e);
    CHECK(same(y, (float[]){0.0900305732f, 0.244728471f, 0.665240956f}, 3, 1e-6));
    tensor_free(y);
    tensor *t = ft(1, (int[]){5}, (float[]){3, 1, 3, 2, 5});
    tensor *v, *ix;
    CHECK(op_topk(t, 3, &v, &ix, &e) == 0);
    CHECK(same(v, (float[]){5, 3, 3}, 3, 0) && same(ix, (float[]){4, 0, 2}, 3, 0));
    tensor_free(v); tensor_free(ix);
    CHECK(op_topk(t, 5, &v, &ix, &e) == 0);
    CHECK(same(ix, (float[]){4, 0, 2, 3, 1}, 5, 0));
    tensor_free(v); tensor_free(ix);
    CHECK(op_topk(t, 6, &v, &ix, &e) == -1 && e.set);
    tensor *a = op_argmax(t, 0, &e);
    CHECK(a && a->dtype == DT_I32 && a->ndim == 0 && a->i[0] == 4);
    tensor_free(a);
    tensor_free(t); tensor_free(x);
}

int main(void)
{
    RUN(broadcast_patterns);
    RUN(large_broadcast_uses_same_values);
    RUN(integer_floor_ops_and_compare);
    RUN(unary_activations);
    RUN(addn_and_cast);
    RUN(concat_transpose);
    RUN(strided_slice_masks);
    RUN(hostile_slices_are_errors_or_exact);
    RUN(pad_gather_reshape_tile);
    RUN(reductions);
    RUN(outputs_past_the_element_limit_are_errors);
    RUN(softmax_topk_argmax);
    return test_summary();
}
