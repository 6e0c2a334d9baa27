/* fuzz_bpe.c — libFuzzer target: the BPE vocabulary loaders, chosen by the
 * first byte: 0 Hugging Face vocab.json + merges.txt (split at the line
 * "==merges=="), 1 tokenizer.json, 2 OpenAI's merges text.  A loaded
 * vocabulary then tokenizes a fixed sentence and the input's tail.
 * FUZZ_MAX_LEN 16384 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "models/text/bpe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int mode = data[0] % 3;
    data++, size--;
    ierr e = {0};
    bpe_vocab *v = NULL;
    if (mode == 0) {
        const uint8_t *m;
        size_t nm, nv = fz_split(data, size, "\n==merges==\n", &m, &nm);
        char vj[512];
        snprintf(vj, sizeof vj, "%s", fz_write("vocab.json", data, nv));
        v = bpe_load_hf(vj, fz_write("merges.txt", m, nm), &e);
    } else if (mode == 1) {
        v = bpe_load_dir(fz_write("tokenizer.json", data, size) ? fz_path("") : NULL, &e);
    } else {
        v = bpe_load(fz_write("bpe_simple_vocab.txt", data, size), &e);
    }
    if (mode == 1) unlink(fz_path("tokenizer.json"));
    if (mode == 0) unlink(fz_path("vocab.json"));
    if (!v) {
        if (!e.msg[0]) abort();
        return 0;
    }
    int ids[CLIP_CONTEXT];
    bpe_tokenize(v, "a photo of a dog on a sofa, 2 cats!", ids, CLIP_CONTEXT);
    char *tail = malloc(size + 1);
    memcpy(tail, data, size);
    tail[size] = 0;
    int n = bpe_encode(v, tail + size / 2, ids, CLIP_CONTEXT);
    for (int i = 0; i < n && i < CLIP_CONTEXT; i++)
        if (ids[i] < 0 || ids[i] >= bpe_vocab_size(v)) abort();
    free(tail);
    bpe_free(v);
    return 0;
}
