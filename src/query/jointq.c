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

/* Models opened so far, by file: the current one is the file the default
 * path names now (a test or a user may point IMGDEX_JOINT elsewhere between
 * searches).  Never closed: another thread may be using one. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct opened { char path[4096]; joint_model *m; struct opened *next; } *opened;

const joint_model *q_joint_model(void)
{
    char path[4096];
    path_joint_model(path, sizeof path);
    pthread_mutex_lock(&mu);
    struct opened *o = opened;
    while (o && strcmp(o->path, path)) o = o->next;
    if (!o) {
        ierr e = {0};
        o = xcalloc(1, sizeof *o);
        snprintf(o->path, sizeof o->path, "%s", path);
        o->m = joint_open(path, &e);
        o->next = opened;
        opened = o;
    }
    pthread_mutex_unlock(&mu);
    return o->m;
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
