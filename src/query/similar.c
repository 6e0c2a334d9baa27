/* similar.c — similar_run: the images nearest one image in embedding space
 * (the joint model's vectors, else CLIP's), by the same whole-collection
 * scan that search uses (embscan.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/embscan.h"
#include "query/jointq.h"
#include "query/query.h"
#include "models/joint.h"

int similar_run(sqlite3 *db, int64_t id, int k, search_results *out, ierr *e)
{
    memset(out, 0, sizeof *out);
    double t0 = now_seconds();
    if (k <= 0) k = 20;
    const joint_model *jm = q_joint_model();
    char model[64];
    int own_txn = sqlite3_get_autocommit(db) && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
    int rc = -1;
    emb_set *s = NULL;
    sqlite3_stmt *st = NULL;
    if (!emb_model_of(db, id, jm ? joint_id(jm) : NULL, model, sizeof model)) {
        err_set(e, "similar: image %lld has no embedding (index it with the joint model or CLIP installed)",
                (long long)id);
        goto done;
    }
    s = emb_acquire(db, model);
    int slot = s ? emb_find(s, id) : -1;
    if (slot < 0) {
        err_set(e, "similar: image %lld has no embedding of %s", (long long)id, model);
        goto done;
    }
    int dim = emb_dim(s), n = emb_count(s);
    float *q = xmalloc((size_t)dim * sizeof *q), *cos = xmalloc((size_t)n * sizeof *cos);
    emb_vector(s, slot, q);
    emb_scan(s, q, cos);
    /* a few more than k: slots of deleted images are skipped below */
    int want = k + 16 < n ? k + 16 : n;
    int *idx = xmalloc((size_t)(want > 0 ? want : 1) * sizeof *idx);
    int nb = emb_top(cos, n, want, idx);
    if (sqlite3_prepare_v2(db, "SELECT path FROM images WHERE id=?1", -1, &st, NULL) != SQLITE_OK) {
        err_set(e, "similar: %s", sqlite3_errmsg(db));
        free(q); free(cos); free(idx);
        goto done;
    }
    out->hits = xcalloc((size_t)k + 1, sizeof *out->hits);
    /* the image itself first, whatever the rounding of its own cosine */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < nb && out->n < k; i++) {
            int64_t hid = emb_image(s, idx[i]);
            if ((pass == 0) != (hid == id)) continue;
            sqlite3_reset(st);
            sqlite3_bind_int64(st, 1, hid);
            if (sqlite3_step(st) != SQLITE_ROW) continue;
            search_hit *h = &out->hits[out->n++];
            h->id = hid;
            h->path = xstrdup((const char *)sqlite3_column_text(st, 0));
            h->score = hid == id ? 1.0 : cos[idx[i]];
            char why[160];
            snprintf(why, sizeof why, "{\"embedding\":{\"model\":\"%s\",\"cosine\":%.4f}}", model, cos[idx[i]]);
            h->why_json = xstrdup(why);
        }
    free(q);
    free(cos);
    free(idx);
    rc = 0;
done:
    sqlite3_finalize(st);
    emb_release(s);
    if (own_txn) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    out->ms = (now_seconds() - t0) * 1000.0;
    return rc;
}
