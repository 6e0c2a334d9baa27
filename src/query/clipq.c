/* clipq.c — the optional CLIP part of the score: the cosine between the
 * query's text embedding and each candidate's stored image embedding.
 *
 * Active only when the catalogue holds whole-image embeddings AND the model
 * that made them is installed (clip_open_default): otherwise the score simply
 * has no CLIP term.  The model is opened once per process and shared (the
 * server answers many queries); text encoding is serialised by a mutex. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/clip/clip.h"
#include "query/clipq.h"

static pthread_mutex_t clip_mu = PTHREAD_MUTEX_INITIALIZER;
static clip_model *clip_m;
static int clip_tried;

/* What CLIP should read: the positive phrases with their counts and
 * attributes (CLIP does not understand "without"), or the text as typed. */
static void prompt(const query *q, char *out, size_t n)
{
    int neg = 0;
    for (int p = 0; p < q->nph; p++) neg |= q->ph[p].negated;
    for (int i = 0; i < q->ntxt; i++) neg |= q->txt[i].negated;
    if (!neg && !q->nflt) {
        snprintf(out, n, "a photo of %s", q->source);
        return;
    }
    snprintf(out, n, "a photo of");
    int first = 1;
    for (int p = 0; p < q->nph; p++) {
        const q_phrase *ph = &q->ph[p];
        if (ph->negated) continue;
        size_t l = strlen(out);
        snprintf(out + l, n - l, "%s", first ? " " : " and ");
        first = 0;
        for (int a = 0; a < ph->nattrs; a++) {
            l = strlen(out);
            snprintf(out + l, n - l, "%s ", ph->attrs[a].value);
        }
        l = strlen(out);
        snprintf(out + l, n - l, "%s", ph->word);
    }
    for (int i = 0; i < q->nfree; i++) {
        size_t l = strlen(out);
        snprintf(out + l, n - l, " %s", q->free[i]);
    }
}

int q_clip_prepare(sqlite3 *db, const query *q, q_clip *c)
{
    memset(c, 0, sizeof *c);
    sqlite3_stmt *st;
    char model[64] = "";
    if (sqlite3_prepare_v2(db, "SELECT model, dim FROM embeddings WHERE region_idx=-1 LIMIT 1", -1, &st, NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(model, sizeof model, "%s", (const char *)sqlite3_column_text(st, 0));
        c->dim = sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    if (!model[0] || c->dim <= 0) return 0;
    pthread_mutex_lock(&clip_mu);
    if (!clip_tried) {
        ierr e = {0};
        clip_tried = 1;
        clip_m = clip_open_default(&e);
    }
    int ok = clip_m && !strcmp(clip_name(clip_m), model) && clip_dim(clip_m) == c->dim;
    if (ok) {
        char text[1024];
        prompt(q, text, sizeof text);
        c->vec = xmalloc((size_t)c->dim * sizeof *c->vec);
        ierr e = {0};
        if (clip_embed_text(clip_m, text, c->vec, &e) != 0) ok = 0;
    }
    pthread_mutex_unlock(&clip_mu);
    if (!ok) {
        free(c->vec);
        c->vec = NULL;
        return 0;
    }
    snprintf(c->model, sizeof c->model, "%s", model);
    if (sqlite3_prepare_v2(db, "SELECT vec FROM embeddings WHERE image_id=?1 AND region_idx=-1 AND model=?2", -1,
                           &c->st, NULL) != SQLITE_OK) {
        q_clip_done(c);
        return 0;
    }
    sqlite3_bind_text(c->st, 2, c->model, -1, SQLITE_STATIC);
    return 1;
}

float q_clip_image(q_clip *c, int64_t id)
{
    if (!c->st) return NAN;
    sqlite3_reset(c->st);
    sqlite3_bind_int64(c->st, 1, id);
    if (sqlite3_step(c->st) != SQLITE_ROW) return NAN;
    const float *v = sqlite3_column_blob(c->st, 0);
    int n = sqlite3_column_bytes(c->st, 0) / (int)sizeof(float);
    if (!v || n != c->dim) return NAN;
    double dot = 0, nv = 0;
    for (int i = 0; i < n; i++) {
        float x;
        memcpy(&x, v + i, sizeof x);   /* blobs need not be aligned */
        dot += (double)x * c->vec[i];
        nv += (double)x * x;
    }
    return nv > 0 ? (float)(dot / sqrt(nv)) : NAN;
}

void q_clip_done(q_clip *c)
{
    sqlite3_finalize(c->st);
    free(c->vec);
    memset(c, 0, sizeof *c);
}
