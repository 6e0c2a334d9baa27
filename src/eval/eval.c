/* eval.c — index the split, run every caption as a query, rank its image.
 *
 * The rank of a caption's image is its position among the split's images
 * in the results (images of the catalogue outside the split are skipped,
 * so a shared database does not distort the figures).  search_run returns
 * only images that match something; an image it does not return gets the
 * expected rank of a random order of everything not returned
 * (eval_expected_rank).  Everything is deterministic except the timings.
 */
#include "eval/eval.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/query.h"

typedef struct id_ix { int64_t id; int ix; } id_ix;

static int cmp_id(const void *a, const void *b)
{
    int64_t x = ((const id_ix *)a)->id, y = ((const id_ix *)b)->id;
    return x < y ? -1 : x > y;
}

/* Rows of a database of our own that are not in the split would compete
 * in every query: remove them. */
static int prune(const char *db, const id_ix *keep, int nkeep, ierr *e)
{
    catalogue *c = cat_open(db, 0, e);
    if (!c) return -1;
    sqlite3_stmt *st;
    int64_t *gone = NULL;
    int ngone = 0;
    if (sqlite3_prepare_v2(cat_db(c), "SELECT id FROM images", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            id_ix key = {sqlite3_column_int64(st, 0), 0};
            if (bsearch(&key, keep, (size_t)nkeep, sizeof *keep, cmp_id)) continue;
            gone = xrealloc(gone, (size_t)(ngone + 1) * sizeof *gone);
            gone[ngone++] = key.id;
        }
        sqlite3_finalize(st);
    }
    int rc = 0;
    for (int i = 0; i < ngone && rc == 0; i++) rc = cat_remove(c, gone[i], e);
    free(gone);
    cat_close(c);
    return rc;
}

static void tsv_clean(FILE *f, const char *s)
{
    for (; s && *s; s++) fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

int eval_run(const eval_opts *o, eval_report *r, ierr *e)
{
    double t0 = now_seconds();
    memset(r, 0, sizeof *r);
    eval_set set;
    if (eval_load(o->captions, o->split, o->images_dir, o->limit, &set, e) != 0) return -1;
    r->missing = set.missing;
    if (set.nimages == 0) {
        err_set(e, "%s: no image of the split is in %s", o->split ? o->split : o->captions, o->images_dir);
        eval_set_free(&set);
        return -1;
    }
    char dir[PATH_MAX];
    if (!realpath(o->images_dir, dir)) {
        err_set(e, "%s: cannot resolve", o->images_dir);
        eval_set_free(&set);
        return -1;
    }

    /* 1. Index exactly the split's files (incremental: reuses what is there). */
    char **paths = xcalloc((size_t)set.nimages, sizeof *paths);
    for (int i = 0; i < set.nimages; i++) {
        size_t n = strlen(dir) + strlen(set.images[i]) + 2;
        paths[i] = xmalloc(n);
        snprintf(paths[i], n, "%s/%s", dir, set.images[i]);
    }
    int rc = -1;
    catalogue *c = NULL;
    id_ix *ids = NULL;
    int nids = 0;
    double *ranks = NULL, *ms = NULL;
    if (index_run(o->db, paths, set.nimages, &o->index, &r->index, e) != 0) goto out;
    if (r->index.described > 0 && r->index.seconds > 0)
        r->index_images_per_second = r->index.described / r->index.seconds;

    /* 2. Which catalogue id is which split image. */
    if (!(c = cat_open(o->db, 1, e))) goto out;
    int *image_id_ok = xcalloc((size_t)set.nimages, sizeof *image_id_ok);
    ids = xcalloc((size_t)set.nimages, sizeof *ids);
    for (int i = 0; i < set.nimages; i++) {
        int64_t id = cat_lookup(c, paths[i]);
        if (!id) {
            r->unindexed++;
            continue;
        }
        image_id_ok[i] = 1;
        ids[nids++] = (id_ix){id, i};
    }
    qsort(ids, (size_t)nids, sizeof *ids, cmp_id);
    r->images = nids;
    if (o->prune) {
        cat_close(c);
        c = NULL;
        if (prune(o->db, ids, nids, e) != 0) {
            free(image_id_ok);
            goto out;
        }
        if (!(c = cat_open(o->db, 1, e))) {
            free(image_id_ok);
            goto out;
        }
    }

    /* 3. Every caption of an indexed image is a query. */
    ranks = xcalloc((size_t)set.nq + 1, sizeof *ranks);
    ms = xcalloc((size_t)set.nq + 1, sizeof *ms);
    search_opts so = {.k = nids, .without = o->without, .keep_weak = 1};
    if (o->per_query) fprintf(o->per_query, "query\trank\tms\timage\ttop\tcaption\n");
    for (int qi = 0; qi < set.nq; qi++) {
        const eval_query *q = &set.q[qi];
        if (!image_id_ok[q->image]) continue;
        int64_t want = 0;
        for (int k = 0; k < nids && !want; k++)
            if (ids[k].ix == q->image) want = ids[k].id;
        search_results res;
        memset(&res, 0, sizeof res);
        ierr qe = {0};
        double t = now_seconds();
        int ok = search_run(cat_db(c), q->caption, &so, &res, &qe) == 0;
        double took = (now_seconds() - t) * 1000;
        double rank = 0;
        int seen = 0;
        const char *top = "";
        if (ok) {
            for (int h = 0; h < res.n && !rank; h++) {
                id_ix key = {res.hits[h].id, 0};
                if (!bsearch(&key, ids, (size_t)nids, sizeof *ids, cmp_id)) continue;
                if (!seen) top = res.hits[h].path ? res.hits[h].path : "";
                seen++;
                if (res.hits[h].id == want) rank = seen;
            }
        } else {
            r->failed++;
        }
        if (!rank) rank = eval_expected_rank(seen, nids);
        ranks[r->queries] = rank;
        ms[r->queries] = took;
        r->queries++;
        if (o->per_query) {
            const char *slash = strrchr(top, '/');
            fprintf(o->per_query, "%d\t%g\t%.2f\t%s\t%s\t", qi + 1, rank, took, set.images[q->image],
                    slash ? slash + 1 : top);
            tsv_clean(o->per_query, q->caption);
            if (!ok) {
                fputs("\t", o->per_query);
                tsv_clean(o->per_query, qe.msg);
            }
            fputc('\n', o->per_query);
        }
        search_results_free(&res);
    }
    free(image_id_ok);
    eval_metrics_compute(ranks, r->queries, &r->m);
    double sum = 0;
    for (int i = 0; i < r->queries; i++) sum += ms[i];
    r->query_ms_mean = r->queries ? sum / r->queries : 0;
    r->query_ms_p50 = eval_percentile(ms, r->queries, 50);
    r->query_ms_p99 = eval_percentile(ms, r->queries, 99);
    rc = 0;
out:
    r->seconds = now_seconds() - t0;
    cat_close(c);
    free(ids);
    free(ranks);
    free(ms);
    for (int i = 0; i < set.nimages; i++) free(paths[i]);
    free(paths);
    eval_set_free(&set);
    return rc;
}
