/* test_fuzz_seeds.c — every libFuzzer target (tests/fuzz_*.c) built into
 * the ordinary suite and run over its seed corpus (tests/fuzz_seeds.py)
 * plus a fixed number of deterministic mutations of it (byte flips,
 * interesting values, truncations, splices).  Not a fuzz campaign — that
 * is `make fuzz` (docs/reliability.md) — but it keeps every target
 * building and every seed clean, under ASan+UBSan in the san build. */
#include "test.h"

#include <dirent.h>
#include <stdint.h>

#define LLVMFuzzerTestOneInput fz_image
#include "fuzz_image.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fz_tfjs
#include "fuzz_tfjs.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fz_safetensors
#include "fuzz_safetensors.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fz_bpe
#include "fuzz_bpe.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fz_json
#include "fuzz_json.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fz_query
#include "fuzz_query.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fz_http
#define LLVMFuzzerInitialize fz_http_init
#include "fuzz_http.c"
#undef LLVMFuzzerTestOneInput
#undef LLVMFuzzerInitialize

static char seeds[512];
static int have_seeds;

typedef struct { uint8_t *d; size_t n; } blob;

static int load_corpus(const char *target, blob **out)
{
    char d[700];
    snprintf(d, sizeof d, "%s/%s-corpus", seeds, target);
    DIR *dir = opendir(d);
    int n = 0;
    *out = NULL;
    for (struct dirent *de; dir && (de = readdir(dir));) {
        if (de->d_name[0] == '.') continue;
        char p[1000];
        snprintf(p, sizeof p, "%s/%s", d, de->d_name);
        ierr e = {0};
        size_t len;
        uint8_t *b = file_read_all(p, &len, &e);
        if (!b) continue;
        *out = realloc(*out, (size_t)(n + 1) * sizeof **out);
        (*out)[n].d = b, (*out)[n++].n = len;
    }
    if (dir) closedir(dir);
    return n;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* One mutation of src into a fresh buffer. */
static uint8_t *mutate(const blob *src, const blob *other, size_t *n)
{
    size_t len = src->n, cap = len + 64;
    uint8_t *d = malloc(cap);
    memcpy(d, src->d, len);
    int rounds = 1 + (int)(next() % 4);
    for (int r = 0; r < rounds; r++) {
        uint32_t op = next() % 6, at = len ? next() % (uint32_t)len : 0;
        static const uint8_t vals[] = {0, 0xFF, 0x7F, 0x80, 0x01, 0xFE, '0', '9', '"', '-'};
        if (op == 0 && len) d[at] ^= (uint8_t)(1u << (next() % 8));
        else if (op == 1 && len) d[at] = vals[next() % sizeof vals];
        else if (op == 2 && len) len = at;                                   /* truncate */
        else if (op == 3 && len + 8 <= cap) {                                /* insert bytes */
            memmove(d + at + 8, d + at, len - at);
            for (int i = 0; i < 8; i++) d[at + i] = (uint8_t)next();
            len += 8;
        } else if (op == 4 && len >= 4) {                                    /* 32-bit field set large */
            uint32_t v = next() % 2 ? 0xFFFFFFFFu : 0x7FFFFFF0u;
            if (at + 4 <= len) memcpy(d + at, &v, 4);
        } else if (op == 5 && other->n) {                                    /* splice another seed's tail */
            size_t from = next() % other->n, k = other->n - from;
            if (at + k > cap) k = cap - at;
            memcpy(d + at, other->d + from, k);
            if (at + k > len) len = at + k;
        }
    }
    *n = len;
    return d;
}

static void run_target(const char *name, int (*fn)(const uint8_t *, size_t), int mutations)
{
    if (!have_seeds) SKIP("no seed corpus (needs /usr/bin/python3 with PIL)");
    blob *b;
    int n = load_corpus(name, &b);
    CHECKF(n > 0, "no seeds for %s", name);
    fprintf(stderr, "%s: %d seeds, %d mutations\n", name, n, mutations);
    for (int i = 0; i < n; i++) fn(b[i].d, b[i].n);
    for (int i = 0; i < mutations; i++) {
        size_t len;
        uint8_t *m = mutate(&b[next() % (uint32_t)n], &b[next() % (uint32_t)n], &len);
        fn(m, len);
        free(m);
    }
    for (int i = 0; i < n; i++) free(b[i].d);
    free(b);
}

/* Fewer mutations under the sanitizers, which run ten times slower. */
static int scaled(int n) { return getenv("IMGDEX_SAN") ? n / 4 : n; }

TEST(fuzz_image_seeds) { run_target("fuzz_image", fz_image, scaled(4000)); }
TEST(fuzz_tfjs_seeds) { run_target("fuzz_tfjs", fz_tfjs, scaled(2000)); }
TEST(fuzz_safetensors_seeds) { run_target("fuzz_safetensors", fz_safetensors, scaled(4000)); }
TEST(fuzz_bpe_seeds) { run_target("fuzz_bpe", fz_bpe, scaled(2000)); }
TEST(fuzz_json_seeds) { run_target("fuzz_json", fz_json, scaled(4000)); }
TEST(fuzz_query_seeds) { run_target("fuzz_query", fz_query, scaled(4000)); }
TEST(fuzz_http_seeds)
{
    if (have_seeds) fz_http_init(NULL, NULL);
    run_target("fuzz_http", fz_http, scaled(400));
}

int main(void)
{
    snprintf(seeds, sizeof seeds, "%s", test_tmpdir("fuzz-seeds"));
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/fuzz_seeds.py' '%s' 2>&1", test_srcdir(), seeds);
    have_seeds = access("/usr/bin/python3", X_OK) == 0 && system(cmd) == 0;
    RUN(fuzz_image_seeds);
    RUN(fuzz_tfjs_seeds);
    RUN(fuzz_safetensors_seeds);
    RUN(fuzz_bpe_seeds);
    RUN(fuzz_json_seeds);
    RUN(fuzz_query_seeds);
    RUN(fuzz_http_seeds);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", seeds, fz_path(""));
    if (system(cmd) != 0) fprintf(stderr, "cannot clean up\n");
    return test_summary();
}
