/* featstore.c — feature vectors in the catalogue: one row per image in
 * `features`, the vector as IEEE half floats, little endian (half the
 * size of float32; the models lose nothing measurable at 3 significant
 * digits, and a million images of 3235 features fit in 6.5 GB).
 */
#include "index/featstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/half.h"
#include "index/catalogue.h"

static int dberr(sqlite3 *db, const char *path, ierr *e, const char *what)
{
    err_set(e, "%s: %s: %s", path, what, sqlite3_errmsg(db));
    return -1;
}

int featstore_put(sqlite3 *db, const char *path, int64_t id, const description *ds, ierr *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "DELETE FROM features WHERE image_id=?", -1, &st, NULL) != SQLITE_OK)
        return dberr(db, path, e, "prepare");
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return dberr(db, path, e, "replacing features");
    if (!ds->features || ds->nfeatures <= 0) return 0;

    size_t bytes = (size_t)ds->nfeatures * 2;
    unsigned char *blob = xmalloc(bytes);
    half_pack_le(ds->features, (size_t)ds->nfeatures, blob);
    if (sqlite3_prepare_v2(db, "INSERT INTO features(image_id, kind, dim, vec) VALUES(?,?,?,?)", -1, &st, NULL) !=
        SQLITE_OK) {
        free(blob);
        return dberr(db, path, e, "prepare");
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, ds->features_kind[0] ? ds->features_kind : "unknown", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 3, ds->nfeatures);
    sqlite3_bind_blob(st, 4, blob, (int)bytes, free);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return dberr(db, path, e, "storing features");
    return 0;
}

/* The row's vector, or NULL when its blob does not hold dim halves (a
 * damaged row is treated as absent, not trusted). */
static float *row_vector(sqlite3_stmt *st, int col, int dim)
{
    const unsigned char *b = sqlite3_column_blob(st, col);
    int bytes = sqlite3_column_bytes(st, col);
    if (!b || dim <= 0 || bytes != dim * 2) return NULL;
    float *v = xmalloc(sizeof(float) * (size_t)dim);
    half_unpack_le(b, (size_t)dim, v);
    return v;
}

static int get_one(sqlite3 *db, const char *path, int64_t id, char kind[16], float **out, int *dim, ierr *e)
{
    *out = NULL;
    *dim = 0;
    kind[0] = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT kind, dim, vec FROM features WHERE image_id=?", -1, &st, NULL) != SQLITE_OK)
        return dberr(db, path, e, "prepare");
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        int d = sqlite3_column_int(st, 1);
        float *v = row_vector(st, 2, d);
        if (v) {
            const unsigned char *k = sqlite3_column_text(st, 0);
            snprintf(kind, 16, "%s", k ? (const char *)k : "");
            *out = v;
            *dim = d;
            found = 1;
        }
    } else if (rc != SQLITE_DONE) {
        sqlite3_finalize(st);
        return dberr(db, path, e, "reading features");
    }
    sqlite3_finalize(st);
    return found;
}

int featstore_get(sqlite3 *db, const char *path, int64_t id, description *out, ierr *e)
{
    float *v;
    int dim;
    int rc = get_one(db, path, id, out->features_kind, &v, &dim, e);
    if (rc < 0) return -1;
    free(out->features);
    out->features = v;
    out->nfeatures = dim;
    return 0;
}

static const char *db_path(catalogue *c)
{
    const char *p = sqlite3_db_filename(cat_db(c), "main");
    return p && *p ? p : "catalogue";
}

int cat_features(catalogue *c, int64_t id, char kind[16], float **out, int *dim, ierr *e)
{
    return get_one(cat_db(c), db_path(c), id, kind, out, dim, e);
}

int cat_features_all(catalogue *c, const char *kind, int64_t **ids, float **vecs, int *dim, ierr *e)
{
    *ids = NULL;
    *vecs = NULL;
    *dim = 0;
    sqlite3 *db = cat_db(c);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT image_id, dim, vec FROM features WHERE kind=? ORDER BY image_id", -1, &st,
                           NULL) != SQLITE_OK)
        return dberr(db, db_path(c), e, "prepare");
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_TRANSIENT);
    int n = 0, cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int d = sqlite3_column_int(st, 1);
        if (!*dim) *dim = d;
        if (d != *dim) {
            err_set(e, "%s: features of kind %s have %d and %d dimensions", db_path(c), kind, *dim, d);
            goto fail;
        }
        const unsigned char *b = sqlite3_column_blob(st, 2);
        if (!b || d <= 0 || sqlite3_column_bytes(st, 2) != d * 2) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            *ids = xrealloc(*ids, sizeof **ids * (size_t)cap);
            *vecs = xrealloc(*vecs, sizeof **vecs * (size_t)cap * (size_t)d);
        }
        (*ids)[n] = sqlite3_column_int64(st, 0);
        half_unpack_le(b, (size_t)d, *vecs + (size_t)n * d);
        n++;
    }
    if (rc != SQLITE_DONE) {
        dberr(db, db_path(c), e, "reading features");
        goto fail;
    }
    sqlite3_finalize(st);
    return n;
fail:
    sqlite3_finalize(st);
    free(*ids);
    free(*vecs);
    *ids = NULL;
    *vecs = NULL;
    *dim = 0;
    return -1;
}
