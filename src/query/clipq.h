/* clipq.h — internal to src/query: the optional CLIP similarity. */
#ifndef IMGDEX_QUERY_CLIPQ_H
#define IMGDEX_QUERY_CLIPQ_H

#include <sqlite3.h>

#include "query/ast.h"
#include "query/embscan.h"

typedef struct q_clip {
    float *vec;              /* the query's text embedding (normalised) */
    int dim;
    char model[64];
    q_emb scan;              /* its cosine with every image (embscan.h) */
} q_clip;

/* 1 when CLIP takes part in this search (embeddings stored and the model
 * that made them installed), 0 otherwise (c is then inert). */
int q_clip_prepare(sqlite3 *db, const query *q, q_clip *c);
/* Cosine with image id's embedding, NAN when it has none. */
float q_clip_image(q_clip *c, int64_t id);
void q_clip_done(q_clip *c);

/* The query text an embedding model should read: the positive phrases
 * with their counts and attributes and the free words (models do not
 * understand "without"), or the text as typed when nothing is negated. */
void q_positive_text(const query *q, char *out, size_t n);

#endif
