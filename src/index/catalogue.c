/* catalogue.c — opening the database, and storing/loading one image's
 * description.
 *
 * Every write is one short IMMEDIATE transaction, so a reader in another
 * process (search, serve) sees either the old or the new description of
 * an image and never waits more than one image's worth of writing: WAL
 * lets readers proceed while the writer appends.
 */
#include "index/catalogue.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image/fingerprint.h"
#include "index/featstore.h"
#include "index/fpstore.h"
#include "index/schema.h"
#include "index/tokens.h"

struct catalogue {
    sqlite3 *db;
    char *path;
    int readonly;
};

sqlite3 *cat_db(catalogue *c) { return c ? c->db : NULL; }

static int dberr(catalogue *c, ierr *e, const char *what)
{
    err_set(e, "%s: %s: %s", c->path, what, sqlite3_errmsg(c->db));
    return -1;
}

static int exec(catalogue *c, const char *sql, ierr *e)
{
    char *msg = NULL;
    if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
    err_set(e, "%s: %s", c->path, msg ? msg : sqlite3_errmsg(c->db));
    sqlite3_free(msg);
    return -1;
}

catalogue *cat_open(const char *path, int readonly, ierr *e)
{
    struct stat sb;
    int exists = stat(path, &sb) == 0;
    if (readonly && !exists) {
        err_set(e, "%s: no database here (run 'imgdex index DIR' first)", path);
        return NULL;
    }
    /* SQLite would open a FIFO and wait on it forever. */
    if (exists && !S_ISREG(sb.st_mode)) {
        err_set(e, "%s: not an imgdex database (%s)", path, S_ISDIR(sb.st_mode) ? "a directory" : "not a regular file");
        return NULL;
    }
    catalogue *c = xcalloc(1, sizeof *c);
    c->path = xstrdup(path);
    c->readonly = readonly;
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    /* FULLMUTEX off: a connection is used by one thread at a time. */
    flags |= SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
        err_set(e, "%s: cannot open database: %s", path,
                c->db ? sqlite3_errmsg(c->db) : "out of memory");
        cat_close(c);
        return NULL;
    }
    /* Waits for a concurrent writer (another `index`) instead of failing;
     * one transaction is one image, so waits are short. */
    sqlite3_busy_timeout(c->db, 30000);
    sqlite3_extended_result_codes(c->db, 1);
    if (exec(c, "PRAGMA foreign_keys=ON", e) != 0) goto fail;
    if (!readonly) {
        /* WAL: readers never block the writer nor the writer the readers.
         * synchronous=NORMAL is still safe against a killed process (the
         * WAL is in the OS's hands once written); only a power cut can
         * lose the last commits, never corrupt the file. */
        if (exec(c, "PRAGMA journal_mode=WAL", e) != 0) goto fail;
        if (exec(c, "PRAGMA synchronous=NORMAL", e) != 0) goto fail;
        if (schema_migrate(c->db, path, e) != 0) goto fail;
    } else {
        int v = schema_user_version(c->db);
        int code = v < 0 ? sqlite3_errcode(c->db) & 0xff : SQLITE_OK;
        if (v < 0 && (code == SQLITE_CANTOPEN || code == SQLITE_READONLY || code == SQLITE_IOERR)) {
            /* A WAL database on read-only media: no -shm can be made next to
             * it.  Nobody can be writing there, so read it as immutable. */
            sqlite3_close_v2(c->db);
            c->db = NULL;
            char *uri = sqlite3_mprintf("file:%s?immutable=1", path);   /* names with ?#% are not URIs */
            if (uri && !strpbrk(path, "?#%") &&
                sqlite3_open_v2(uri, &c->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL) ==
                    SQLITE_OK) {
                v = schema_user_version(c->db);
                code = v < 0 ? sqlite3_errcode(c->db) & 0xff : SQLITE_OK;
            }
            sqlite3_free(uri);
        }
        if (v < 0) {
            if (!c->db || code != SQLITE_NOTADB)
                err_set(e, "%s: cannot read the database: %s", path, c->db ? sqlite3_errmsg(c->db) : "cannot open");
            else
                dberr(c, e, "not an imgdex database");
            goto fail;
        }
        if (v != cat_schema_version()) {
            err_set(e, "%s: database schema %d, this build reads %d (run 'imgdex index' to upgrade it)",
                    path, v, cat_schema_version());
            goto fail;
        }
    }
    return c;
