/* test_catalogue.c — the SQLite catalogue: schema, migrations, storing and
 * loading descriptions, errors, cascades, concurrent readers. */
#include "test.h"

#include <sqlite3.h>

#include "index/catalogue.h"
#include "index/tokens.h"

/* ---- helpers --------------------------------------------------------- */

static char dbpath[700];

static void fresh_db(const char *tag)
{
    const char *dir = test_tmpdir(tag);
    snprintf(dbpath, sizeof dbpath, "%s/cat.db", dir);
}

static long long scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long v = -12345;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return v;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static char *text1(sqlite3 *db, const char *sql, char *buf, size_t n)
{
    sqlite3_stmt *st;
    buf[0] = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return buf;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return buf;
}

/* A description with a bit of everything, built by hand. */
static void sample(description *ds, const char *tag)
{
    memset(ds, 0, sizeof *ds);
    ds->width = 640;
    ds->height = 480;
    ds->nregions = 3;
    ds->regions = calloc(3, sizeof(region));
    region *r = ds->regions;
    r[0].kind = REGION_IMAGE;
    snprintf(r[0].label, sizeof r[0].label, "image");
    r[0].x1 = r[0].y1 = 1;
    r[0].area = 1;
    r[1].kind = REGION_OBJECT;
    snprintf(r[1].label, sizeof r[1].label, "%s", tag);
    r[1].score = 0.875f;
    r[1].x0 = 0.125f; r[1].y0 = 0.25f; r[1].x1 = 0.5f; r[1].y1 = 0.75f;
    r[1].cx = 0.3125f; r[1].cy = 0.5f; r[1].area = 0.1875f;
    r[1].size = SIZE_MEDIUM;
    snprintf(r[1].position, sizeof r[1].position, "middle left");
    r[1].ncolours = 2;
    snprintf(r[1].colours[0].name, sizeof r[1].colours[0].name, "red");
    r[1].colours[0].share = 0.625f;
    snprintf(r[1].colours[1].name, sizeof r[1].colours[1].name, "white");
    r[1].colours[1].share = 0.25f;
    r[1].mask_len = 5;
    r[1].mask_rle = malloc(5);
    memcpy(r[1].mask_rle, "\x01\x02\x00\x03\xff", 5);
    r[1].emb_dim = 4;
    r[1].embedding = malloc(4 * sizeof(float));
    for (int i = 0; i < 4; i++) r[1].embedding[i] = 0.5f * (float)i - 1;
    snprintf(r[1].caption, sizeof r[1].caption, "something on a lawn");
    r[2].kind = REGION_FACE;
    snprintf(r[2].label, sizeof r[2].label, "face");
    snprintf(r[2].attrs, sizeof r[2].attrs, "age=30 gender=female");
    r[2].score = 0.5f;
    ds->nrelations = 1;
    ds->relations = calloc(1, sizeof(relation));
    ds->relations[0].a = 1;
    ds->relations[0].b = 2;
    snprintf(ds->relations[0].rel, sizeof ds->relations[0].rel, "left_of");
    ds->relations[0].weight = 0.75f;
    ds->nwords = 2;
    ds->words = calloc(2, sizeof(ocr_word));
    snprintf(ds->words[0].text, sizeof ds->words[0].text, "STOP");
    ds->words[0].conf = 0.9f;
    ds->words[0].x1 = 0.5f;
    snprintf(ds->words[1].text, sizeof ds->words[1].text, "ahead");
    snprintf(ds->caption, sizeof ds->caption, "a %s to the left of a face", tag);
    snprintf(ds->clip_caption, sizeof ds->clip_caption, "a photo of a %s", tag);
    snprintf(ds->scene, sizeof ds->scene, "bright red");
    ds->brightness = 0.625f;
    ds->emb_dim = 3;
    ds->embedding = malloc(3 * sizeof(float));
    ds->embedding[0] = 1; ds->embedding[1] = -2; ds->embedding[2] = 0.25f;
    snprintf(ds->emb_model, sizeof ds->emb_model, "clip-test");
    snprintf(ds->stages, sizeof ds->stages, "objects:test ocr:test");
    ds->ntags = 2;
    ds->tags = calloc(2, sizeof(desc_tag));
    snprintf(ds->tags[0].label, sizeof ds->tags[0].label, "beach");
    snprintf(ds->tags[0].group, sizeof ds->tags[0].group, "scene");
    ds->tags[0].score = 0.5f;
    snprintf(ds->tags[1].label, sizeof ds->tags[1].label, "golden retriever");
    snprintf(ds->tags[1].group, sizeof ds->tags[1].group, "object");
    ds->tags[1].region = 1;
    ds->tags[1].score = 0.25f;
}

