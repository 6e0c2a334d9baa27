/* schema.c — the catalogue's DDL and its forward migrations.
 *
 * The schema version lives in PRAGMA user_version.  migrations[i] takes a
 * database from version i to version i+1; a fresh database simply runs all
 * of them, so every step is exercised on every new database and an old
 * file is brought forward by exactly the same code.  Never edit a step that
 * has shipped: append a new one.
 *
 * The token tables belong to src/index/tokens.c; their DDL
 * (tokens_schema_sql, written with IF NOT EXISTS) runs after the migrations
 * on every writable open.
 */
#include "index/schema.h"

#include <stdio.h>
#include <string.h>

#include "index/tokens.h"

static const char *const migrations[] = {
    /* 0 -> 1: the first catalogue. */
    "CREATE TABLE images ("
    "  id INTEGER PRIMARY KEY,"
    "  path TEXT NOT NULL UNIQUE,"
    "  size INTEGER NOT NULL,"
    "  mtime_ns INTEGER NOT NULL,"
    "  hash TEXT NOT NULL,"
    "  width INTEGER, height INTEGER, format TEXT,"
    "  taken_at TEXT, camera TEXT, gps_lat REAL, gps_lon REAL,"
    "  indexed_at TEXT NOT NULL,"
    "  describer TEXT NOT NULL,"
    "  caption TEXT, clip_caption TEXT, scene TEXT, brightness REAL);"
    "CREATE TABLE regions ("
    "  id INTEGER PRIMARY KEY,"
    "  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  idx INTEGER NOT NULL, kind INTEGER NOT NULL, label TEXT NOT NULL, score REAL,"
    "  x0 REAL, y0 REAL, x1 REAL, y1 REAL, cx REAL, cy REAL, area REAL,"
    "  size INTEGER, position TEXT, colours TEXT, attrs TEXT, mask BLOB,"
    "  UNIQUE(image_id, idx));"
    "CREATE INDEX regions_label ON regions(label);"
    "CREATE TABLE relations ("
    "  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  a INTEGER NOT NULL, b INTEGER NOT NULL, rel TEXT NOT NULL, weight REAL);"
    "CREATE INDEX relations_image ON relations(image_id);"
    "CREATE TABLE ocr_words ("
    "  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  text TEXT NOT NULL, conf REAL, x0 REAL, y0 REAL, x1 REAL, y1 REAL);"
    "CREATE INDEX ocr_words_image ON ocr_words(image_id);"
    "CREATE TABLE embeddings ("
    "  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  region_idx INTEGER NOT NULL, model TEXT NOT NULL, dim INTEGER NOT NULL, vec BLOB NOT NULL,"
    "  PRIMARY KEY(image_id, region_idx, model));"
    "CREATE TABLE errors ("
    "  path TEXT PRIMARY KEY, reason TEXT NOT NULL, at TEXT NOT NULL);",

    /* 1 -> 2: remember which stages ran; keep a broken file's size and mtime
     * so an unchanged broken file is not decoded again on every run; find
     * copies by content hash without a table scan. */
    "ALTER TABLE images ADD COLUMN stages TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE errors ADD COLUMN size INTEGER NOT NULL DEFAULT -1;"
    "ALTER TABLE errors ADD COLUMN mtime_ns INTEGER NOT NULL DEFAULT -1;"
    "CREATE INDEX images_hash ON images(hash);",

    /* 2 -> 3: CLIP's zero-shot labels per region (description.tags). */
    "CREATE TABLE tags ("
    "  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  region INTEGER NOT NULL, grp TEXT NOT NULL, label TEXT NOT NULL, score REAL);"
    "CREATE INDEX tags_image ON tags(image_id);"
    "CREATE INDEX tags_label ON tags(label);",

    /* 3 -> 4: the image's feature vector (description.features), IEEE half
     * floats little endian; one per image. */
    "CREATE TABLE features ("
    "  image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL, dim INTEGER NOT NULL, vec BLOB NOT NULL);",

    /* 4 -> 5: one perceptual fingerprint per image
     * (image/fingerprint.h), with the FP_VERSION that computed it, for
     * `imgdex duplicates`.  Rows without one get it on the next `index`
     * without being described again. */
    "CREATE TABLE fingerprints ("
    "  image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,"
    "  version INTEGER NOT NULL, fp BLOB NOT NULL);",

    /* 5 -> 6: a region's own caption (region.caption: BLIP's caption of a
     * large SAM segment's crop).  Older rows have none (NULL). */
    "ALTER TABLE regions ADD COLUMN caption TEXT;",
};
#define NMIGRATIONS (int)(sizeof migrations / sizeof migrations[0])

int cat_schema_version(void) { return NMIGRATIONS; }

int schema_user_version(sqlite3 *db)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) return -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int exec(sqlite3 *db, const char *sql, const char *path, ierr *e)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
    err_set(e, "%s: %s", path, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return -1;
}

int schema_migrate(sqlite3 *db, const char *path, ierr *e)
{
    /* IMMEDIATE: two processes opening an old file at once must not both
     * migrate it; the second waits (busy_timeout) and then sees the new
     * version. */
    if (exec(db, "BEGIN IMMEDIATE", path, e) != 0) return -1;
    int v = schema_user_version(db);
    if (v < 0) {
        err_set(e, "%s: cannot read the schema version: %s", path, sqlite3_errmsg(db));
        goto fail;
    }
    if (v > NMIGRATIONS) {
        err_set(e, "%s: written by a newer imgdex (schema %d; this build knows up to %d)", path, v,
                NMIGRATIONS);
        goto fail;
    }
    for (; v < NMIGRATIONS; v++) {
        if (exec(db, migrations[v], path, e) != 0) {
            err_prefix(e, "migrating schema %d to %d", v, v + 1);
            goto fail;
        }
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d", v + 1);
        if (exec(db, sql, path, e) != 0) goto fail;
    }
    const char *tok = tokens_schema_sql();
    if (tok && *tok && exec(db, tok, path, e) != 0) {
        err_prefix(e, "creating the token tables");
        goto fail;
    }
    if (exec(db, "COMMIT", path, e) != 0) goto fail;
    return 0;
fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}
