/* test_engine_conv.c — convolution, depthwise, transposed conv, matmul,
 * pooling and resizing against values worked out by hand. */
#include "test.h"
#include "engine/engine.h"
#include "engine/ops.h"

static tensor *mk(int n, int h, int w, int c, const float *v)
{
    tensor *t = tensor_new4(n, h, w, c);
    if (v) memcpy(t->f, v, t->n * sizeof(float));
    else for (size_t i = 0; i < t->n; i++) t->f[i] = (float)(i + 1);   /* 1, 2, 3, ... */
    return t;
}

static int same(const tensor *t, const float *want, size_t n, double tol)
{
    if (!t || t->n != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(t->f[i] - want[i]) > tol) {
            printf("# element %zu: got %g, want %g\n", i, t->f[i], want[i]);
            return 0;
        }
    return 1;
}

static conv_spec spec(int stride, int dil, int mode)
{
    conv_spec s = {stride, stride, dil, dil, mode, 0, 0, 0, 0};
    return s;
}

TEST(conv_valid_and_same)
{
    ierr e = {0};
    tensor *x = mk(1, 3, 3, 1, NULL);
    float ones4[4] = {1, 1, 1, 1}, ones9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    tensor *w = mk(2, 2, 1, 1, ones4);
    conv_spec s = spec(1, 1, PAD_VALID);
    tensor *y = op_conv2d(x, w, NULL, NULL, &s, &e);
    CHECK(y && y->shape[1] == 2 && y->shape[2] == 2);
    CHECK(same(y, (float[]){12, 16, 24, 28}, 4, 1e-5));
    tensor_free(y);
    tensor *w3 = mk(3, 3, 1, 1, ones9);
    s = spec(2, 1, PAD_SAME);      /* out 2x2, one pixel of padding top/left */
    y = op_conv2d(x, w3, NULL, NULL, &s, &e);
    CHECK(same(y, (float[]){12, 16, 24, 28}, 4, 1e-5));
    tensor_free(y);
    s = spec(1, 1, PAD_SAME);      /* 3x3: centre sees all nine */
    y = op_conv2d(x, w3, NULL, NULL, &s, &e);
    CHECK(same(y, (float[]){12, 21, 16, 27, 45, 33, 24, 39, 28}, 9, 1e-5));
    tensor_free(y);
    tensor_free(x); tensor_free(w); tensor_free(w3);
}

TEST(conv_1x1_bias_relu6_channels)
{
    ierr e = {0};
    tensor *x = mk(1, 1, 2, 2, (float[]){1, 2, 3, 4});
    tensor *w = mk(1, 1, 2, 3, (float[]){1, 0, 1, 0, 1, 1});   /* [ci][co] */
    float bias[3] = {1, 1, 1};
    act_spec a = {ACT_RELU6, 0, NULL};
    conv_spec s = spec(1, 1, PAD_VALID);
    tensor *y = op_conv2d(x, w, bias, &a, &s, &e);
    CHECK(y && y->shape[3] == 3);
    CHECK(same(y, (float[]){2, 3, 4, 4, 5, 6}, 6, 1e-6));   /* 3+4+1 = 8 -> 6 */
    tensor_free(y); tensor_free(x); tensor_free(w);
}

TEST(conv_dilation_and_explicit_pad)
{
    ierr e = {0};
    tensor *x = mk(1, 5, 5, 1, NULL);
    tensor *w = mk(2, 2, 1, 1, (float[]){1, 1, 1, 1});
    conv_spec s = spec(1, 2, PAD_VALID);     /* taps at 0 and 2 */
    tensor *y = op_conv2d(x, w, NULL, NULL, &s, &e);
    CHECK(y && y->shape[1] == 3 && y->shape[2] == 3);
    CHECK_NEAR(y->f[0], 1 + 3 + 11 + 13, 1e-5);
    CHECK_NEAR(y->f[8], 13 + 15 + 23 + 25, 1e-5);
    tensor_free(y); tensor_free(x);
    x = mk(1, 2, 2, 1, NULL);
    conv_spec ex = {1, 1, 1, 1, PAD_EXPLICIT, 1, 0, 0, 1};   /* top 1, right 1 */
    y = op_conv2d(x, w, NULL, NULL, &ex, &e);
    CHECK(y && y->shape[1] == 2 && y->shape[2] == 2);
    CHECK(same(y, (float[]){3, 2, 10, 6}, 4, 1e-5));
    tensor_free(y); tensor_free(x); tensor_free(w);
}