fail:
    cat_close(c);
    return NULL;
}

void cat_close(catalogue *c)
{
    if (!c) return;
    if (c->db) sqlite3_close_v2(c->db);
    free(c->path);
    free(c);
}

/* ---- small statement helpers ------------------------------------------- */

static sqlite3_stmt *prep(catalogue *c, const char *sql, ierr *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        dberr(c, e, "prepare");
        return NULL;
    }
    return st;
}

/* Step a statement that returns no rows, then finalize it. */
static int done(catalogue *c, sqlite3_stmt *st, ierr *e, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        err_set(e, "%s: %s: %s", c->path, what, sqlite3_errmsg(c->db));
        return -1;
    }
    return 0;
}

/* ---- writing ------------------------------------------------------------ */

static void stages_joint(const char *stages, char *out, size_t n);

static int put_children(catalogue *c, int64_t id, const description *ds, ierr *e)
{
    if (regstore_put(c->db, c->path, id, ds, e) != 0) return -1;
    sqlite3_stmt *st = prep(c, "INSERT INTO relations(image_id, a, b, rel, weight) VALUES(?,?,?,?,?)", e);
    if (!st) return -1;
    for (int i = 0; i < ds->nrelations; i++) {
        const relation *r = &ds->relations[i];
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, r->a);
        sqlite3_bind_int(st, 3, r->b);
        sqlite3_bind_text(st, 4, r->rel, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 5, r->weight);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            return dberr(c, e, "storing relations");
        }
    }
    sqlite3_finalize(st);

    st = prep(c, "INSERT INTO ocr_words(image_id, text, conf, x0, y0, x1, y1) VALUES(?,?,?,?,?,?,?)", e);
    if (!st) return -1;
    for (int i = 0; i < ds->nwords; i++) {
        const ocr_word *w = &ds->words[i];
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, w->text, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 3, w->conf);
        sqlite3_bind_double(st, 4, w->x0);
        sqlite3_bind_double(st, 5, w->y0);
        sqlite3_bind_double(st, 6, w->x1);
        sqlite3_bind_double(st, 7, w->y1);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            return dberr(c, e, "storing OCR words");
        }
    }
    sqlite3_finalize(st);

    st = prep(c, "INSERT INTO tags(image_id, region, grp, label, score) VALUES(?,?,?,?,?)", e);
    if (!st) return -1;
    for (int i = 0; i < ds->ntags; i++) {
        const desc_tag *t = &ds->tags[i];
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, t->region);
        sqlite3_bind_text(st, 3, t->group, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, t->label, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 5, t->score);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            return dberr(c, e, "storing tags");
        }
    }
    sqlite3_finalize(st);

    st = prep(c, "INSERT INTO embeddings(image_id, region_idx, model, dim, vec) VALUES(?,?,?,?,?)", e);
    if (!st) return -1;
    const char *model = ds->emb_model[0] ? ds->emb_model : "unknown";
    for (int i = -1; i < ds->nregions; i++) {
        const float *v = i < 0 ? ds->embedding : ds->regions[i].embedding;
        int dim = i < 0 ? ds->emb_dim : ds->regions[i].emb_dim;
        if (!v || dim <= 0) continue;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, i);
        sqlite3_bind_text(st, 3, model, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 4, dim);
        sqlite3_bind_blob(st, 5, v, dim * (int)sizeof(float), SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            return dberr(c, e, "storing embeddings");
        }
    }
    if (ds->joint && ds->joint_dim > 0 && ds->joint_model[0]) {
        uint8_t *b = xmalloc(CAT_VEC_I8_BYTES(ds->joint_dim));
        cat_vec_encode_i8(ds->joint, ds->joint_dim, b);
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, -1);
        sqlite3_bind_text(st, 3, ds->joint_model, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 4, ds->joint_dim);
        sqlite3_bind_blob(st, 5, b, (int)CAT_VEC_I8_BYTES(ds->joint_dim), SQLITE_TRANSIENT);
        free(b);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            return dberr(c, e, "storing the joint embedding");
        }
    }
    sqlite3_finalize(st);
    return 0;
}

