/* sam_test_util.h — running the PyTorch SAM reference (tests/sam_ref.py
 * with Debian's /usr/bin/python3) from the SAM tests. */
#ifndef SAM_TEST_UTIL_H
#define SAM_TEST_UTIL_H

#include "clip_test_util.h"

/* Run tests/sam_ref.py with args; stdout into `out` when not NULL. 0 on success. */
static inline int sam_ref(const char *args, const char *out)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, CLIP_PY " '%s/tests/sam_ref.py' %s %s%s%s", test_srcdir(), args,
             out ? "> '" : "", out ? out : "", out ? "'" : "");
    return system(cmd) == 0 ? 0 : -1;
}

/* A flat float array under `key` of a JSON object (or of its items[idx]
 * when list is non-NULL): malloc'd, *n filled. */
static inline float *sam_json_floats(const cJSON *obj, const char *key, int *n)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsArray(a)) return NULL;
    *n = cJSON_GetArraySize(a);
    float *o = xmalloc((size_t)(*n ? *n : 1) * sizeof *o);
    int i = 0;
    for (const cJSON *v = a->child; v; v = v->next) o[i++] = (float)v->valuedouble;
    return o;
}

static inline cJSON *sam_json_file(const char *path)
{
    size_t len;
    ierr e = {0};
    char *s = (char *)file_read_all(path, &len, &e);
    if (!s) return NULL;
    cJSON *j = cJSON_ParseWithLength(s, len);
    free(s);
    return j;
}

#endif
