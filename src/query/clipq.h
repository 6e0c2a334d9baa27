/* clipq.h — internal to src/query: the optional CLIP similarity. */
#ifndef IMGDEX_QUERY_CLIPQ_H
#define IMGDEX_QUERY_CLIPQ_H

#include <sqlite3.h>

#include "query/ast.h"

typedef struct q_clip {
    float *vec;              /* the query's text embedding (normalised) */
    int dim;
    char model[64];
    sqlite3_stmt *st;
} q_clip;

/* 1 when CLIP takes part in this search (embeddings stored and the model
 * that made them installed), 0 otherwise (c is then inert). */
int q_clip_prepare(sqlite3 *db, const query *q, q_clip *c);
/* Cosine with image id's embedding, NAN when it has none. */
float q_clip_image(q_clip *c, int64_t id);
void q_clip_done(q_clip *c);

#endif
