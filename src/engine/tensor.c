/* tensor.c — allocation and shape helpers for the engine's tensor type. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "engine/tensor.h"

size_t tensor_count(int ndim, const int *shape)
{
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)(shape[i] > 0 ? shape[i] : 0);
    return n;
}

int tensor_size_ok(int ndim, const int *shape, const char *what, ierr *e)
{
    double total = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            err_set(e, "%s: result dimension %d is negative", what, shape[i]);
            return -1;
        }
        total *= (double)shape[i];
    }
    if (total > (double)TENSOR_MAX_ELEMS) {
        err_set(e, "%s: result of %.0f elements is over the limit of %zu", what, total, TENSOR_MAX_ELEMS);
        return -1;
    }
    return 0;
}

int tensor_shape_ok(int ndim, const long long *dims, int *shape, const char *what, ierr *e)
{
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0 || dims[i] > INT_MAX) {
            err_set(e, "%s: result dimension %lld is out of range", what, dims[i]);
            return -1;
        }
        shape[i] = (int)dims[i];
    }
    return tensor_size_ok(ndim, shape, what, e);
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

/* ---- buffer cache ----------------------------------------------------
 *
 * A model run allocates and frees the same few activation sizes hundreds of
 * times.  Large blocks from malloc come straight from mmap, and every fresh
 * page costs a page fault, which on some virtual machines is slow enough to
 * dominate inference (4 MiB took ~60 ms here).  So freed tensor buffers of
 * 64 KiB and more are kept, up to a total cap, and handed out again to a
 * request of at most the same size and at least half of it. */
#define CACHE_MIN ((size_t)64 << 10)
#define HUGE_MIN ((size_t)2 << 20)
#define CACHE_SLOTS 64
#define CACHE_CAP ((size_t)512 << 20)

typedef struct blockhdr { size_t size; uint64_t magic; char pad[48]; } blockhdr;
#define BLOCK_MAGIC 0x7465736e6f724255ull

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static void *cache[CACHE_SLOTS];
static size_t cache_size[CACHE_SLOTS], cache_total;
static int cache_n;

static void *buf_alloc(size_t bytes, int zero)
{
    bytes = (bytes + 63) & ~(size_t)63;
    if (bytes == 0) bytes = 64;
    if (bytes >= CACHE_MIN) {
        pthread_mutex_lock(&cache_mu);
        int best = -1;
        for (int k = 0; k < cache_n; k++)
            if (cache_size[k] >= bytes && cache_size[k] / 2 <= bytes &&
                (best < 0 || cache_size[k] < cache_size[best]))
                best = k;
        if (best >= 0) {
            void *p = cache[best];
            cache_total -= cache_size[best];
            cache[best] = cache[--cache_n];
            cache_size[best] = cache_size[cache_n];
            pthread_mutex_unlock(&cache_mu);
            if (zero) memset(p, 0, bytes);
            return p;
        }
        pthread_mutex_unlock(&cache_mu);
    }
    void *raw = NULL;
    /* Big activations on 2 MiB pages: fewer TLB misses and, where page
     * faults are slow, 512 times fewer of them. */
    int huge = bytes >= HUGE_MIN && !getenv("IMGDEX_NO_HUGEPAGES");
    if (posix_memalign(&raw, huge ? HUGE_MIN : 64, sizeof(blockhdr) + bytes) != 0 || !raw) {
        fprintf(stderr, "imgdex: out of memory (%zu bytes)\n", bytes);
        abort();
    }
#ifdef MADV_HUGEPAGE
    if (huge) madvise(raw, sizeof(blockhdr) + bytes, MADV_HUGEPAGE);
#endif
    blockhdr *h = raw;
    h->size = bytes;
    h->magic = BLOCK_MAGIC;
    void *p = h + 1;
    if (zero) memset(p, 0, bytes);
    return p;
}

static void buf_free(void *p)
{
    if (!p) return;
    blockhdr *h = (blockhdr *)p - 1;
    if (h->magic != BLOCK_MAGIC) abort();   /* owned data not from tensor_new */
    if (h->size >= CACHE_MIN) {
        pthread_mutex_lock(&cache_mu);
        /* evict the largest blocks until this one fits under the cap */
        while (cache_n > 0 && (cache_n == CACHE_SLOTS || cache_total + h->size > CACHE_CAP)) {
            int big = 0;
            for (int k = 1; k < cache_n; k++) if (cache_size[k] > cache_size[big]) big = k;
            free((blockhdr *)cache[big] - 1);
            cache_total -= cache_size[big];
            cache[big] = cache[--cache_n];
            cache_size[big] = cache_size[cache_n];
        }
        if (h->size <= CACHE_CAP) {
            cache[cache_n] = p;
            cache_size[cache_n++] = h->size;
            cache_total += h->size;
            pthread_mutex_unlock(&cache_mu);
            return;
        }
        pthread_mutex_unlock(&cache_mu);
    }
    free(h);
}

void *tensor_buf_alloc(size_t bytes) { return buf_alloc(bytes, 0); }
void tensor_buf_free(void *p) { buf_free(p); }

static tensor *alloc_data(tensor_dtype dt, int ndim, const int *shape, int zero)
{
    tensor *t = header(dt, ndim, shape);
    if (!t) return NULL;
    /* 64-byte alignment lets kernels use aligned vector loads and keeps
     * rows of different threads off each other's cache lines. */
    void *p = buf_alloc((t->n ? t->n : 1) * 4, zero);
    if (dt == DT_F32) t->f = p; else t->i = p;
    t->owns = 1;
    return t;
}

tensor *tensor_new(tensor_dtype dt, int ndim, const int *shape)
{
    return alloc_data(dt, ndim, shape, 1);
}

tensor *tensor_new_uninit(tensor_dtype dt, int ndim, const int *shape)
{
    return alloc_data(dt, ndim, shape, 0);
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
    tensor *c = tensor_new_uninit(t->dtype, t->ndim, t->shape);
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
        } else if (__builtin_mul_overflow(known, (size_t)s[i], &known)) {
            /* 65536^4 wraps to 0 and would pass as the shape of an empty
             * tensor: a shape whose product is not the element count */
            return -1;
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
    if (t->owns) buf_free(t->dtype == DT_F32 ? (void *)t->f : (void *)t->i);
    free(t);
}