int cat_put_fingerprint(catalogue *c, int64_t id, const img_fp *fp, ierr *e)
{
    if (c->readonly) {
        err_set(e, "%s: opened read-only", c->path);
        return -1;
    }
    return fpstore_put(c->db, c->path, id, fp, e);
}

int cat_get_fingerprint(catalogue *c, int64_t id, img_fp *out, ierr *e)
{
    return fpstore_get(c->db, c->path, id, out, e);
}

/* Inside a transaction: the row of f (inserted or updated in place, so an
 * image keeps its id when it is re-described), children replaced. */
static int64_t put_locked(catalogue *c, const cat_file *f, const description *ds, ierr *e)
{
    int64_t id = 0;
    sqlite3_stmt *st = prep(c, "SELECT id FROM images WHERE path=?", e);
    if (!st) return -1;
    sqlite3_bind_text(st, 1, f->path, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);

    if (id) {
        static const char *const clear[] = {
            "DELETE FROM regions WHERE image_id=?", "DELETE FROM relations WHERE image_id=?",
            "DELETE FROM ocr_words WHERE image_id=?", "DELETE FROM embeddings WHERE image_id=?",
            "DELETE FROM tags WHERE image_id=?", "DELETE FROM fingerprints WHERE image_id=?",
        };
        for (size_t i = 0; i < sizeof clear / sizeof clear[0]; i++) {
            if (!(st = prep(c, clear[i], e))) return -1;
            sqlite3_bind_int64(st, 1, id);
            if (done(c, st, e, "replacing a description") != 0) return -1;
        }
        st = prep(c,
            "UPDATE images SET size=?2, mtime_ns=?3, hash=?4, width=?5, height=?6, format=?7,"
            " taken_at=?8, camera=?9, gps_lat=?10, gps_lon=?11, indexed_at=datetime('now'),"
            " describer=?12, caption=?13, clip_caption=?14, scene=?15, brightness=?16, stages=?17"
            " WHERE id=?18", e);
    } else {
        st = prep(c,
            "INSERT INTO images(path, size, mtime_ns, hash, width, height, format, taken_at, camera,"
            " gps_lat, gps_lon, indexed_at, describer, caption, clip_caption, scene, brightness, stages)"
            " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,datetime('now'),?12,?13,?14,?15,?16,?17)", e);
    }
    if (!st) return -1;
    const img_meta *m = f->meta;
    if (!id) sqlite3_bind_text(st, 1, f->path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, f->size);
    sqlite3_bind_int64(st, 3, f->mtime_ns);
    sqlite3_bind_text(st, 4, f->hash ? f->hash : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 5, ds->width ? ds->width : m ? m->orig_w : 0);
    sqlite3_bind_int(st, 6, ds->height ? ds->height : m ? m->orig_h : 0);
    cat_bind_text(st, 7, m ? m->format : NULL);
    cat_bind_text(st, 8, m ? m->taken_at : NULL);
    cat_bind_text(st, 9, m ? m->camera : NULL);
    if (m && m->has_gps) {
        sqlite3_bind_double(st, 10, m->lat);
        sqlite3_bind_double(st, 11, m->lon);
    } else {
        sqlite3_bind_null(st, 10);
        sqlite3_bind_null(st, 11);
    }
    sqlite3_bind_text(st, 12, f->describer ? f->describer : "", -1, SQLITE_TRANSIENT);
    cat_bind_text(st, 13, ds->caption);
    cat_bind_text(st, 14, ds->clip_caption);
    cat_bind_text(st, 15, ds->scene);
    sqlite3_bind_double(st, 16, ds->brightness);
    sqlite3_bind_text(st, 17, ds->stages, -1, SQLITE_TRANSIENT);
    if (id) sqlite3_bind_int64(st, 18, id);
    if (done(c, st, e, "storing an image") != 0) return -1;
    if (!id) id = sqlite3_last_insert_rowid(c->db);

    if (put_children(c, id, ds, e) != 0) return -1;
    if (f->fp && fpstore_put(c->db, c->path, id, f->fp, e) != 0) return -1;
    if (featstore_put(c->db, c->path, id, ds, e) != 0) return -1;
    if (tokens_put(c->db, id, ds, e) != 0) {
        err_prefix(e, "%s: storing tokens", f->path);
        return -1;
    }
    /* The file indexes fine now: forget that it once did not. */
    if (!(st = prep(c, "DELETE FROM errors WHERE path=?", e))) return -1;
    sqlite3_bind_text(st, 1, f->path, -1, SQLITE_TRANSIENT);
    if (done(c, st, e, "clearing an error") != 0) return -1;
    return id;
}

