/* eval.h — `imgdex eval`: retrieval quality on a captioned image set.
 *
 * Every caption of the split is a text query; its answer is the image it
 * was written for.  The images are indexed (incrementally: an up-to-date
 * database is reused), each caption goes through search_run, and the rank
 * of its own image among the split's images gives Recall@1/5/10, median
 * rank and MRR (metrics.h), with index speed and query latency.
 */
#ifndef IMGDEX_EVAL_H
#define IMGDEX_EVAL_H

#include <stdio.h>

#include "base/base.h"
#include "eval/metrics.h"
#include "index/catalogue.h"

/* The images and queries of one evaluation. */
typedef struct eval_query {
    int image;               /* index into eval_set.images */
    char *caption;
} eval_query;

typedef struct eval_set {
    char **images; int nimages;          /* file names, split order */
    eval_query *q; int nq;               /* TSV order */
    int missing;                         /* split images absent from the directory */
} eval_set;

/* captions: "filename<TAB>caption" lines; split: one filename a line, or
 * NULL for every captioned image present in dir; limit: keep the first N
 * images (0 = all).  Images missing from dir are left out and counted. */
int eval_load(const char *captions, const char *split, const char *dir, int limit, eval_set *s,
              ierr *e);
void eval_set_free(eval_set *s);

typedef struct eval_opts {
    const char *images_dir;
    const char *captions;
    const char *split;       /* NULL = all captioned images in images_dir */
    const char *db;
    int limit;
    const char *without;     /* search ablations, comma separated */
    int prune;               /* drop catalogue rows outside the split (a database of our own) */
    FILE *per_query;         /* one TSV line per query, or NULL */
    index_opts index;
} eval_opts;

typedef struct eval_report {
    int images;              /* split images indexed and searched against */
    int queries;
    int missing;             /* split images not found in the directory */
    int unindexed;           /* split images that failed to index (their captions are left out) */
    int failed;              /* queries search_run refused (counted at their expected rank) */
    eval_metrics m;
    index_stats index;
    double index_images_per_second;      /* described / index seconds; 0 when nothing was described */
    double query_ms_p50, query_ms_p99, query_ms_mean;
    double seconds;
} eval_report;

int eval_run(const eval_opts *o, eval_report *r, ierr *e);

#endif
