/* tensor.h — the one data type of the inference engine.
 *
 * Dense float32, row-major, up to 6 dimensions.  Image-shaped tensors are
 * NHWC as in TensorFlow.  Owners of this module (src/engine/) add ops in
 * ops_*.h; models (src/models/) only call these, never BLAS directly.
 */
#ifndef IMGDEX_TENSOR_H
#define IMGDEX_TENSOR_H

#include "base/base.h"

#define TENSOR_MAXDIM 6

typedef enum { DT_F32 = 0, DT_I32 = 1 } tensor_dtype;

typedef struct tensor {
    tensor_dtype dtype;
    int ndim;
    int shape[TENSOR_MAXDIM];
    size_t n;           /* element count */
    float *f;           /* data when DT_F32 */
    int32_t *i;         /* data when DT_I32 */
    int owns;           /* data freed by tensor_free */
} tensor;

tensor *tensor_new(tensor_dtype dt, int ndim, const int *shape);
tensor *tensor_new4(int n, int h, int w, int c);  /* f32 NHWC */
void tensor_free(tensor *t);
size_t tensor_count(int ndim, const int *shape);

/* A value as int32, held to int32's range (NaN -> INT32_MIN): C leaves an
 * out-of-range conversion undefined, and values in a graph are hostile
 * (an int Max over an empty axis is -inf). */
static inline int32_t tensor_i32_of(double v)
{
    return !(v == v) ? INT32_MIN : v >= 2147483647.0 ? INT32_MAX : v <= -2147483648.0 ? INT32_MIN : (int32_t)v;
}

/* The most elements one tensor may hold (1 GiB of float32).  Every op
 * whose output can hold more elements than its operands checks its output
 * shape here before allocating: sizes taken from values in a graph (pad,
 * tile, fill, resize, a transposed convolution's output shape), products of
 * two operands' dims (broadcasting, matmul, convolution channels, gather),
 * sums (concat), padding (pooling), a reduction or ArgMax over an empty
 * axis.  A hostile model then gets an error, not an allocation of 80 GB
 * or 4 TB. */
#define TENSOR_MAX_ELEMS ((size_t)1 << 28)
/* 0 when every dim is >= 0 and their product is at most TENSOR_MAX_ELEMS;
 * else -1 + e ("<what>: result ... over the limit"). */
int tensor_size_ok(int ndim, const int *shape, const char *what, ierr *e);
/* The same for dims computed in 64 bits (sums and products that may pass
 * int): shape[] = dims[] when each fits int and the whole passes. */
int tensor_shape_ok(int ndim, const long long *dims, int *shape, const char *what, ierr *e);

/* Data is 64-byte aligned and zero-filled.  ndim 0 is a scalar (n == 1).
 * Data of an owning tensor must come from tensor_new*: never put your own
 * malloc'd pointer into a tensor with owns = 1 (use tensor_wrap). */
/* Same, contents undefined (for ops that overwrite every element). */
tensor *tensor_new_uninit(tensor_dtype dt, int ndim, const int *shape);
/* Scratch memory from the same recycled pool (64-byte aligned). */
void *tensor_buf_alloc(size_t bytes);
void tensor_buf_free(void *p);
/* A tensor viewing caller-owned data (owns = 0; tensor_free frees the header only). */
tensor *tensor_wrap(tensor_dtype dt, int ndim, const int *shape, void *data);
/* Deep copy. */
tensor *tensor_clone(const tensor *t);
/* Same data, new shape with the same element count; -1 in one dim is inferred.
 * 0 on success, -1 when the counts differ. */
int tensor_reshape(tensor *t, int ndim, const int *shape);
/* "[1,512,512,3] f32" into buf; returns buf. */
const char *tensor_shape_str(const tensor *t, char *buf, size_t n);

#endif
