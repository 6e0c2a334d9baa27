/* jointq.c — the joint-embedding term of a query: the positive text's
 * content lemmas (textbag_embed: WordNet back-off for lemmas the model does
 * not know) embedded by the installed joint model and scanned against every
 * image's stored joint embedding.
 *
 * The model is opened once per process and shared (the server answers many
 * queries); it is read-only once open, so text encoding needs no lock. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/textbag.h"
#include "models/joint.h"
#include "query/clipq.h"
#include "query/jointq.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static joint_model *model;

static void open_model(void)
{
    ierr e = {0};
    model = joint_open(NULL, &e);
}

const joint_model *q_joint_model(void)
{
    pthread_once(&once, open_model);
    return model;
}

int q_joint_prepare(sqlite3 *db, const query *q, q_joint *j)
{
    memset(j, 0, sizeof *j);
    const joint_model *m = q_joint_model();
    if (!m) return 0;
    char text[1024];
    q_positive_text(q, text, sizeof text);
    int dim = joint_dim(m);
    float *v = xmalloc((size_t)dim * sizeof *v);
    int ok = textbag_embed(m, text, v, NULL) > 0 && q_emb_start(db, joint_id(m), v, dim, &j->scan);
    free(v);
    if (!ok) return 0;
    snprintf(j->model, sizeof j->model, "%s", joint_id(m));
    return 1;
}

void q_joint_done(q_joint *j) { q_emb_done(&j->scan); }
