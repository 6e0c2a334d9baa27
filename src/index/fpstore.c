/* fpstore.c — see fpstore.h. */
#include "index/fpstore.h"

int fpstore_put(sqlite3 *db, const char *path, int64_t id, const img_fp *fp, ierr *e)
{
    unsigned char blob[FP_BYTES];
    fp_pack(fp, blob);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO fingerprints(image_id, version, fp) VALUES(?,?,?)", -1, &st,
                           NULL) != SQLITE_OK) {
        err_set(e, "%s: storing a fingerprint: %s", path, sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, FP_VERSION);
    sqlite3_bind_blob(st, 3, blob, FP_BYTES, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        err_set(e, "%s: storing a fingerprint: %s", path, sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

int fpstore_get(sqlite3 *db, const char *path, int64_t id, img_fp *out, ierr *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT fp FROM fingerprints WHERE image_id=? AND version=?", -1, &st, NULL) !=
        SQLITE_OK) {
        err_set(e, "%s: reading a fingerprint: %s", path, sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, FP_VERSION);
    int found = sqlite3_step(st) == SQLITE_ROW &&
                fp_unpack(sqlite3_column_blob(st, 0), sqlite3_column_bytes(st, 0), out) == 0;
    sqlite3_finalize(st);
    return found;
}
