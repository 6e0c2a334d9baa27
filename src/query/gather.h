/* gather.h — stage 1 of search_run (search.c): candidate images from index
 * lookups only, each with a cheap pre-score (presence of each phrase,
 * colour agreement, BM25, OCR hits), so that stage 2 loads and scores
 * exactly only the most promising few.  Internal to src/query/. */
#ifndef IMGDEX_QUERY_GATHER_H
#define IMGDEX_QUERY_GATHER_H

#include <sqlite3.h>
#include <stdint.h>

#include "query/rank.h"

#define Q_MAXP 8             /* phrases tracked per candidate in stage 1 */

typedef struct cand {
    int64_t id;
    float pres[Q_MAXP];
    uint64_t mask[Q_MAXP];   /* regions seen for each phrase (idx < 64) */
    float col[Q_MAXP];       /* summed colour agreement of the phrase's regions */
    float bm25;
    float ocr;
    float emb;               /* learnt terms, mapped to 0..1 (search.c) */
    float tag;
    float pre;
} cand;

typedef struct slot { int64_t id; int idx; } slot;

typedef struct ctab {
    cand *c;
    int n, cap;
    slot *slot;              /* open addressing by id: index into c, -1 empty */
    int nslot;
    cand *last;              /* rows come clustered by image: the last one found */
} ctab;

/* The candidate with this image id; created (zeroed) when create, else NULL
 * when absent. */
cand *ctab_get(ctab *t, int64_t id, int create);

/* The catalogue a search reads, and where its errors go. */
typedef struct q_sql {
    sqlite3 *db;
    ierr *e;
    int has_tok;             /* tok_terms and tok_fts exist */
} q_sql;

/* A prepared statement, or NULL + s->e. */
sqlite3_stmt *q_prep(q_sql *s, const char *sql);

/* Candidates for the query's phrases (labels, synonyms, hypernyms, colours). */
int gather_phrases(q_sql *s, const q_ranker *r, ctab *t);
/* BM25 of the free words; new candidates only when create. */
int gather_text(q_sql *s, const q_ranker *r, ctab *t, int create);
/* Images whose OCR words hold the query's quoted text. */
int gather_ocr(q_sql *s, const query *q, ctab *t);
/* The query lemmas the tagger knows (tok_terms rows of source 'tag') into
 * r->tagw; then the best-tagged images of each as candidates, c->tag =
 * their mean probability share (limit rows per word). */
void gather_tag_words(q_sql *s, q_ranker *r);
int gather_tags(q_sql *s, const q_ranker *r, ctab *t, int limit);

#endif