int64_t cat_put(catalogue *c, const cat_file *f, const description *ds, ierr *e)
{
    if (c->readonly) {
        err_set(e, "%s: opened read-only", c->path);
        return -1;
    }
    if (exec(c, "BEGIN IMMEDIATE", e) != 0) return -1;
    int64_t id = put_locked(c, f, ds, e);
    if (id > 0 && exec(c, "COMMIT", e) == 0) return id;
    sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* Inside a transaction: the joint part of image id replaced by ds's. */
static int put_joint_locked(catalogue *c, int64_t id, const description *ds, const char *describer, ierr *e)
{
    sqlite3_stmt *st = prep(c, "SELECT stages FROM images WHERE id=?", e);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, id);
    char old[48] = "";
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found) stages_joint((const char *)sqlite3_column_text(st, 0), old, sizeof old);
    sqlite3_finalize(st);
    if (!found) {
        err_set(e, "%s: no image %lld", c->path, (long long)id);
        return -1;
    }
    if (!(st = prep(c, "DELETE FROM embeddings WHERE image_id=? AND region_idx=-1 AND model=?", e))) return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, old, -1, SQLITE_TRANSIENT);
    if (done(c, st, e, "replacing the joint embedding") != 0) return -1;
    if (!(st = prep(c, "DELETE FROM tags WHERE image_id=? AND grp='tagger'", e))) return -1;
    sqlite3_bind_int64(st, 1, id);
    if (done(c, st, e, "replacing the tagger's words") != 0) return -1;
    if (!(st = prep(c, "INSERT INTO tags(image_id, region, grp, label, score) VALUES(?,?,?,?,?)", e))) return -1;
    for (int i = 0; i < ds->ntags; i++) {
        const desc_tag *t = &ds->tags[i];
        if (strcmp(t->group, "tagger")) continue;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, t->region);
        sqlite3_bind_text(st, 3, t->group, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, t->label, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 5, t->score);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            return dberr(c, e, "storing tags");
        }
    }
    sqlite3_finalize(st);
    if (ds->joint && ds->joint_dim > 0) {
        if (!(st = prep(c, "INSERT INTO embeddings(image_id, region_idx, model, dim, vec) VALUES(?,-1,?,?,?)", e)))
            return -1;
        uint8_t *b = xmalloc(CAT_VEC_I8_BYTES(ds->joint_dim));
        cat_vec_encode_i8(ds->joint, ds->joint_dim, b);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, ds->joint_model, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 3, ds->joint_dim);
        sqlite3_bind_blob(st, 4, b, (int)CAT_VEC_I8_BYTES(ds->joint_dim), SQLITE_TRANSIENT);
        free(b);
        if (done(c, st, e, "storing the joint embedding") != 0) return -1;
    }
    if (tokens_put(c->db, id, ds, e) != 0) return -1;
    const char *sp = strchr(describer, ' ');
    if (!(st = prep(c, "UPDATE images SET describer=?1, stages=?2, indexed_at=datetime('now') WHERE id=?3", e)))
        return -1;
    sqlite3_bind_text(st, 1, describer, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, sp ? sp + 1 : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, id);
    return done(c, st, e, "updating the describer");
}

