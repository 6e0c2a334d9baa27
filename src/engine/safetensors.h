/* safetensors.h — memory-mapped access to .safetensors files
 * (Hugging Face's format: u64 little-endian header length, a JSON header
 * mapping names to {dtype, shape, data_offsets}, then raw little-endian data).
 *
 * Every offset and shape in the header is checked against the file size
 * before anything is handed out, so a truncated or hostile file gives an
 * error naming the file and the tensor, never an out-of-bounds read.
 * st_write writes one (imgdex's own trained models, src/models/joint.c).
 */
#ifndef IMGDEX_SAFETENSORS_H
#define IMGDEX_SAFETENSORS_H

#include "base/base.h"

typedef enum { ST_F32, ST_F16, ST_BF16, ST_OTHER } st_dtype;

typedef struct st_tensor {
    char *name;
    st_dtype dtype;
    char dtype_name[8];     /* as in the header: "F32", "I64", ... */
    int ndim;
    long long shape[8];
    size_t nelem;
    const void *data;       /* inside the mapping */
    size_t nbytes;
} st_tensor;

typedef struct st_file st_file;

/* Map and validate.  NULL + e ("x.safetensors: header length 1e12 is past
 * the end of the 300-byte file") on any problem. */
st_file *st_open(const char *path, ierr *e);
void st_close(st_file *f);
const char *st_path(const st_file *f);
int st_count(const st_file *f);
const st_tensor *st_at(const st_file *f, int i);
/* NULL when absent. */
const st_tensor *st_find(const st_file *f, const char *name);

/* The tensor as float32, checked to have exactly the given shape (ndim
 * entries; a negative entry accepts any size and is filled in).  F32 data
 * that is suitably aligned is returned in place (*owned = NULL); F16 and
 * BF16 are converted into a fresh buffer that the caller frees through
 * *owned.  NULL + e when missing, mis-shaped or of another dtype. */
const float *st_get_f32(const st_file *f, const char *name, int ndim, long long *shape,
                        float **owned, ierr *e);

/* The string value of a "__metadata__" entry; NULL when absent. */
const char *st_meta(const st_file *f, const char *key);

/* ---- writing ------------------------------------------------------------ */

typedef struct st_out {
    const char *name;
    const float *data;       /* nelem floats, row-major */
    int ndim;
    long long shape[8];
    st_dtype dtype;          /* ST_F32, ST_F16 or ST_BF16 (rounded to nearest even) */
} st_out;

/* Write n tensors and nmeta string metadata entries (keys[i] = vals[i]) to
 * path, through a temporary file renamed into place, so a failed write never
 * leaves a half file under the final name.  -1 + e naming the file. */
int st_write(const char *path, const st_out *t, int n, const char *const *keys,
             const char *const *vals, int nmeta, ierr *e);

/* float to IEEE half / bfloat16, rounded to nearest even (overflow: inf). */
uint16_t st_f32_to_f16(float f);
uint16_t st_f32_to_bf16(float f);

/* IEEE half / bfloat16 to float (exact). */
float st_f16_to_f32(uint16_t h);
float st_bf16_to_f32(uint16_t h);

#endif