static int64_t put_sample(catalogue *c, const char *path, const char *tag, const char *hash)
{
    description ds;
    sample(&ds, tag);
    img_meta m;
    memset(&m, 0, sizeof m);
    m.orig_w = 640;
    m.orig_h = 480;
    snprintf(m.format, sizeof m.format, "jpeg");
    snprintf(m.camera, sizeof m.camera, "Canon EOS");
    snprintf(m.taken_at, sizeof m.taken_at, "2020-01-02 03:04:05");
    m.has_gps = 1;
    m.lat = 48.5;
    m.lon = -2.25;
    cat_file f = {.path = path, .size = 1234, .mtime_ns = 99, .hash = hash, .meta = &m,
                  .describer = "test-describer-1"};
    ierr e = {0};
    int64_t id = cat_put(c, &f, &ds, &e);
    if (id <= 0) fprintf(stderr, "cat_put: %s\n", e.msg);
    description_free(&ds);
    return id;
}

/* ---- tests ----------------------------------------------------------- */

TEST(open_creates_current_schema_in_wal)
{
    fresh_db("cat-open");
    ierr e = {0};
    catalogue *c = cat_open(dbpath, 0, &e);
    CHECKF(c, "%s", e.msg);
    sqlite3 *db = cat_db(c);
    CHECK_EQ_INT(scalar(db, "PRAGMA user_version"), cat_schema_version());
    CHECK(cat_schema_version() >= 3);
    char buf[64];
    CHECK_STR(text1(db, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    CHECK_EQ_INT(scalar(db, "PRAGMA foreign_keys"), 1);
    const char *tables[] = {"images", "regions", "relations", "ocr_words", "embeddings", "errors", "tags",
                            "tok_terms", "tok_fts"};
    for (int i = 0; i < 9; i++) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='%s'",
                 tables[i]);
        CHECKF(scalar(db, sql) == 1, "table %s missing", tables[i]);
    }
    cat_close(c);
    /* Opening again is a no-op migration. */
    c = cat_open(dbpath, 0, &e);
    CHECKF(c, "%s", e.msg);
    CHECK_EQ_INT(scalar(cat_db(c), "PRAGMA user_version"), cat_schema_version());
    cat_close(c);
}