int cat_put_joint(catalogue *c, int64_t id, const description *ds, const char *describer, ierr *e)
{
    if (c->readonly) {
        err_set(e, "%s: opened read-only", c->path);
        return -1;
    }
    if (exec(c, "BEGIN IMMEDIATE", e) != 0) return -1;
    if (put_joint_locked(c, id, ds, describer, e) == 0 && exec(c, "COMMIT", e) == 0) return 0;
    sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static int remove_locked(catalogue *c, int64_t id, ierr *e)
{
    /* The token tables may be virtual (FTS5) and cannot cascade. */
    if (tokens_delete(c->db, id, e) != 0) return -1;
    sqlite3_stmt *st = prep(c, "DELETE FROM images WHERE id=?", e);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, id);
    return done(c, st, e, "removing an image");
}

int cat_remove(catalogue *c, int64_t id, ierr *e)
{
    if (exec(c, "BEGIN IMMEDIATE", e) != 0) return -1;
    if (remove_locked(c, id, e) == 0 && exec(c, "COMMIT", e) == 0) return 0;
    sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static int record_error_locked(catalogue *c, const char *path, const char *reason, long long size,
                               long long mtime_ns, ierr *e)
{
    /* A file that used to index fine and is now broken no longer is the
     * image it was: drop its description so search does not return it. */
    int64_t id = 0;
    sqlite3_stmt *st = prep(c, "SELECT id FROM images WHERE path=?", e);
    if (!st) return -1;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (id && remove_locked(c, id, e) != 0) return -1;

    st = prep(c, "INSERT OR REPLACE INTO errors(path, reason, at, size, mtime_ns)"
                 " VALUES(?, ?, datetime('now'), ?, ?)", e);
    if (!st) return -1;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, size);
    sqlite3_bind_int64(st, 4, mtime_ns);
    return done(c, st, e, "recording an error");
}

int cat_record_error_file(catalogue *c, const char *path, const char *reason, long long size,
                          long long mtime_ns, ierr *e)
{
    if (exec(c, "BEGIN IMMEDIATE", e) != 0) return -1;
    if (record_error_locked(c, path, reason, size, mtime_ns, e) == 0 && exec(c, "COMMIT", e) == 0)
        return 0;
    sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int cat_record_error(catalogue *c, const char *path, const char *reason, ierr *e)
{
    return cat_record_error_file(c, path, reason, -1, -1, e);
}

int cat_touch(catalogue *c, int64_t id, long long size, long long mtime_ns, ierr *e)
{
    sqlite3_stmt *st = prep(c, "UPDATE images SET size=?, mtime_ns=? WHERE id=?", e);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, size);
    sqlite3_bind_int64(st, 2, mtime_ns);
    sqlite3_bind_int64(st, 3, id);
    return done(c, st, e, "updating an image");
}

int64_t cat_copy(catalogue *c, int64_t from_id, const cat_file *f, ierr *e)
{
    cat_image src;
    description ds;
    if (cat_image_info(c, from_id, &src, e) != 0) return -1;
    if (cat_get(c, from_id, &ds, e) != 0) return -1;
    /* The copy has the same pixels, so the same metadata as its source. */
    img_meta m;
    memset(&m, 0, sizeof m);
    m.orig_w = src.width;
    m.orig_h = src.height;
    m.orientation = 1;
    snprintf(m.format, sizeof m.format, "%s", src.format);
    snprintf(m.taken_at, sizeof m.taken_at, "%s", src.taken_at);
    snprintf(m.camera, sizeof m.camera, "%s", src.camera);
    m.has_gps = src.has_gps;
    m.lat = src.lat;
    m.lon = src.lon;
    cat_file g = *f;
    g.meta = &m;
    img_fp fp;   /* same pixels, same fingerprint */
    if (!g.fp && cat_get_fingerprint(c, from_id, &fp, e) == 1) g.fp = &fp;
    if (!g.describer) g.describer = src.describer;
    int64_t id = cat_put(c, &g, &ds, e);
    description_free(&ds);
    return id;
}

/* ---- reading ------------------------------------------------------------ */

