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

#endif