TEST(put_get_round_trip)
{
    fresh_db("cat-rt");
    ierr e = {0};
    catalogue *c = cat_open(dbpath, 0, &e);
    CHECKF(c, "%s", e.msg);
    int64_t id = put_sample(c, "/photos/a.jpg", "dog", "aa11");
    CHECK(id > 0);
    description d;
    CHECKF(cat_get(c, id, &d, &e) == 0, "%s", e.msg);
    CHECK_EQ_INT(d.width, 640);
    CHECK_EQ_INT(d.height, 480);
    CHECK_EQ_INT(d.nregions, 3);
    CHECK_STR(d.regions[0].label, "image");
    CHECK_STR(d.regions[1].label, "dog");
    CHECK_EQ_INT(d.regions[1].kind, REGION_OBJECT);
    CHECK_NEAR(d.regions[1].score, 0.875, 1e-6);
    CHECK_NEAR(d.regions[1].x0, 0.125, 1e-6);
    CHECK_NEAR(d.regions[1].y1, 0.75, 1e-6);
    CHECK_NEAR(d.regions[1].area, 0.1875, 1e-6);
    CHECK_EQ_INT(d.regions[1].size, SIZE_MEDIUM);
    CHECK_STR(d.regions[1].position, "middle left");
    CHECK_EQ_INT(d.regions[1].ncolours, 2);
    CHECK_STR(d.regions[1].colours[0].name, "red");
    CHECK_NEAR(d.regions[1].colours[0].share, 0.625, 1e-3);
    CHECK_STR(d.regions[1].colours[1].name, "white");
    CHECK_EQ_INT(d.regions[1].mask_len, 5);
    CHECK(memcmp(d.regions[1].mask_rle, "\x01\x02\x00\x03\xff", 5) == 0);
    CHECK_EQ_INT(d.regions[1].emb_dim, 4);
    CHECK_NEAR(d.regions[1].embedding[3], 0.5, 1e-7);
    CHECK_STR(d.regions[1].caption, "something on a lawn");
    CHECK_STR(d.regions[2].caption, "");
    CHECK_STR(d.regions[2].attrs, "age=30 gender=female");
    CHECK(d.regions[2].embedding == NULL);
    CHECK_EQ_INT(d.nrelations, 1);
    CHECK_STR(d.relations[0].rel, "left_of");
    CHECK_EQ_INT(d.relations[0].a, 1);
    CHECK_EQ_INT(d.relations[0].b, 2);
    CHECK_EQ_INT(d.nwords, 2);
    CHECK_STR(d.words[0].text, "STOP");
    CHECK_STR(d.words[1].text, "ahead");
    CHECK_STR(d.caption, "a dog to the left of a face");
    CHECK_STR(d.clip_caption, "a photo of a dog");
    CHECK_STR(d.scene, "bright red");
    CHECK_STR(d.stages, "objects:test ocr:test");
    CHECK_NEAR(d.brightness, 0.625, 1e-6);
    CHECK_EQ_INT(d.emb_dim, 3);
    CHECK_NEAR(d.embedding[1], -2, 0);
    CHECK_STR(d.emb_model, "clip-test");
    CHECK_EQ_INT(d.ntags, 2);
    CHECK_STR(d.tags[1].label, "golden retriever");
    CHECK_STR(d.tags[1].group, "object");
    CHECK_EQ_INT(d.tags[1].region, 1);
    CHECK_NEAR(d.tags[0].score, 0.5, 1e-6);
    description_free(&d);

    cat_image im;
    CHECKF(cat_image_info(c, id, &im, &e) == 0, "%s", e.msg);
    CHECK_STR(im.path, "/photos/a.jpg");
    CHECK_EQ_INT(im.size, 1234);
    CHECK_EQ_INT(im.mtime_ns, 99);
    CHECK_STR(im.hash, "aa11");
    CHECK_STR(im.format, "jpeg");
    CHECK_STR(im.camera, "Canon EOS");
    CHECK_STR(im.taken_at, "2020-01-02 03:04:05");
    CHECK(im.has_gps);
    CHECK_NEAR(im.lat, 48.5, 1e-9);
    CHECK_NEAR(im.lon, -2.25, 1e-9);
    CHECK_STR(im.describer, "test-describer-1");
    CHECK(strlen(im.indexed_at) == 19);
    cat_close(c);
}

TEST(put_replaces_and_keeps_id)
{
    fresh_db("cat-replace");
    ierr e = {0};
    catalogue *c = cat_open(dbpath, 0, &e);
    CHECKF(c, "%s", e.msg);
    int64_t a = put_sample(c, "/p/a.jpg", "dog", "h1");
    int64_t b = put_sample(c, "/p/b.jpg", "cat", "h2");
    int64_t a2 = put_sample(c, "/p/a.jpg", "horse", "h3");
    CHECK(a > 0 && b > 0 && b != a);
    CHECK_EQ_INT(a2, a);
    sqlite3 *db = cat_db(c);
    CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM images"), 2);
    CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM regions"), 6);
    CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM relations"), 2);
    CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM ocr_words"), 4);
    CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM embeddings"), 4);
    CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM tags"), 4);
    /* Tokens were replaced, not added to: "dog" is gone from image a. */
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM tok_terms WHERE image_id=%lld AND term='dog'", (long long)a);
    CHECK_EQ_INT(scalar(db, sql), 0);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM tok_terms WHERE image_id=%lld AND term='horse'", (long long)a);
    CHECK(scalar(db, sql) > 0);
    description d;
    CHECK(cat_get(c, a, &d, &e) == 0);
    CHECK_STR(d.regions[1].label, "horse");
    description_free(&d);
    cat_close(c);
}