int cat_image_info(catalogue *c, int64_t id, cat_image *out, ierr *e)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = prep(c,
        "SELECT id, path, size, mtime_ns, hash, width, height, format, taken_at, camera,"
        " gps_lat, gps_lon, indexed_at, describer FROM images WHERE id=?", e);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        err_set(e, "%s: no image with id %lld", c->path, (long long)id);
        return -1;
    }
    out->id = sqlite3_column_int64(st, 0);
    cat_copy_col(st, 1, out->path, sizeof out->path);
    out->size = sqlite3_column_int64(st, 2);
    out->mtime_ns = sqlite3_column_int64(st, 3);
    cat_copy_col(st, 4, out->hash, sizeof out->hash);
    out->width = sqlite3_column_int(st, 5);
    out->height = sqlite3_column_int(st, 6);
    cat_copy_col(st, 7, out->format, sizeof out->format);
    cat_copy_col(st, 8, out->taken_at, sizeof out->taken_at);
    cat_copy_col(st, 9, out->camera, sizeof out->camera);
    if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
        out->has_gps = 1;
        out->lat = sqlite3_column_double(st, 10);
        out->lon = sqlite3_column_double(st, 11);
    }
    cat_copy_col(st, 12, out->indexed_at, sizeof out->indexed_at);
    cat_copy_col(st, 13, out->describer, sizeof out->describer);
    sqlite3_finalize(st);
    return 0;
}

static int count_rows(catalogue *c, const char *table, int64_t id, ierr *e)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE image_id=?", table);
    sqlite3_stmt *st = prep(c, sql, e);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, id);
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return n;
}

static float *blob_floats(sqlite3_stmt *st, int col, int dim)
{
    const void *b = sqlite3_column_blob(st, col);
    int bytes = sqlite3_column_bytes(st, col);
    if (!b || dim <= 0) return NULL;
    float *v = xmalloc((size_t)dim * sizeof *v);
    if (cat_vec_decode(b, bytes, dim, v) != 0) {
        free(v);
        return NULL;
    }
    return v;
}

/* The joint model's id from the stages string ("... joint:flickr8k-joint@1a2b3c4d ..."). */
static void stages_joint(const char *stages, char *out, size_t n)
{
    out[0] = 0;
    const char *p = strstr(stages ? stages : "", "joint:");
    if (!p || (p != stages && p[-1] != ' ')) return;
    p += 6;
    size_t l = strcspn(p, " ");
    if (l >= n) l = n - 1;
    memcpy(out, p, l);
    out[l] = 0;
}

