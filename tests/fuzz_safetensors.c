/* fuzz_safetensors.c — libFuzzer target: st_open on any bytes (the u64
 * header length, the JSON header, every offset and shape), then every
 * tensor read back as float32.  FUZZ_MAX_LEN 8192 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/safetensors.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fz_write("x.safetensors", data, size);
    ierr e = {0};
    st_file *f = st_open(p, &e);
    if (!f) {
        if (!e.msg[0]) abort();
        return 0;
    }
    for (int i = 0; i < st_count(f); i++) {
        const st_tensor *t = st_at(f, i);
        if (!t || !t->name || t->ndim < 0 || t->ndim > 8) abort();
        if (st_find(f, t->name) == NULL) abort();
        long long shape[8];
        for (int d = 0; d < t->ndim; d++) shape[d] = -1;
        float *owned = NULL;
        ierr e2 = {0};
        const float *v = st_get_f32(f, t->name, t->ndim, shape, &owned, &e2);
        if (v && t->nelem) {
            volatile float sink = v[0] + v[t->nelem - 1];   /* in bounds, every element */
            (void)sink;
        }
        free(owned);
    }
    st_close(f);
    return 0;
}
