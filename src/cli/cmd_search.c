/* cmd_search.c — `imgdex search QUERY [-k N] [--json] [--explain] [--without LIST]`.
 *
 * The query is parsed before the database is opened, so a malformed query
 * is a usage error (exit 1, message with the column) even without a database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "index/catalogue.h"
#include "query/query.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: imgdex search QUERY [-k N] [--json] [--explain] [--without LIST]\n"
               "  -k N            number of results (default 20)\n"
               "  --json          {\"query\":..., \"results\":[{\"rank\",\"id\",\"path\",\"score\",\"why\"}]}\n"
               "  --explain       the parse and each result's score components\n"
               "  --without LIST  ablations: wordnet,relations,colours,clip,ocr,embedding,tags,structured\n"
               "QUERY examples: 'a dog to the left of a bicycle'  'two red cars'  'horses without people'\n"
               "                '\"STOP\"'  'a person in the centre date:2013 width>1000'\n");
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* One result's `why`, one line per component. */
static void explain_why(const char *json)
{
    cJSON *w = cJSON_Parse(json);
    if (!w) return;
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(w, "phrases")) {
        const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(x, "count");
        printf("     phrase %d '%s': ", (int)num(x, "phrase"), str(x, "noun"));
        if (cJSON_GetObjectItemCaseSensitive(x, "region"))
            printf("region %d '%s' (detector %.2f)", (int)num(x, "region"), str(x, "label"), num(x, "detector"));
        else if (*str(x, "matched"))
            printf("in the %s", str(x, "matched"));
        else
            printf("not found");
        const cJSON *a;
        cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(x, "attrs")) {
            const cJSON *kv = a->child;
            if (kv && cJSON_IsString(kv)) printf(", %s %s %.2f", kv->string, kv->valuestring, num(a, "agree"));
        }
        if (cJSON_GetObjectItemCaseSensitive(x, "position")) printf(", position %.2f", num(x, "position"));
        printf(", count %d (want %s) -> %.3f\n", (int)num(cnt, "found"), str(cnt, "want"), num(x, "score"));
    }
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(w, "relations")) {
        printf("     relation %s(%d,%d", str(x, "rel"), (int)num(x, "a"), (int)num(x, "b"));
        if (cJSON_GetObjectItemCaseSensitive(x, "c")) printf(",%d", (int)num(x, "c"));
        printf("): ");
        const cJSON *rg = cJSON_GetObjectItemCaseSensitive(x, "regions");
        if (rg) {
            printf("regions");
            const cJSON *i;
            cJSON_ArrayForEach(i, rg) printf(" %d", (int)i->valuedouble);
            printf(", holds %.2f", num(x, "holds"));
        } else {
            printf("no pair of regions");
        }
        printf(" -> %.3f\n", num(x, "score"));
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(w, "text"))) {
        printf("     text words:");
        const cJSON *i;
        cJSON_ArrayForEach(i, cJSON_GetObjectItemCaseSensitive(x, "matched")) printf(" %s", i->valuestring);
        printf(" -> %.3f\n", num(x, "score"));
    }
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(w, "ocr")) {
        printf("     ocr \"%s\":", str(x, "text"));
        const cJSON *i;
        cJSON_ArrayForEach(i, cJSON_GetObjectItemCaseSensitive(x, "matched")) printf(" %s", i->valuestring);
        printf(" -> %.3f%s\n", num(x, "score"), cJSON_GetObjectItemCaseSensitive(x, "negated") ? " (negated)" : "");
    }
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(w, "negated"))
        printf("     without '%s': region %d '%s' present, penalty %.3f\n", str(x, "noun"), (int)num(x, "region"),
               str(x, "label"), num(x, "penalty"));
    if (cJSON_GetObjectItemCaseSensitive(w, "clip")) printf("     clip cosine %.3f\n", num(w, "clip"));
    if ((x = cJSON_GetObjectItemCaseSensitive(w, "tags"))) {
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(x, "words"))
            printf("     tag %s %.2f\n", str(t, "tag"), num(t, "p"));
        printf("     tags -> %.3f\n", num(x, "score"));
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(w, "embedding")))
        printf("     embedding %.2f (cosine %.3f)\n", num(x, "score"), num(x, "cosine"));
    cJSON_Delete(w);
}

int cmd_search(int argc, char **argv, const char *db)
{
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    search_opts o = {.k = 20};
    int json = 0, explain = 0;
    char *text = NULL;
    size_t tl = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-k") || !strcmp(a, "--k")) {
            char *end = NULL;
            long v = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : 0;
            /* Range-checked as a long: "4294967297" must not wrap to 1. */
            if (i + 1 >= argc || end == argv[i + 1] || *end || v < 1 || v > SEARCH_MAX_K) {
                fprintf(stderr, "imgdex search: -k needs a number from 1 to %d\n", SEARCH_MAX_K);
                free(text);
                return 1;
            }
            o.k = (int)v;
            i++;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--explain")) {
            explain = 1;
        } else if (!strcmp(a, "--without")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "imgdex search: --without needs a list (wordnet,relations,colours,clip,ocr)\n");
                free(text);
                return 1;
            }
            o.without = argv[++i];
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "imgdex search: unknown option %s\n", a);
            usage(stderr);
            free(text);
            return 1;
        } else {
            /* several words are one query: imgdex search a dog on a sofa */
            size_t l = strlen(a);
            text = realloc(text, tl + l + 2);
            if (!text) abort();
            if (tl) text[tl++] = ' ';
            memcpy(text + tl, a, l + 1);
            tl += l;
        }
    }
    if (!text) {
        usage(stderr);
        return 1;
    }
    ierr e = {0};
    query *q = query_parse(text, &e);
    if (!q) {
        fprintf(stderr, "imgdex search: %s\n", e.msg);
        free(text);
        return 1;
    }
    query_free(q);
    catalogue *c = cat_open(db, 1, &e);
    if (!c) {
        fprintf(stderr, "imgdex search: %s\n", e.msg);
        free(text);
        return 2;
    }
    search_results r;
    int rc = search_run(cat_db(c), text, &o, &r, &e);
    if (rc != 0) {
        fprintf(stderr, "imgdex search: %s\n", e.msg);
        search_results_free(&r);
        cat_close(c);
        free(text);
        return 2;
    }
    if (json) {
        char *s = search_results_json(text, &r);
        printf("%s\n", s);
        free(s);
    } else {
        if (explain) printf("parse: %s\n", r.parse_json ? r.parse_json : "");
        for (int i = 0; i < r.n; i++) {
            printf("%3d  %.4f  %s\n", i + 1, r.hits[i].score, r.hits[i].path);
            if (explain) explain_why(r.hits[i].why_json);
        }
        if (explain) printf("%d results in %.1f ms\n", r.n, r.ms);
        if (!r.n && r.weak)
            fprintf(stderr, "imgdex search: nothing matches well\n");
        else if (!r.n)
            fprintf(stderr, "imgdex search: no image matches\n");
    }
    search_results_free(&r);
    cat_close(c);
    free(text);
    return 0;
}