TEST(conv_errors)
{
    ierr e = {0};
    tensor *x = mk(1, 2, 2, 1, NULL);
    tensor *w = mk(3, 3, 1, 1, NULL);
    conv_spec s = spec(1, 1, PAD_VALID);
    CHECK(op_conv2d(x, w, NULL, NULL, &s, &e) == NULL);
    CHECK(e.set && strstr(e.msg, "does not fit"));
    tensor *w2 = mk(1, 1, 2, 1, NULL);
    err_clear(&e);
    CHECK(op_conv2d(x, w2, NULL, NULL, &s, &e) == NULL && e.set);
    tensor_free(x); tensor_free(w); tensor_free(w2);
}

TEST(depthwise)
{
    ierr e = {0};
    float xv[18];
    for (int i = 0; i < 9; i++) { xv[2 * i] = (float)(i + 1); xv[2 * i + 1] = 10.0f * (float)(i + 1); }
    tensor *x = mk(1, 3, 3, 2, xv);
    float wv[18] = {0};
    for (int t = 0; t < 9; t++) wv[2 * t] = 1;   /* ch0: box filter */
    wv[2 * 4 + 1] = 1;                           /* ch1: centre tap only */
    tensor *w = mk(3, 3, 2, 1, wv);
    conv_spec s = spec(1, 1, PAD_SAME);
    tensor *y = op_depthwise(x, w, (float[]){0, 0.5f}, NULL, &s, &e);
    CHECK(y && y->shape[3] == 2);
    CHECK_NEAR(y->f[2 * 4], 45, 1e-5);
    CHECK_NEAR(y->f[2 * 4 + 1], 50.5, 1e-5);
    CHECK_NEAR(y->f[0], 12, 1e-5);
    CHECK_NEAR(y->f[1], 10.5, 1e-5);
    tensor_free(y);
    /* stride 2 + relu on negated weights clamps everything to 0 */
    for (int k = 0; k < 18; k++) wv[k] = -wv[k];
    tensor *wn = mk(3, 3, 2, 1, wv);
    act_spec relu = {ACT_RELU, 0, NULL};
    s = spec(2, 1, PAD_SAME);
    y = op_depthwise(x, wn, NULL, &relu, &s, &e);
    CHECK(y && y->shape[1] == 2 && y->shape[2] == 2);
    for (size_t k = 0; k < y->n; k++) CHECK(y->f[k] == 0);
    tensor_free(y); tensor_free(wn); tensor_free(x); tensor_free(w);
}

/* 43 channels x 13 columns exercise the SIMD kernel's 4-pixel interior
 * path, its edge path and the scalar channel tail, at strides 1 and 2 */
static void dw_reference(int stride)
{
    ierr e = {0};
    int c = 43, h = 4, wd = 13;
    tensor *x = tensor_new4(1, h, wd, c), *w = tensor_new4(3, 3, c, 1);
    for (size_t i = 0; i < x->n; i++) x->f[i] = (float)((i * 37) % 11) - 5;
    for (size_t i = 0; i < w->n; i++) w->f[i] = (float)((i * 13) % 7) - 3;
    conv_spec s = spec(stride, 1, PAD_SAME);
    tensor *y = op_depthwise(x, w, NULL, NULL, &s, &e);
    CHECK(y);
    int oh = y->shape[1], ow = y->shape[2], pt, pl;
    conv_out_dim(h, 3, stride, 1, PAD_SAME, 0, 0, &pt);
    conv_out_dim(wd, 3, stride, 1, PAD_SAME, 0, 0, &pl);
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
            for (int ch = 0; ch < c; ch++) {
                double ref = 0;
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++) {
                        int iy = oy * stride - pt + ky, ix = ox * stride - pl + kx;
                        if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                        ref += x->f[(iy * wd + ix) * c + ch] * w->f[(ky * 3 + kx) * c + ch];
                    }
                CHECK_NEAR(y->f[(oy * ow + ox) * c + ch], ref, 1e-4);
            }
    tensor_free(y); tensor_free(x); tensor_free(w);
}

TEST(depthwise_wide_channels_match_reference) { dw_reference(1); }
TEST(depthwise_stride2_matches_reference) { dw_reference(2); }

TEST(depthwise_multiplier)
{
    ierr e = {0};
    tensor *x = mk(1, 1, 2, 1, (float[]){1, 2});
    tensor *w = mk(1, 1, 1, 2, (float[]){2, 3});
    conv_spec s = spec(1, 1, PAD_VALID);
    tensor *y = op_depthwise(x, w, NULL, NULL, &s, &e);
    CHECK(y && y->shape[3] == 2);
    CHECK(same(y, (float[]){2, 3, 4, 6}, 4, 1e-6));
    tensor_free(y); tensor_free(x); tensor_free(w);
}

