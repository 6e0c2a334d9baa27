/* tensor.c — allocation and shape helpers for the engine's tensor type. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tensor.h"

size_t tensor_count(int ndim, const int *shape)
{
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)(shape[i] > 0 ? shape[i] : 0);
    return n;
}

static tensor *header(tensor_dtype dt, int ndim, const int *shape)
{
    if (ndim < 0 || ndim > TENSOR_MAXDIM) return NULL;
    tensor *t = xcalloc(1, sizeof *t);
    t->dtype = dt;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->n = tensor_count(ndim, shape);
    return t;
}

tensor *tensor_new(tensor_dtype dt, int ndim, const int *shape)
{
    tensor *t = header(dt, ndim, shape);
    if (!t) return NULL;
    /* 64-byte alignment lets the kernels use aligned AVX-512 loads and keeps
     * rows of different threads off each other's cache lines. */
    size_t bytes = (t->n ? t->n : 1) * 4;
    bytes = (bytes + 63) & ~(size_t)63;
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes) != 0 || !p) {
        fprintf(stderr, "imgdex: out of memory (%zu bytes)\n", bytes);
        abort();
    }
    memset(p, 0, bytes);
    if (dt == DT_F32) t->f = p; else t->i = p;
    t->owns = 1;
    return t;
}

tensor *tensor_new4(int n, int h, int w, int c)
{
    int s[4] = {n, h, w, c};
    return tensor_new(DT_F32, 4, s);
}

tensor *tensor_wrap(tensor_dtype dt, int ndim, const int *shape, void *data)
{
    tensor *t = header(dt, ndim, shape);
    if (!t) return NULL;
    if (dt == DT_F32) t->f = data; else t->i = data;
    t->owns = 0;
    return t;
}

tensor *tensor_clone(const tensor *t)
{
    tensor *c = tensor_new(t->dtype, t->ndim, t->shape);
    const void *src = t->dtype == DT_F32 ? (const void *)t->f : (const void *)t->i;
    void *dst = c->dtype == DT_F32 ? (void *)c->f : (void *)c->i;
    if (t->n) memcpy(dst, src, t->n * 4);
    return c;
}

int tensor_reshape(tensor *t, int ndim, const int *shape)
{
    if (ndim < 0 || ndim > TENSOR_MAXDIM) return -1;
    int s[TENSOR_MAXDIM], infer = -1;
    size_t known = 1;
    for (int i = 0; i < ndim; i++) {
        s[i] = shape[i];
        if (s[i] == -1) {
            if (infer >= 0) return -1;
            infer = i;
        } else if (s[i] < 0) {
            return -1;
        } else {
            known *= (size_t)s[i];
        }
    }
    if (infer >= 0) {
        if (known == 0 || t->n % known) return -1;
        s[infer] = (int)(t->n / known);
        known = t->n;
    }
    if (known != t->n) return -1;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = s[i];
    return 0;
}

const char *tensor_shape_str(const tensor *t, char *buf, size_t n)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "[");
    for (int i = 0; i < t->ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%d", i ? "," : "", t->shape[i]);
    if (k < n) snprintf(buf + k, n - k, "] %s", t->dtype == DT_F32 ? "f32" : "i32");
    return buf;
}

void tensor_free(tensor *t)
{
    if (!t) return;
    if (t->owns) free(t->dtype == DT_F32 ? (void *)t->f : (void *)t->i);
    free(t);
}