static int get_locked(catalogue *c, int64_t id, description *out, ierr *e)
{
    sqlite3_stmt *st = prep(c,
        "SELECT width, height, caption, clip_caption, scene, brightness, stages"
        " FROM images WHERE id=?", e);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        err_set(e, "%s: no image with id %lld", c->path, (long long)id);
        return -1;
    }
    out->width = sqlite3_column_int(st, 0);
    out->height = sqlite3_column_int(st, 1);
    cat_copy_col(st, 2, out->caption, sizeof out->caption);
    cat_copy_col(st, 3, out->clip_caption, sizeof out->clip_caption);
    cat_copy_col(st, 4, out->scene, sizeof out->scene);
    out->brightness = (float)sqlite3_column_double(st, 5);
    cat_copy_col(st, 6, out->stages, sizeof out->stages);
    sqlite3_finalize(st);

    int n = count_rows(c, "regions", id, e);
    if (n < 0) return -1;
    if (regstore_get(c->db, c->path, id, n, out, e) != 0) return -1;

    if ((n = count_rows(c, "relations", id, e)) < 0) return -1;
    out->relations = n ? xcalloc((size_t)n, sizeof(relation)) : NULL;
    if (!(st = prep(c, "SELECT a, b, rel, weight FROM relations WHERE image_id=? ORDER BY rowid", e)))
        return -1;
    sqlite3_bind_int64(st, 1, id);
    while (out->nrelations < n && sqlite3_step(st) == SQLITE_ROW) {
        relation *r = &out->relations[out->nrelations++];
        r->a = sqlite3_column_int(st, 0);
        r->b = sqlite3_column_int(st, 1);
        cat_copy_col(st, 2, r->rel, sizeof r->rel);
        r->weight = (float)sqlite3_column_double(st, 3);
    }
    sqlite3_finalize(st);

    if ((n = count_rows(c, "ocr_words", id, e)) < 0) return -1;
    out->words = n ? xcalloc((size_t)n, sizeof(ocr_word)) : NULL;
    if (!(st = prep(c, "SELECT text, conf, x0, y0, x1, y1 FROM ocr_words WHERE image_id=? ORDER BY rowid", e)))
        return -1;
    sqlite3_bind_int64(st, 1, id);
    while (out->nwords < n && sqlite3_step(st) == SQLITE_ROW) {
        ocr_word *w = &out->words[out->nwords++];
        cat_copy_col(st, 0, w->text, sizeof w->text);
        w->conf = (float)sqlite3_column_double(st, 1);
        w->x0 = (float)sqlite3_column_double(st, 2);
        w->y0 = (float)sqlite3_column_double(st, 3);
        w->x1 = (float)sqlite3_column_double(st, 4);
        w->y1 = (float)sqlite3_column_double(st, 5);
    }
    sqlite3_finalize(st);

    if ((n = count_rows(c, "tags", id, e)) < 0) return -1;
    out->tags = n ? xcalloc((size_t)n, sizeof(desc_tag)) : NULL;
    if (!(st = prep(c, "SELECT region, grp, label, score FROM tags WHERE image_id=? ORDER BY rowid", e)))
        return -1;
    sqlite3_bind_int64(st, 1, id);
    while (out->ntags < n && sqlite3_step(st) == SQLITE_ROW) {
        desc_tag *t = &out->tags[out->ntags++];
        t->region = sqlite3_column_int(st, 0);
        cat_copy_col(st, 1, t->group, sizeof t->group);
        cat_copy_col(st, 2, t->label, sizeof t->label);
        t->score = (float)sqlite3_column_double(st, 3);
    }
    sqlite3_finalize(st);

    if (!(st = prep(c, "SELECT region_idx, model, dim, vec FROM embeddings WHERE image_id=?"
                       " ORDER BY region_idx", e)))
        return -1;
    sqlite3_bind_int64(st, 1, id);
    char jm[48];
    stages_joint(out->stages, jm, sizeof jm);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int ri = sqlite3_column_int(st, 0), dim = sqlite3_column_int(st, 2);
        float *v = blob_floats(st, 3, dim);
        if (!v) continue;
        const char *model = (const char *)sqlite3_column_text(st, 1);
        if (ri < 0 && jm[0] && model && !strcmp(model, jm) && !out->joint) {
            out->joint = v;
            out->joint_dim = dim;
            snprintf(out->joint_model, sizeof out->joint_model, "%s", jm);
        } else if (ri < 0 && !out->embedding) {
            out->embedding = v;
            out->emb_dim = dim;
            cat_copy_col(st, 1, out->emb_model, sizeof out->emb_model);
        } else if (ri >= 0 && ri < out->nregions && !out->regions[ri].embedding) {
            out->regions[ri].embedding = v;
            out->regions[ri].emb_dim = dim;
            if (!out->emb_model[0]) cat_copy_col(st, 1, out->emb_model, sizeof out->emb_model);
        } else {
            free(v);
        }
    }
    sqlite3_finalize(st);
    return featstore_get(c->db, c->path, id, out, e);
}

int cat_get(catalogue *c, int64_t id, description *out, ierr *e)
{
    memset(out, 0, sizeof *out);
    /* One read transaction (a savepoint, so it also nests inside a caller's
     * transaction): the description comes from a single commit even
     * while an indexer rewrites it. */
    if (exec(c, "SAVEPOINT cat_get", e) != 0) return -1;
    int rc = get_locked(c, id, out, e);
    sqlite3_exec(c->db, "RELEASE cat_get", NULL, NULL, NULL);
    if (rc != 0) description_free(out);
    return rc;
}

int64_t cat_lookup(catalogue *c, const char *path_or_id)
{
    int64_t id = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, "SELECT id FROM images WHERE path=?", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, path_or_id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (id) return id;

    const char *p = path_or_id;
    if (!*p) return 0;
    for (; *p; p++)
        if (*p < '0' || *p > '9') return 0;
    errno = 0;
    long long want = strtoll(path_or_id, NULL, 10);
    if (errno || want <= 0) return 0;
    if (sqlite3_prepare_v2(c->db, "SELECT id FROM images WHERE id=?", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_int64(st, 1, want);
    if (sqlite3_step(st) == SQLITE_ROW) id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return id;
}