TEST(transposed_conv)
{
    ierr e = {0};
    tensor *dy = mk(1, 1, 1, 1, (float[]){1});
    tensor *w = mk(2, 2, 1, 1, (float[]){1, 2, 3, 4});
    conv_spec s = spec(2, 1, PAD_VALID);
    tensor *y = op_conv2d_transpose(dy, w, (int[]){1, 2, 2, 1}, &s, &e);
    CHECK(same(y, (float[]){1, 2, 3, 4}, 4, 1e-6));
    tensor_free(y); tensor_free(dy); tensor_free(w);
    dy = mk(1, 2, 2, 1, (float[]){1, 2, 3, 4});
    w = mk(1, 1, 1, 1, (float[]){1});
    y = op_conv2d_transpose(dy, w, (int[]){1, 4, 4, 1}, &s, &e);
    CHECK(y && y->n == 16);
    CHECK(same(y, (float[]){1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0}, 16, 1e-6));
    tensor_free(y); tensor_free(dy); tensor_free(w);
    /* channels: y[cx] = sum_cy W[cx][cy] dy[cy] */
    dy = mk(1, 1, 1, 2, (float[]){1, 2});
    w = mk(1, 1, 3, 2, (float[]){1, 0, 0, 1, 1, 1});
    s = spec(1, 1, PAD_SAME);
    y = op_conv2d_transpose(dy, w, (int[]){1, 1, 1, 3}, &s, &e);
    CHECK(same(y, (float[]){1, 2, 3}, 3, 1e-6));
    tensor_free(y);
    /* wrong output size is an error, not a crash */
    CHECK(op_conv2d_transpose(dy, w, (int[]){1, 5, 5, 3}, &s, &e) == NULL && e.set);
    tensor_free(dy); tensor_free(w);
}

TEST(matmul_bias_relu_transpose)
{
    ierr e = {0};
    int sa[2] = {2, 3}, sb[2] = {3, 2}, sbt[2] = {2, 3};
    tensor *a = tensor_new(DT_F32, 2, sa), *b = tensor_new(DT_F32, 2, sb), *bt = tensor_new(DT_F32, 2, sbt);
    memcpy(a->f, (float[]){1, 2, 3, 4, 5, 6}, 24);
    memcpy(b->f, (float[]){1, -1, 0, 1, 1, -1}, 24);
    memcpy(bt->f, (float[]){1, 0, 1, -1, 1, -1}, 24);   /* b transposed */
    act_spec relu = {ACT_RELU, 0, NULL};
    tensor *y = op_matmul(a, b, 0, 0, (float[]){0.5f, 0}, &relu, &e);
    /* rows: [1+3, -1+2-3] = [4, -2]; [4+6, -4+5-6] = [10, -5] */
    CHECK(same(y, (float[]){4.5f, 0, 10.5f, 0}, 4, 1e-6));
    tensor_free(y);
    y = op_matmul(a, bt, 0, 1, NULL, NULL, &e);
    CHECK(same(y, (float[]){4, -2, 10, -5}, 4, 1e-6));
    tensor_free(y);
    CHECK(op_matmul(a, a, 0, 0, NULL, NULL, &e) == NULL && e.set);
    tensor_free(a); tensor_free(b); tensor_free(bt);
}

TEST(pooling)
{
    ierr e = {0};
    tensor *x = mk(1, 4, 4, 1, NULL);
    conv_spec s = spec(2, 1, PAD_VALID);
    tensor *y = op_pool(x, 2, 2, &s, 1, &e);
    CHECK(same(y, (float[]){6, 8, 14, 16}, 4, 0));
    tensor_free(y);
    y = op_pool(x, 2, 2, &s, 0, &e);
    CHECK(same(y, (float[]){3.5f, 5.5f, 11.5f, 13.5f}, 4, 1e-6));
    tensor_free(y); tensor_free(x);
    /* SAME: padding is ignored, not counted as zeros */
    x = mk(1, 2, 2, 1, (float[]){-1, -2, -3, -4});
    s = spec(1, 1, PAD_SAME);
    y = op_pool(x, 3, 3, &s, 0, &e);
    CHECK(same(y, (float[]){-2.5f, -2.5f, -2.5f, -2.5f}, 4, 1e-6));
    tensor_free(y);
    y = op_pool(x, 3, 3, &s, 1, &e);
    CHECK(same(y, (float[]){-1, -1, -1, -1}, 4, 0));
    tensor_free(y); tensor_free(x);
}

