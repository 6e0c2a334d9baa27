/* test_engine_tensor.c — tensor allocation, wrap, reshape, clone. */
#include "test.h"
#include "engine/tensor.h"

TEST(new_is_zeroed_and_aligned)
{
    tensor *t = tensor_new4(1, 3, 5, 7);
    CHECK(t && t->dtype == DT_F32 && t->ndim == 4);
    CHECK_EQ_INT(t->n, 105);
    CHECK_EQ_INT(((uintptr_t)t->f) % 64, 0);
    for (size_t k = 0; k < t->n; k++) CHECK(t->f[k] == 0.0f);
    tensor_free(t);
}

TEST(reshape_infers_one_dim)
{
    int s[2] = {6, 4};
    tensor *t = tensor_new(DT_I32, 2, s);
    int r[3] = {2, -1, 3};
    CHECK_EQ_INT(tensor_reshape(t, 3, r), 0);
    CHECK_EQ_INT(t->shape[1], 4);
    int bad[2] = {5, 5};
    CHECK_EQ_INT(tensor_reshape(t, 2, bad), -1);
    CHECK_EQ_INT(t->shape[1], 4);
    char buf[64];
    CHECK_STR(tensor_shape_str(t, buf, sizeof buf), "[2,4,3] i32");
    tensor_free(t);
    /* 65536^4 is 2^64, 0 in size_t: not a shape for an empty tensor */
    tensor *empty = tensor_new(DT_F32, 1, (int[]){0});
    CHECK_EQ_INT(tensor_reshape(empty, 4, (int[]){65536, 65536, 65536, 65536}), -1);
    CHECK_EQ_INT(empty->ndim, 1);
    CHECK_EQ_INT(tensor_reshape(empty, 2, (int[]){0, 2147483647}), 0);   /* a true empty shape still is */
    tensor_free(empty);
}

TEST(wrap_and_clone)
{
    float data[6] = {1, 2, 3, 4, 5, 6};
    int s[2] = {2, 3};
    tensor *w = tensor_wrap(DT_F32, 2, s, data);
    CHECK(w && w->owns == 0 && w->f == data);
    tensor *c = tensor_clone(w);
    data[0] = 99;
    CHECK(c->f[0] == 1.0f && c->f[5] == 6.0f && c->owns);
    tensor_free(w);
    tensor_free(c);
    CHECK(data[0] == 99);
}

TEST(scalar)
{
    tensor *t = tensor_new(DT_F32, 0, NULL);
    CHECK(t && t->n == 1);
    tensor_free(t);
}

int main(void)
{
    RUN(new_is_zeroed_and_aligned);
    RUN(reshape_infers_one_dim);
    RUN(wrap_and_clone);
    RUN(scalar);
    return test_summary();
}
