/* fuzz_tfjs.c — libFuzzer target: the TensorFlow.js graph-model loader on
 * a model.json and its weights shard, both from the input (split at the
 * line "==shard==").  The manifest names the shard "w.bin"; anything the
 * JSON says about shapes, dtypes, quantization and paths is hostile.
 * FUZZ_MAX_LEN 16384 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tfjs.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *shard;
    size_t nshard, njson = fz_split(data, size, "\n==shard==\n", &shard, &nshard);
    fz_write("w.bin", shard, nshard);
    const char *json = fz_write("model.json", data, njson);
    ierr e = {0};
    tfjs_model *m = tfjs_load(json, &e);
    if (m) {
        int shape[8];
        for (int i = 0; i < tfjs_num_inputs(m); i++) {
            if (!tfjs_input_name(m, i)) abort();
            tfjs_input_shape(m, i, shape);
        }
        for (int i = 0; i < tfjs_num_outputs(m); i++) {
            if (!tfjs_output_name(m, i)) abort();
            tfjs_output_shape(m, i, shape);
        }
        tfjs_free(m);
    } else if (!e.msg[0]) {
        abort();
    }
    return 0;
}