TEST(remove_cascades_to_everything)
{
    fresh_db("cat-cascade");
    ierr e = {0};
    catalogue *c = cat_open(dbpath, 0, &e);
    CHECKF(c, "%s", e.msg);
    int64_t a = put_sample(c, "/p/a.jpg", "dog", "h1");
    int64_t b = put_sample(c, "/p/b.jpg", "cat", "h2");
    sqlite3 *db = cat_db(c);
    char sql[200];
    /* The token tables are filled in the same transaction ... */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM tok_terms WHERE image_id=%lld", (long long)a);
    CHECK(scalar(db, sql) > 0);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM tok_fts WHERE rowid=%lld", (long long)a);
    CHECK_EQ_INT(scalar(db, sql), 1);
    CHECK(cat_remove(c, a, &e) == 0);
    /* ... and emptied with the image. */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM tok_terms WHERE image_id=%lld", (long long)a);
    CHECK_EQ_INT(scalar(db, sql), 0);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM tok_fts WHERE rowid=%lld", (long long)a);
    CHECK_EQ_INT(scalar(db, sql), 0);
    const char *t[] = {"regions", "relations", "ocr_words", "embeddings", "tags"};
    for (int i = 0; i < 5; i++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE image_id=%lld", t[i], (long long)a);
        CHECKF(scalar(db, sql) == 0, "%s rows of a survive", t[i]);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE image_id=%lld", t[i], (long long)b);
        CHECKF(scalar(db, sql) > 0, "%s rows of b lost", t[i]);
    }
    /* A raw DELETE (another tool, or a future code path) cascades too. */
    snprintf(sql, sizeof sql, "DELETE FROM images WHERE id=%lld", (long long)b);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM regions"), 0);
    CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM embeddings"), 0);
    description d;
    CHECK(cat_get(c, a, &d, &e) == -1);
    CHECK(strstr(e.msg, "no image"));
    cat_close(c);
}

TEST(errors_recorded_and_cleared)
{
    fresh_db("cat-errors");
    ierr e = {0};
    catalogue *c = cat_open(dbpath, 0, &e);
    CHECKF(c, "%s", e.msg);
    sqlite3 *db = cat_db(c);
    CHECK(cat_record_error(c, "/p/bad.jpg", "bad.jpg: truncated JPEG data", &e) == 0);
    CHECK(cat_record_error_file(c, "/p/bad.jpg", "bad.jpg: empty file", 0, 77, &e) == 0);
    CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM errors"), 1);
    char buf[200];
    CHECK_STR(text1(db, "SELECT reason FROM errors", buf, sizeof buf), "bad.jpg: empty file");
    CHECK_EQ_INT(scalar(db, "SELECT mtime_ns FROM errors"), 77);
    /* The file later indexes fine: the error goes. */
    CHECK(put_sample(c, "/p/bad.jpg", "dog", "h") > 0);
    CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM errors"), 0);
    /* An indexed file that turns bad loses its description. */
    CHECK(cat_record_error(c, "/p/bad.jpg", "bad.jpg: not an image", &e) == 0);
    CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM images"), 0);
    CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM regions"), 0);
    CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM errors"), 1);
    cat_close(c);
}

TEST(lookup_by_path_or_id)
{
    fresh_db("cat-lookup");
    ierr e = {0};
    catalogue *c = cat_open(dbpath, 0, &e);
    CHECKF(c, "%s", e.msg);
    int64_t a = put_sample(c, "/p/a.jpg", "dog", "h1");
    int64_t b = put_sample(c, "/p/12", "cat", "h2");
    CHECK_EQ_INT(cat_lookup(c, "/p/a.jpg"), a);
    CHECK_EQ_INT(cat_lookup(c, "/p/12"), b);
    char idtxt[32];
    snprintf(idtxt, sizeof idtxt, "%lld", (long long)b);
    CHECK_EQ_INT(cat_lookup(c, idtxt), b);
    CHECK_EQ_INT(cat_lookup(c, "/p/missing.jpg"), 0);
    CHECK_EQ_INT(cat_lookup(c, "999"), 0);
    CHECK_EQ_INT(cat_lookup(c, "1x"), 0);
    CHECK_EQ_INT(cat_lookup(c, ""), 0);
    CHECK_EQ_INT(cat_lookup(c, "-1"), 0);
    cat_close(c);
}

TEST(copy_reuses_description_and_metadata)
{
    fresh_db("cat-copy");
    ierr e = {0};
    catalogue *c = cat_open(dbpath, 0, &e);
    CHECKF(c, "%s", e.msg);
    int64_t a = put_sample(c, "/p/a.jpg", "giraffe", "hh");
    cat_file f = {.path = "/q/copy.jpg", .size = 1234, .mtime_ns = 5, .hash = "hh"};
    int64_t b = cat_copy(c, a, &f, &e);
    CHECKF(b > 0 && b != a, "%s", e.msg);
    description d;
    CHECK(cat_get(c, b, &d, &e) == 0);
    CHECK_EQ_INT(d.nregions, 3);
    CHECK_STR(d.regions[1].label, "giraffe");
    CHECK_EQ_INT(d.regions[1].emb_dim, 4);
    description_free(&d);
    cat_image im;
    CHECK(cat_image_info(c, b, &im, &e) == 0);
    CHECK_STR(im.camera, "Canon EOS");
    CHECK_STR(im.describer, "test-describer-1");
    CHECK_EQ_INT(im.mtime_ns, 5);
    CHECK_EQ_INT(im.width, 640);
    CHECK(cat_touch(c, b, 4321, 6, &e) == 0);
    CHECK(cat_image_info(c, b, &im, &e) == 0);
    CHECK_EQ_INT(im.size, 4321);
    CHECK_EQ_INT(im.mtime_ns, 6);
    cat_close(c);
}

