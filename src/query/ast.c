/* ast.c — the parse as JSON (for --explain, the web page and the parser
 * tests).  Schema:
 *   {"phrases":[{"noun","word","count","attrs"?,"position"?,"negated"?}],
 *    "relations":[{"a","rel","b","c"?}], "text":[{"text","negated"?}],
 *    "filters":[{"key","op","value"}], "free":[word...]}
 * count is "N" (exactly), "N+" (at least) or "N-M"; attrs are
 * {"colour"|"size"|"word": value, "on"?: clothing}; a, b, c index phrases. */
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "query/ast.h"

void q_count_str(const q_phrase *ph, char *buf, size_t n)
{
    if (ph->cmin == ph->cmax) snprintf(buf, n, "%d", ph->cmin);
    else if (ph->cmax < 0) snprintf(buf, n, "%d+", ph->cmin);
    else snprintf(buf, n, "%d-%d", ph->cmin, ph->cmax);
}

cJSON *q_phrase_json(const q_phrase *ph)
{
    static const char *const kinds[] = {"colour", "size", "word"};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "noun", ph->noun);
    cJSON_AddStringToObject(o, "word", ph->word);
    char c[32];
    q_count_str(ph, c, sizeof c);
    cJSON_AddStringToObject(o, "count", c);
    if (ph->nattrs) {
        cJSON *a = cJSON_AddArrayToObject(o, "attrs");
        for (int i = 0; i < ph->nattrs; i++) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, kinds[ph->attrs[i].kind], ph->attrs[i].value);
            if (ph->attrs[i].part[0]) cJSON_AddStringToObject(x, "on", ph->attrs[i].part);
            cJSON_AddItemToArray(a, x);
        }
    }
    if (ph->position[0]) cJSON_AddStringToObject(o, "position", ph->position);
    if (ph->negated) cJSON_AddTrueToObject(o, "negated");
    return o;
}

cJSON *q_query_json(const query *q)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *ph = cJSON_AddArrayToObject(o, "phrases");
    for (int i = 0; i < q->nph; i++) cJSON_AddItemToArray(ph, q_phrase_json(&q->ph[i]));
    cJSON *rel = cJSON_AddArrayToObject(o, "relations");
    for (int i = 0; i < q->nrel; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddNumberToObject(r, "a", q->rel[i].a);
        cJSON_AddStringToObject(r, "rel", q->rel[i].rel);
        cJSON_AddNumberToObject(r, "b", q->rel[i].b);
        if (q->rel[i].c >= 0) cJSON_AddNumberToObject(r, "c", q->rel[i].c);
        cJSON_AddItemToArray(rel, r);
    }
    cJSON *tx = cJSON_AddArrayToObject(o, "text");
    for (int i = 0; i < q->ntxt; i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "text", q->txt[i].text);
        if (q->txt[i].negated) cJSON_AddTrueToObject(t, "negated");
        cJSON_AddItemToArray(tx, t);
    }
    cJSON *fl = cJSON_AddArrayToObject(o, "filters");
    for (int i = 0; i < q->nflt; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "key", q->flt[i].key);
        cJSON_AddStringToObject(f, "op", q->flt[i].op);
        cJSON_AddStringToObject(f, "value", q->flt[i].value);
        cJSON_AddItemToArray(fl, f);
    }
    cJSON *fr = cJSON_AddArrayToObject(o, "free");
    for (int i = 0; i < q->nfree; i++) cJSON_AddItemToArray(fr, cJSON_CreateString(q->free[i]));
    return o;
}

char *query_to_json(const query *q)
{
    if (!q) return xstrdup("null");
    cJSON *o = q_query_json(q);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *r = xstrdup(s);
    free(s);
    return r;
}
