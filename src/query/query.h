/* query.h — the query language, ranking and explanations.
 *
 * search_run parses the query (query_parse), scores every candidate image
 * against the whole query and returns the best k, each with `why`: which
 * region matched which phrase, which relation held, which words matched.
 */
#ifndef IMGDEX_QUERY_H
#define IMGDEX_QUERY_H

#include <sqlite3.h>

#include "base/base.h"

typedef struct query query;   /* parsed query (AST) */

/* Parse; on error returns NULL and e says where ("column 12: expected a noun after 'red'"). */
query *query_parse(const char *text, ierr *e);
/* The parse, as JSON text (for --explain and the web page); caller frees. */
char *query_to_json(const query *q);
void query_free(query *q);

typedef struct search_hit {
    int64_t id;
    char *path;
    double score;
    char *why_json;          /* JSON object: components and matches */
    int weak;                /* only the learnt terms, and weakly: not listed unless keep_weak */
} search_hit;

typedef struct search_results {
    search_hit *hits;
    int n;
    char *parse_json;        /* query_to_json of what was searched */
    double ms;
    int weak;                /* images left out because they match only weakly: with n == 0,
                                "nothing matches well" */
} search_results;

/* More results than this are never returned (search -k's range). */
#define SEARCH_MAX_K 100000

typedef struct search_opts {
    int k;                   /* default 20, at most SEARCH_MAX_K */
    const char *without;     /* ablations, comma separated: "wordnet,relations,colours,clip,ocr,
                                embedding,tags,structured" */
    int keep_weak;           /* list images that match only weakly too (eval ranks everything) */
} search_opts;

int search_run(sqlite3 *db, const char *text, const search_opts *o, search_results *out, ierr *e);
/* The k images nearest image id in embedding space (the joint model's
 * vectors, else CLIP's), the image itself first; score = cosine, why =
 * {"embedding":{"model","cosine"}}.  -1 + e when id has no embedding. */
int similar_run(sqlite3 *db, int64_t id, int k, search_results *out, ierr *e);

/* {"query":…, "results":[{"rank","id","path","score","why"}]} ; caller frees.
 * Always valid UTF-8: bytes of a path or query that are not UTF-8 come out
 * as U+FFFD. */
char *search_results_json(const char *text, const search_results *r);
void search_results_free(search_results *r);

#endif
