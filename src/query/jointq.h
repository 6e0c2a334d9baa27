/* jointq.h — internal to src/query: the joint-embedding term of a query
 * (imgdex's own model, models/joint.h): the query's positive content
 * lemmas (src/index/textbag.h, WordNet back-off) embedded with
 * joint_embed_lemmas and scanned against every image (embscan.h). */
#ifndef IMGDEX_QUERY_JOINTQ_H
#define IMGDEX_QUERY_JOINTQ_H

#include <sqlite3.h>

#include "query/ast.h"
#include "query/embscan.h"

typedef struct q_joint {
    char model[64];          /* joint_id of the installed model */
    q_emb scan;
} q_joint;

/* The installed joint model (opened on first use, shared), NULL when none. */
struct joint_model;
const struct joint_model *q_joint_model(void);

/* 1 when the joint model is installed, the catalogue holds its embeddings
 * and the query has a word it knows; 0 otherwise (j inert). */
int q_joint_prepare(sqlite3 *db, const query *q, q_joint *j);
void q_joint_done(q_joint *j);

#endif
