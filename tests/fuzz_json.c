/* fuzz_json.c — libFuzzer target: what `search --json`, `show --json` and
 * the API print is valid UTF-8 JSON whatever bytes the query, the path or
 * the stored words hold.  The input is split at NUL bytes into a query, a
 * path, a caption, a region label and an OCR word.  FUZZ_MAX_LEN 4096 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "describe/describe.h"
#include "fuzz_util.h"
#include "query/query.h"

static void check(char *s)
{
    if (!s || !fz_utf8_ok((const unsigned char *)s, strlen(s))) abort();
    cJSON *j = cJSON_Parse(s);
    if (!j) abort();
    cJSON_Delete(j);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *parts[5] = {0};
    const uint8_t *p = data;
    size_t n = size;
    for (int i = 0; i < 5; i++) {
        const uint8_t *z = memchr(p, 0, n);
        size_t k = z ? (size_t)(z - p) : n;
        const uint8_t *rest = z ? z + 1 : p + n;
        size_t nrest = z ? n - k - 1 : 0;
        parts[i] = malloc(k + 1);
        memcpy(parts[i], p, k);
        parts[i][k] = 0;
        p = rest, n = nrest;
    }
    search_hit hit = {.id = 1, .path = parts[1], .score = 0.5, .why_json = NULL};
    search_results r = {.hits = &hit, .n = 1};
    check(search_results_json(parts[0], &r));

    description d;
    memset(&d, 0, sizeof d);
    region reg;
    memset(&reg, 0, sizeof reg);
    snprintf(reg.label, sizeof reg.label, "%s", parts[3]);
    d.regions = &reg;
    d.nregions = 1;
    ocr_word w;
    memset(&w, 0, sizeof w);
    snprintf(w.text, sizeof w.text, "%s", parts[4]);
    d.words = &w;
    d.nwords = 1;
    snprintf(d.caption, sizeof d.caption, "%s", parts[2]);
    snprintf(d.scene, sizeof d.scene, "%s", parts[0]);
    check(json_utf8_fix(description_to_json(&d)));
    for (int i = 0; i < 5; i++) free(parts[i]);
    return 0;
}
