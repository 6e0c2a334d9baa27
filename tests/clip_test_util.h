/* clip_test_util.h — helpers shared by the CLIP tests: running the PyTorch
 * reference (tests/clip_ref.py with Debian's /usr/bin/python3) and reading
 * its JSON answers. */
#ifndef CLIP_TEST_UTIL_H
#define CLIP_TEST_UTIL_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"

#define CLIP_PY "/usr/bin/python3"

static inline int clip_have_torch(void)
{
    static int have = -1;
    if (have < 0) have = system(CLIP_PY " -c 'import torch, numpy, PIL' >/dev/null 2>&1") == 0;
    return have;
}

static inline const char *clip_openai_vocab(void)
{
    static char p[1024];
    snprintf(p, sizeof p, "%s/clip/bpe_simple_vocab_16e6.txt.gz", test_datadir());
    struct stat st;
    return stat(p, &st) == 0 ? p : NULL;
}

/* Run tests/clip_ref.py with args; stdout into `out` when not NULL. 0 on success. */
static inline int clip_ref(const char *args, const char *out)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, CLIP_PY " '%s/tests/clip_ref.py' %s %s%s%s", test_srcdir(), args,
             out ? "> '" : "", out ? out : "", out ? "'" : "");
    return system(cmd) == 0 ? 0 : -1;
}

/* The "text" or "image" arrays of a clip_ref.py embed answer, flattened:
 * returns a malloc'd array of rows*dim floats (rows, dim filled) or NULL. */
static inline float *clip_ref_rows(const char *json_path, const char *key, int *rows, int *dim)
{
    size_t len;
    ierr e = {0};
    char *s = (char *)file_read_all(json_path, &len, &e);
    if (!s) return NULL;
    cJSON *j = cJSON_Parse(s);
    free(s);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsArray(a) || !cJSON_GetArraySize(a)) {
        cJSON_Delete(j);
        return NULL;
    }
    *rows = cJSON_GetArraySize(a);
    *dim = cJSON_GetArraySize(a->child);
    float *o = xmalloc((size_t)*rows * *dim * sizeof *o);
    int r = 0;
    for (const cJSON *row = a->child; row; row = row->next, r++) {
        int k = 0;
        for (const cJSON *v = row->child; v && k < *dim; v = v->next, k++)
            o[(size_t)r * *dim + k] = (float)v->valuedouble;
    }
    cJSON_Delete(j);
    return o;
}

static inline double clip_max_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > m || d != d) m = d != d ? 1e30 : d;
    }
    return m;
}

#endif