TEST(resize_bilinear_modes)
{
    ierr e = {0};
    tensor *x = mk(1, 2, 2, 1, (float[]){0, 1, 2, 3});
    tensor *y = op_resize_bilinear(x, 4, 4, 0, 0, &e);
    CHECK(same(y, (float[]){0, 0.5f, 1, 1, 1, 1.5f, 2, 2, 2, 2.5f, 3, 3, 2, 2.5f, 3, 3}, 16, 1e-6));
    tensor_free(y);
    y = op_resize_bilinear(x, 4, 4, 0, 1, &e);
    CHECK(same(y, (float[]){0, 0.25f, 0.75f, 1, 0.5f, 0.75f, 1.25f, 1.5f,
                            1.5f, 1.75f, 2.25f, 2.5f, 2, 2.25f, 2.75f, 3}, 16, 1e-6));
    tensor_free(y);
    y = op_resize_bilinear(x, 3, 3, 1, 0, &e);
    CHECK(same(y, (float[]){0, 0.5f, 1, 1, 1.5f, 2, 2, 2.5f, 3}, 9, 1e-6));
    tensor_free(y);
    CHECK(op_resize_bilinear(x, 0, 3, 0, 0, &e) == NULL && e.set);
    tensor_free(x);
}

TEST(resize_nearest_modes)
{
    ierr e = {0};
    tensor *x = mk(1, 2, 2, 1, (float[]){0, 1, 2, 3});
    tensor *y = op_resize_nearest(x, 4, 4, 0, 0, &e);
    CHECK(same(y, (float[]){0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3}, 16, 0));
    tensor_free(y);
    y = op_resize_nearest(x, 4, 4, 0, 1, &e);
    CHECK(same(y, (float[]){0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3}, 16, 0));
    tensor_free(y);
    y = op_resize_nearest(x, 3, 3, 1, 0, &e);   /* round(0.5) = 1 */
    CHECK(same(y, (float[]){0, 1, 1, 2, 3, 3, 2, 3, 3}, 9, 0));
    tensor_free(y); tensor_free(x);
}

/* Every value below may come from a model file.  Products of two
 * operands' dims (output channels, a broadcast) and shapes taken from the
 * graph (a transposed convolution's output, explicit padding) are held to
 * TENSOR_MAX_ELEMS: an error, not an allocation of tens of GB.  Strides,
 * dilations, windows and pads that no convolution has are errors, not
 * int overflow or a division by a zero stride. */
