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

void q_positive_text(const query *q, char *out, size_t n)
{
    int neg = 0;
    for (int p = 0; p < q->nph; p++) neg |= q->ph[p].negated;
    for (int i = 0; i < q->ntxt; i++) neg |= q->txt[i].negated;
    if (!neg && !q->nflt) {
        snprintf(out, n, "%s", q->source);
        return;
    }
    out[0] = 0;
    int first = 1;
    for (int p = 0; p < q->nph; p++) {
        const q_phrase *ph = &q->ph[p];
        if (ph->negated) continue;
        size_t l = strlen(out);
        snprintf(out + l, n - l, "%s", first ? "" : " and ");
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

/* What CLIP should read: "a photo of" the positive text. */
static void prompt(const query *q, char *out, size_t n)
{
    char t[900];
    q_positive_text(q, t, sizeof t);
    snprintf(out, n, "a photo of %s", t);
}

int q_clip_prepare(sqlite3 *db, const query *q, q_clip *c)
{
    memset(c, 0, sizeof *c);
    char model[64] = "";
    /* Which CLIP made the catalogue's embeddings: the newest image's stages
     * say ("... clip:clip-vit-base-patch32 ..."; "clip:missing" or "clip:off"
     * when it did not run).  One primary-key probe, before opening CLIP. */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT stages FROM images ORDER BY id DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *sg = (const char *)sqlite3_column_text(st, 0);
        const char *p = sg ? strstr(sg, "clip:") : NULL;
        while (p && p != sg && p[-1] != ' ') p = strstr(p + 1, "clip:");
        if (p) snprintf(model, sizeof model, "%.*s", (int)strcspn(p + 5, " "), p + 5);
    }
    sqlite3_finalize(st);
    if (!model[0] || !strcmp(model, "missing") || !strcmp(model, "off") || !strcmp(model, "failed") ||
        !strncmp(model, "needs-", 6))
        return 0;
    pthread_mutex_lock(&clip_mu);
    if (!clip_tried) {
        ierr e = {0};
        clip_tried = 1;
        clip_m = clip_open_default(&e);
    }
    int ok = clip_m && !strcmp(clip_name(clip_m), model);
    if (ok) c->dim = clip_dim(clip_m);
    if (ok) {
        char text[1024];
        prompt(q, text, sizeof text);
        c->vec = xmalloc((size_t)c->dim * sizeof *c->vec);
        ierr e = {0};
        if (clip_embed_text(clip_m, text, c->vec, &e) != 0) ok = 0;
    }
    pthread_mutex_unlock(&clip_mu);
    if (!ok || !q_emb_start(db, model, c->vec, c->dim, &c->scan)) {
        free(c->vec);
        c->vec = NULL;
        return 0;
    }
    snprintf(c->model, sizeof c->model, "%s", model);
    return 1;
}

float q_clip_image(q_clip *c, int64_t id)
{
    return c->vec ? q_emb_cos(&c->scan, id) : NAN;
}

void q_clip_done(q_clip *c)
{
    q_emb_done(&c->scan);
    free(c->vec);
    memset(c, 0, sizeof *c);
}
