/* cmd_eval.c — `imgdex eval`: text->image retrieval quality on a captioned set. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "eval/eval.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: imgdex eval --images DIR --captions TSV [options]\n\n"
        "Index the images (or reuse an up-to-date database), run every caption as a\n"
        "text query and report where its own image ranks: Recall@1/5/10, median rank,\n"
        "mean reciprocal rank, index images/s and query latency.\n"
        "TSV lines are filename<TAB>caption (several captions per image).\n\n"
        "options:\n"
        "  --split FILE        only these images (one filename a line) and their captions\n"
        "  --limit N           only the first N images of the split, for quick runs\n"
        "  --db PATH           database to index into (default: one of eval's own,\n"
        "                      next to the main database, named after the image set)\n"
        "  --without S,...     search ablations: relations, wordnet, colours, clip, ocr, embedding, tags,\n"
        "                      structured, bm25\n"
        "  --per-query FILE    one TSV line per query: rank, ms, image, top hit, caption\n"
        "  --jobs N            indexing threads (default: cores)\n"
        "  --no-ocr            index without OCR\n"
        "  --no-clip           index without CLIP\n"
        "  --no-progress       no progress bar\n"
        "  --json              figures as JSON (schema in docs/eval.md)\n");
}

/* eval's own database: next to the main one, keyed by what is evaluated, so
 * re-running the same evaluation reuses it and nothing else is disturbed. */
static void own_db(const char *main_db, const char *images, const char *split, int limit, char *out,
                   size_t n)
{
    char key[3 * PATH_MAX + 64], rimg[PATH_MAX], rsplit[PATH_MAX], dir[PATH_MAX], hex[65];
    if (!realpath(images, rimg)) snprintf(rimg, sizeof rimg, "%s", images);
    if (!split || !realpath(split, rsplit)) snprintf(rsplit, sizeof rsplit, "%s", split ? split : "");
    snprintf(key, sizeof key, "%s\n%s\n%d", rimg, rsplit, limit);
    sha256_hex(key, strlen(key), hex);
    snprintf(dir, sizeof dir, "%s", main_db);
    snprintf(out, n, "%s/eval-%.12s.db", dirname(dir), hex);
}