TEST(hostile_shapes_and_specs_are_errors)
{
    ierr e = {0};
    tensor *x = mk(1, 256, 256, 1, NULL), *w = tensor_new4(1, 1, 1, 8192);   /* 2^16 pixels x 2^13 */
    conv_spec s = spec(1, 1, PAD_VALID);
    tensor *y = op_conv2d(x, w, NULL, NULL, &s, &e);
    CHECKF(y == NULL && strstr(e.msg, "Conv2D") && strstr(e.msg, "limit"), "%s", e.msg);
    err_clear(&e);
    y = op_depthwise(x, w, NULL, NULL, &s, &e);
    CHECKF(y == NULL && strstr(e.msg, "DepthwiseConv2d") && strstr(e.msg, "limit"), "%s", e.msg);
    tensor_free(x); tensor_free(w);

    tensor *a = tensor_new(DT_F32, 2, (int[]){1 << 20, 1}), *b = tensor_new(DT_F32, 2, (int[]){1, 1 << 20});
    err_clear(&e);
    y = op_matmul(a, b, 0, 0, NULL, NULL, &e);
    CHECKF(y == NULL && strstr(e.msg, "MatMul") && strstr(e.msg, "limit"), "%s", e.msg);
    tensor_free(a); tensor_free(b);

    tensor *px = mk(1, 1, 1, 1, NULL);
    conv_spec pad = {1, 1, 1, 1, PAD_EXPLICIT, 20000, 20000, 20000, 20000};
    err_clear(&e);
    y = op_pool(px, 1, 1, &pad, 1, &e);
    CHECKF(y == NULL && strstr(e.msg, "MaxPool") && strstr(e.msg, "limit"), "%s", e.msg);

    /* a 100000x100000 output reached with a 100000 stride from one pixel */
    tensor *w1 = mk(1, 1, 1, 1, NULL);
    conv_spec big = spec(100000, 1, PAD_VALID);
    err_clear(&e);
    y = op_conv2d_transpose(px, w1, (int[]){1, 100000, 100000, 1}, &big, &e);
    CHECKF(y == NULL && strstr(e.msg, "Conv2DBackpropInput") && strstr(e.msg, "limit"), "%s", e.msg);
    tensor_free(px);

    /* a zero stride once passed conv_out_dim as 1 and then divided by zero
     * in the transposed convolution's scatter */
    tensor *dy = mk(1, 10, 10, 1, NULL);
    conv_spec zero = spec(0, 1, PAD_VALID);
    err_clear(&e);
    y = op_conv2d_transpose(dy, w1, (int[]){1, 10, 10, 1}, &zero, &e);
    CHECKF(y == NULL && strstr(e.msg, "does not match"), "%s", e.msg);
    err_clear(&e);
    y = op_conv2d(dy, w1, NULL, NULL, &zero, &e);
    CHECKF(y == NULL && strstr(e.msg, "does not fit"), "%s", e.msg);
    tensor_free(dy); tensor_free(w1);

    int lead = 0;
    CHECK(conv_out_dim(10, 3, 1, 2147483647, PAD_SAME, 0, 0, &lead) < 0);     /* (k-1)*dil past int */
    CHECK(conv_out_dim(10, 3, 1, 2147483647, PAD_VALID, 0, 0, &lead) <= 0);
    CHECK(conv_out_dim(10, 1, 1, 1, PAD_EXPLICIT, 2147483647, 2147483647, &lead) < 0);
    CHECK(conv_out_dim(10, 1, 2147483647, 1, PAD_SAME, 0, 0, &lead) == 1);    /* in + stride once wrapped */
    CHECK(conv_out_dim(10, 3, 1, 1, PAD_EXPLICIT, -5, 0, &lead) < 0);
    CHECK(conv_out_dim(10, 0, 1, 1, PAD_VALID, 0, 0, &lead) < 0);
    CHECK(conv_out_dim(10, 3, 1, 0, PAD_VALID, 0, 0, &lead) < 0);
    /* and the ordinary cases still hold (TensorFlow's rules) */
    CHECK(conv_out_dim(10, 3, 2, 1, PAD_SAME, 0, 0, &lead) == 5 && lead == 0);
    CHECK(conv_out_dim(10, 3, 1, 1, PAD_SAME, 0, 0, &lead) == 10 && lead == 1);
    CHECK(conv_out_dim(10, 3, 1, 2, PAD_VALID, 0, 0, &lead) == 6 && lead == 0);
    CHECK(conv_out_dim(10, 3, 1, 1, PAD_EXPLICIT, 2, 1, &lead) == 11 && lead == 2);
}

TEST(threads_give_same_result)
{
    ierr e = {0};
    tensor *x = tensor_new4(2, 33, 17, 24), *w = tensor_new4(3, 3, 24, 16);
    for (size_t i = 0; i < x->n; i++) x->f[i] = (float)((i * 31) % 17) / 17.0f - 0.5f;
    for (size_t i = 0; i < w->n; i++) w->f[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
    conv_spec s = spec(2, 1, PAD_SAME);
    engine_set_threads(1);
    tensor *y1 = op_conv2d(x, w, NULL, NULL, &s, &e);
    engine_set_threads(4);
    tensor *y4 = op_conv2d(x, w, NULL, NULL, &s, &e);
    engine_set_threads(0);
    CHECK(y1 && y4 && y1->n == y4->n);
    for (size_t i = 0; i < y1->n; i++) CHECK_NEAR(y4->f[i], y1->f[i], 1e-5);
    tensor_free(y1); tensor_free(y4); tensor_free(x); tensor_free(w);
}

int main(void)
{
    RUN(conv_valid_and_same);
    RUN(conv_1x1_bias_relu6_channels);
    RUN(conv_dilation_and_explicit_pad);
    RUN(conv_errors);
    RUN(depthwise);
    RUN(depthwise_wide_channels_match_reference);
    RUN(depthwise_stride2_matches_reference);
    RUN(depthwise_multiplier);
    RUN(transposed_conv);
    RUN(matmul_bias_relu_transpose);
    RUN(pooling);
    RUN(resize_bilinear_modes);
    RUN(resize_nearest_modes);
    RUN(hostile_shapes_and_specs_are_errors);
    RUN(threads_give_same_result);
    return test_summary();
}