/* Version 1 as it shipped, written out here independently of schema.c:
 * the migration must bring such a file forward with its data intact. */
static const char *v1_ddl =
    "CREATE TABLE images (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, size INTEGER NOT NULL,"
    " mtime_ns INTEGER NOT NULL, hash TEXT NOT NULL, width INTEGER, height INTEGER, format TEXT,"
    " taken_at TEXT, camera TEXT, gps_lat REAL, gps_lon REAL, indexed_at TEXT NOT NULL,"
    " describer TEXT NOT NULL, caption TEXT, clip_caption TEXT, scene TEXT, brightness REAL);"
    "CREATE TABLE regions (id INTEGER PRIMARY KEY,"
    " image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    " idx INTEGER NOT NULL, kind INTEGER NOT NULL, label TEXT NOT NULL, score REAL,"
    " x0 REAL, y0 REAL, x1 REAL, y1 REAL, cx REAL, cy REAL, area REAL,"
    " size INTEGER, position TEXT, colours TEXT, attrs TEXT, mask BLOB, UNIQUE(image_id, idx));"
    "CREATE TABLE relations (image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    " a INTEGER NOT NULL, b INTEGER NOT NULL, rel TEXT NOT NULL, weight REAL);"
    "CREATE TABLE ocr_words (image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    " text TEXT NOT NULL, conf REAL, x0 REAL, y0 REAL, x1 REAL, y1 REAL);"
    "CREATE TABLE embeddings (image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    " region_idx INTEGER NOT NULL, model TEXT NOT NULL, dim INTEGER NOT NULL, vec BLOB NOT NULL,"
    " PRIMARY KEY(image_id, region_idx, model));"
    "CREATE TABLE errors (path TEXT PRIMARY KEY, reason TEXT NOT NULL, at TEXT NOT NULL);"
    "INSERT INTO images VALUES(7, '/old/dog.jpg', 10, 20, 'abc', 100, 50, 'png', NULL, NULL, NULL,"
    " NULL, '2024-01-01 00:00:00', 'v0', 'a dog', NULL, NULL, 0.5);"
    "INSERT INTO regions(image_id, idx, kind, label, score) VALUES(7, 0, 0, 'image', 1), (7, 1, 1, 'dog', 0.9);"
    "INSERT INTO errors VALUES('/old/bad.jpg', 'bad.jpg: empty file', '2024-01-01 00:00:00');"
    "PRAGMA user_version=1;";