int cmd_eval(int argc, char **argv, const char *db)
{
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    eval_opts o;
    memset(&o, 0, sizeof o);
    index_opts_default(&o.index);
    const char *per_query = NULL, *mydb = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (!strcmp(a, "--images")) o.images_dir = v;
        else if (!strcmp(a, "--captions")) o.captions = v;
        else if (!strcmp(a, "--split")) o.split = v;
        else if (!strcmp(a, "--db")) mydb = v;
        else if (!strcmp(a, "--without")) o.without = v;
        else if (!strcmp(a, "--per-query")) per_query = v;
        else if (!strcmp(a, "--limit") || !strcmp(a, "--jobs")) {
            char *end;
            errno = 0;
            long n = v ? strtol(v, &end, 10) : 0;
            if (!v || errno || *end || n <= 0 || n > 100000000) {
                fprintf(stderr, "imgdex eval: %s needs a positive number\n", a);
                usage(stderr);
                return 1;
            }
            if (!strcmp(a, "--limit")) o.limit = (int)n;
            else o.index.jobs = (int)n;
        } else {
            takes = 0;
            if (!strcmp(a, "--json")) json = 1;
            else if (!strcmp(a, "--no-ocr")) o.index.describe.ocr = 0;
            else if (!strcmp(a, "--no-clip")) o.index.describe.clip = 0;
            else if (!strcmp(a, "--no-progress")) o.index.progress = 0;
            else {
                fprintf(stderr, "imgdex eval: unknown argument %s\n", a);
                usage(stderr);
                return 1;
            }
        }
        if (takes) {
            if (!v) {
                fprintf(stderr, "imgdex eval: %s needs a value\n", a);
                usage(stderr);
                return 1;
            }
            i++;
        }
    }
    if (!o.images_dir || !o.captions) {
        fprintf(stderr, "imgdex eval: --images and --captions are required\n");
        usage(stderr);
        return 1;
    }
    char dbbuf[PATH_MAX + 64];
    if (mydb) {
        o.db = mydb;
    } else {
        own_db(db, o.images_dir, o.split, o.limit, dbbuf, sizeof dbbuf);
        o.db = dbbuf;
        o.prune = 1;
    }
    FILE *pq = NULL;
    if (per_query && !(pq = fopen(per_query, "w"))) {
        fprintf(stderr, "imgdex: %s: cannot write: %s\n", per_query, strerror(errno));
        return 2;
    }
    o.per_query = pq;

    eval_report r;
    ierr e = {0};
    int rc = eval_run(&o, &r, &e);
    if (pq && fclose(pq) != 0 && rc == 0) {
        fprintf(stderr, "imgdex: %s: write error\n", per_query);
        return 2;
    }
    if (rc != 0) {
        fprintf(stderr, "imgdex: %s\n", e.msg);
        return 2;
    }
    if (r.missing) log_warn("%d images of the split are not in %s", r.missing, o.images_dir);
    if (r.unindexed) log_warn("%d images could not be indexed; their captions were left out", r.unindexed);
    if (r.failed) log_warn("%d queries failed and count at their expected rank", r.failed);

    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "images", r.images);
        cJSON_AddNumberToObject(j, "queries", r.queries);
        cJSON_AddNumberToObject(j, "missing_images", r.missing);
        cJSON_AddNumberToObject(j, "unindexed_images", r.unindexed);
        cJSON_AddNumberToObject(j, "failed_queries", r.failed);
        cJSON_AddNumberToObject(j, "recall@1", r.m.r1);
        cJSON_AddNumberToObject(j, "recall@5", r.m.r5);
        cJSON_AddNumberToObject(j, "recall@10", r.m.r10);
        cJSON_AddNumberToObject(j, "median_rank", r.m.median_rank);
        cJSON_AddNumberToObject(j, "mean_rank", r.m.mean_rank);
        cJSON_AddNumberToObject(j, "mrr", r.m.mrr);
        cJSON *ix = cJSON_AddObjectToObject(j, "index");
        cJSON_AddNumberToObject(ix, "described", r.index.described);
        cJSON_AddNumberToObject(ix, "unchanged", r.index.unchanged + r.index.renamed);
        cJSON_AddNumberToObject(ix, "errors", r.index.errors + r.index.known_errors);
        cJSON_AddNumberToObject(ix, "seconds", r.index.seconds);
        cJSON_AddNumberToObject(ix, "images_per_second", r.index_images_per_second);
        cJSON *q = cJSON_AddObjectToObject(j, "query_ms");
        cJSON_AddNumberToObject(q, "p50", r.query_ms_p50);
        cJSON_AddNumberToObject(q, "p99", r.query_ms_p99);
        cJSON_AddNumberToObject(q, "mean", r.query_ms_mean);
        cJSON_AddStringToObject(j, "without", o.without ? o.without : "");
        cJSON_AddStringToObject(j, "db", o.db);
        cJSON_AddNumberToObject(j, "seconds", r.seconds);
        char *s = json_utf8_fix(cJSON_PrintUnformatted(j));   /* paths are bytes */
        printf("%s\n", s);
        free(s);
        cJSON_Delete(j);
    } else {
        printf("images        %d (%d queries)%s%s\n", r.images, r.queries, o.without ? "  without " : "",
               o.without ? o.without : "");
        printf("recall@1      %.4f\n", r.m.r1);
        printf("recall@5      %.4f\n", r.m.r5);
        printf("recall@10     %.4f\n", r.m.r10);
        printf("median rank   %g\n", r.m.median_rank);
        printf("mean rank     %.1f\n", r.m.mean_rank);
        printf("MRR           %.4f\n", r.m.mrr);
        if (r.index.described)
            printf("index         %d images described in %.1f s (%.2f images/s)\n", r.index.described,
                   r.index.seconds, r.index_images_per_second);
        else
            printf("index         up to date (%.1f s)\n", r.index.seconds);
        printf("query         p50 %.1f ms, p99 %.1f ms, mean %.1f ms\n", r.query_ms_p50, r.query_ms_p99,
               r.query_ms_mean);
        printf("total         %.1f s\n", r.seconds);
    }
    return 0;
}