TEST(migrates_version_1_forward)
{
    fresh_db("cat-migrate");
    sqlite3 *raw;
    CHECK(sqlite3_open(dbpath, &raw) == SQLITE_OK);
    CHECK(sqlite3_exec(raw, v1_ddl, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(raw);

    ierr e = {0};
    /* A reader refuses an old file rather than misreading it. */
    CHECK(cat_open(dbpath, 1, &e) == NULL);
    CHECKF(strstr(e.msg, "schema 1"), "%s", e.msg);
    err_clear(&e);

    catalogue *c = cat_open(dbpath, 0, &e);
    CHECKF(c, "%s", e.msg);
    sqlite3 *db = cat_db(c);
    CHECK_EQ_INT(scalar(db, "PRAGMA user_version"), cat_schema_version());
    CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM images WHERE id=7 AND path='/old/dog.jpg'"), 1);
    char buf[64];
    CHECK_STR(text1(db, "SELECT stages FROM images WHERE id=7", buf, sizeof buf), "");
    CHECK_EQ_INT(scalar(db, "SELECT size FROM errors WHERE path='/old/bad.jpg'"), -1);
    CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM sqlite_master WHERE name='images_hash'"), 1);
    CHECK_STR(text1(db, "PRAGMA integrity_check", buf, sizeof buf), "ok");
    /* The migrated row reads back as a description. */
    description d;
    CHECKF(cat_get(c, 7, &d, &e) == 0, "%s", e.msg);
    CHECK_EQ_INT(d.nregions, 2);
    CHECK_STR(d.regions[1].label, "dog");
    CHECK_STR(d.caption, "a dog");
    description_free(&d);
    /* And new writes work on the migrated file. */
    CHECK(put_sample(c, "/old/cat.jpg", "cat", "h") > 0);
    CHECK(cat_remove(c, 7, &e) == 0);
    CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM regions WHERE image_id=7"), 0);
    cat_close(c);
}

TEST(refuses_newer_schema_and_missing_readonly)
{
    fresh_db("cat-newer");
    sqlite3 *raw;
    CHECK(sqlite3_open(dbpath, &raw) == SQLITE_OK);
    CHECK(sqlite3_exec(raw, "PRAGMA user_version=99", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(raw);
    ierr e = {0};
    CHECK(cat_open(dbpath, 0, &e) == NULL);
    CHECKF(strstr(e.msg, "newer") && strstr(e.msg, dbpath), "%s", e.msg);

    char missing[800];
    snprintf(missing, sizeof missing, "%s.nothere", dbpath);
    err_clear(&e);
    CHECK(cat_open(missing, 1, &e) == NULL);
    CHECKF(strstr(e.msg, missing), "%s", e.msg);

    /* Not a database at all. */
    FILE *f = fopen(missing, "w");
    CHECK(f);
    fputs("this is not sqlite, just some text that is long enough to look like a header......", f);
    fclose(f);
    err_clear(&e);
    CHECK(cat_open(missing, 0, &e) == NULL);
    CHECKF(strstr(e.msg, missing), "%s", e.msg);
}

TEST(readonly_cannot_write)
{
    fresh_db("cat-ro");
    ierr e = {0};
    catalogue *c = cat_open(dbpath, 0, &e);
    CHECKF(c, "%s", e.msg);
    int64_t a = put_sample(c, "/p/a.jpg", "dog", "h1");
    cat_close(c);
    c = cat_open(dbpath, 1, &e);
    CHECKF(c, "%s", e.msg);
    CHECK_EQ_INT(cat_lookup(c, "/p/a.jpg"), a);
    CHECK(put_sample(c, "/p/b.jpg", "cat", "h2") == -1);
    cat_close(c);
}

TEST(reader_not_blocked_by_writer)
{
    fresh_db("cat-wal");
    ierr e = {0};
    catalogue *w = cat_open(dbpath, 0, &e);
    CHECKF(w, "%s", e.msg);
    put_sample(w, "/p/0.jpg", "dog", "h0");
    catalogue *r = cat_open(dbpath, 1, &e);
    CHECKF(r, "%s", e.msg);
    sqlite3 *rdb = cat_db(r);
    /* A long read transaction in progress ... */
    CHECK(sqlite3_exec(rdb, "BEGIN; SELECT count(*) FROM images;", NULL, NULL, NULL) == SQLITE_OK);
    double t0 = now_seconds();
    /* ... does not stop the writer ... */
    for (int i = 1; i <= 20; i++) {
        char p[64];
        snprintf(p, sizeof p, "/p/%d.jpg", i);
        CHECK(put_sample(w, p, "cat", "h") > 0);
    }
    CHECK(now_seconds() - t0 < 5);
    /* ... and sees its snapshot, then the new rows once it ends. */
    CHECK_EQ_INT(scalar(rdb, "SELECT count(*) FROM images"), 1);
    CHECK(sqlite3_exec(rdb, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    CHECK_EQ_INT(scalar(rdb, "SELECT count(*) FROM images"), 21);
    /* A writer mid-transaction does not block a reader either. */
    CHECK(sqlite3_exec(cat_db(w), "BEGIN IMMEDIATE; DELETE FROM images;", NULL, NULL, NULL) == SQLITE_OK);
    t0 = now_seconds();
    CHECK_EQ_INT(scalar(rdb, "SELECT count(*) FROM images"), 21);
    CHECK(now_seconds() - t0 < 1);
    CHECK(sqlite3_exec(cat_db(w), "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
    cat_close(r);
    cat_close(w);
}

int main(void)
{
    RUN(open_creates_current_schema_in_wal);
    RUN(put_get_round_trip);
    RUN(put_replaces_and_keeps_id);
    RUN(remove_cascades_to_everything);
    RUN(errors_recorded_and_cleared);
    RUN(lookup_by_path_or_id);
    RUN(copy_reuses_description_and_metadata);
    RUN(migrates_version_1_forward);
    RUN(refuses_newer_schema_and_missing_readonly);
    RUN(readonly_cannot_write);
    RUN(reader_not_blocked_by_writer);
    return test_summary();
}
