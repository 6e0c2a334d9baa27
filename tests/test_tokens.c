/* test_tokens.c — the token tables: tokens_put on hand-made descriptions,
 * FTS5 round trip, term rows with their sources and weights, replacement,
 * deletion, BM25 ordering, and a clear error without the schema. */
#include "test.h"

#include "index/tokens.h"
#include "index/wordnet.h"

static sqlite3 *open_db(void)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) return NULL;
    char *msg = NULL;
    if (sqlite3_exec(db, tokens_schema_sql(), NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "schema: %s\n", msg);
        sqlite3_free(msg);
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static long long q_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else fprintf(stderr, "query failed: %s: %s\n", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return v;
}

static double q_real(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    double v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return v;
}

static region mk_region(int kind, const char *label, float score, float x0, float y0, float x1, float y1)
{
    region r;
    memset(&r, 0, sizeof r);
    r.kind = kind;
    snprintf(r.label, sizeof r.label, "%s", label);
    r.score = score;
    r.x0 = x0; r.y0 = y0; r.x1 = x1; r.y1 = y1;
    r.cx = (x0 + x1) / 2; r.cy = (y0 + y1) / 2;
    r.area = (x1 - x0) * (y1 - y0);
    return r;
}

/* A dog left of a red bicycle, a woman, the word STOP. */
static void dog_scene(description *d, region *regs, ocr_word *w)
{
    memset(d, 0, sizeof *d);
    d->width = 640; d->height = 480;
    regs[0] = mk_region(REGION_IMAGE, "image", 0, 0, 0, 1, 1);
    regs[1] = mk_region(REGION_OBJECT, "dog", 0.9f, 0.1f, 0.4f, 0.4f, 0.9f);
    regs[1].colours[0] = (colour_share){"brown", 0.6f};
    regs[1].colours[1] = (colour_share){"white", 0.3f};
    regs[1].ncolours = 2;
    regs[2] = mk_region(REGION_OBJECT, "bicycle", 0.8f, 0.5f, 0.3f, 0.9f, 0.9f);
    regs[2].colours[0] = (colour_share){"red", 0.7f};
    regs[2].ncolours = 1;
    regs[3] = mk_region(REGION_FACE, "face", 0.95f, 0.6f, 0.05f, 0.7f, 0.2f);
    snprintf(regs[3].attrs, sizeof regs[3].attrs, "age=34 gender=female emotion=happy");
    d->regions = regs; d->nregions = 4;
    memset(w, 0, sizeof *w);
    snprintf(w->text, sizeof w->text, "STOP");
    w->conf = 0.9f;
    d->words = w; d->nwords = 1;
    snprintf(d->caption, sizeof d->caption, "A brown dog to the left of a red bicycle and a woman.");
    snprintf(d->clip_caption, sizeof d->clip_caption, "dogs playing in a park");
    snprintf(d->scene, sizeof d->scene, "outdoor bright");
}

TEST(put_round_trip)
{
    sqlite3 *db = open_db();
    CHECK(db);
    description d;
    region regs[4];
    ocr_word w;
    dog_scene(&d, regs, &w);
    ierr e = {0};
    CHECKF(tokens_put(db, 7, &d, &e) == 0, "%s", e.msg);
    /* FTS: every column finds what it should */
    CHECK_EQ_INT(q_int(db, "SELECT rowid FROM tok_fts WHERE tok_fts MATCH 'labels:dog'"), 7);
    CHECK_EQ_INT(q_int(db, "SELECT rowid FROM tok_fts WHERE tok_fts MATCH 'caption:play'"), 7);
    CHECK_EQ_INT(q_int(db, "SELECT rowid FROM tok_fts WHERE tok_fts MATCH 'ocr:stop'"), 7);
    CHECK_EQ_INT(q_int(db, "SELECT rowid FROM tok_fts WHERE tok_fts MATCH 'attrs:red'"), 7);
    CHECK_EQ_INT(q_int(db, "SELECT rowid FROM tok_fts WHERE tok_fts MATCH 'attrs:happy'"), 7);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM tok_fts WHERE tok_fts MATCH 'labels:cat'"), 0);
    /* terms: label rows per region with the detector score */
    CHECK_EQ_INT(q_int(db, "SELECT region FROM tok_terms WHERE term='dog' AND source='label' AND image_id=7"), 1);
    CHECK_NEAR(q_real(db, "SELECT weight FROM tok_terms WHERE term='dog' AND source='label'"), 0.9, 1e-6);
    CHECK_EQ_INT(q_int(db, "SELECT region FROM tok_terms WHERE term='red' AND source='colour'"), 2);
    CHECK_NEAR(q_real(db, "SELECT weight FROM tok_terms WHERE term='red' AND source='colour'"), 0.7, 1e-6);
    CHECK_EQ_INT(q_int(db, "SELECT region FROM tok_terms WHERE term='woman' AND source='attr'"), 3);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM tok_terms WHERE term='stop' AND source='ocr'"), 1);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM tok_terms WHERE term='park' AND source='caption'"), 1);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM tok_terms WHERE term='the'"), 0);   /* stopword */
    if (wn_available()) {
        /* hypernyms at index time: "animal" is one lookup, weaker than the label */
        CHECK_EQ_INT(q_int(db, "SELECT region FROM tok_terms WHERE term='animal' AND source='hyper'"), 1);
        double wa = q_real(db, "SELECT weight FROM tok_terms WHERE term='animal'");
        CHECK(wa > 0.3 && wa < 0.9);
        CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM tok_terms WHERE term='vehicle' AND source='hyper' AND region=2"), 1);
        CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM tok_terms WHERE term='domestic dog' AND source='syn'"), 1);
        CHECK_EQ_INT(q_int(db, "SELECT rowid FROM tok_fts WHERE tok_fts MATCH 'hyper:animal'"), 7);
        CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM tok_terms WHERE term='entity'"), 0);
    }
    sqlite3_close(db);
}

/* A SAM segment (stage "sam"): its label is a label term of its own
 * region, its BLIP caption's words are caption words of the image (a
 * little weaker than the image's own caption). */
TEST(segment_label_and_caption)
{
    sqlite3 *db = open_db();
    CHECK(db);
    description d;
    region regs[5];
    ocr_word w;
    dog_scene(&d, regs, &w);
    regs[4] = mk_region(REGION_SEGMENT, "kite", 0.7f, 0.5f, 0.0f, 0.8f, 0.3f);
    snprintf(regs[4].caption, sizeof regs[4].caption, "a yellow kite flying over the trees");
    d.nregions = 5;
    ierr e = {0};
    CHECKF(tokens_put(db, 9, &d, &e) == 0, "%s", e.msg);
    CHECK_EQ_INT(q_int(db, "SELECT region FROM tok_terms WHERE term='kite' AND source='label'"), 4);
    CHECK_NEAR(q_real(db, "SELECT weight FROM tok_terms WHERE term='kite' AND source='label'"), 0.7, 1e-6);
    CHECK_EQ_INT(q_int(db, "SELECT rowid FROM tok_fts WHERE tok_fts MATCH 'caption:tree'"), 9);
    CHECK_NEAR(q_real(db, "SELECT weight FROM tok_terms WHERE term='fly' AND source='caption'"), 0.6, 1e-6);
    /* a word in both the image's caption and the segment's keeps the stronger weight */
    snprintf(regs[4].caption, sizeof regs[4].caption, "a dog running");
    CHECKF(tokens_put(db, 9, &d, &e) == 0, "%s", e.msg);
    CHECK_NEAR(q_real(db, "SELECT weight FROM tok_terms WHERE term='dog' AND source='caption'"), 1.0, 1e-6);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM tok_terms WHERE term='tree'"), 0);
    sqlite3_close(db);
}

TEST(put_replaces_and_delete)
{
    sqlite3 *db = open_db();
    CHECK(db);
    description d;
    region regs[4];
    ocr_word w;
    dog_scene(&d, regs, &w);
    ierr e = {0};
    CHECK(tokens_put(db, 1, &d, &e) == 0);
    CHECK(tokens_put(db, 2, &d, &e) == 0);
    long long rows = q_int(db, "SELECT count(*) FROM tok_terms WHERE image_id=1");
    CHECK(rows > 5);
    /* image 1 now shows a cat only: nothing of the dog remains */
    snprintf(regs[1].label, sizeof regs[1].label, "cat");
    d.nregions = 2; d.nwords = 0;
    d.caption[0] = d.clip_caption[0] = d.scene[0] = 0;
    CHECKF(tokens_put(db, 1, &d, &e) == 0, "%s", e.msg);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM tok_terms WHERE image_id=1 AND term='dog'"), 0);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM tok_terms WHERE image_id=1 AND term='cat'"), 1);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM tok_fts WHERE tok_fts MATCH 'dog'"), 1);
    CHECK_EQ_INT(q_int(db, "SELECT rowid FROM tok_fts WHERE tok_fts MATCH 'cat'"), 1);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM tok_fts"), 2);
    CHECK(tokens_delete(db, 1, &e) == 0);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM tok_terms WHERE image_id=1"), 0);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM tok_fts"), 1);
    CHECK(q_int(db, "SELECT count(*) FROM tok_terms WHERE image_id=2") == rows);
    /* deleting what is not there is fine */
    CHECK(tokens_delete(db, 99, &e) == 0);
    CHECK(!e.set);
    sqlite3_close(db);
}

TEST(put_inside_callers_transaction)
{
    sqlite3 *db = open_db();
    CHECK(db);
    description d;
    region regs[4];
    ocr_word w;
    dog_scene(&d, regs, &w);
    ierr e = {0};
    CHECK(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(tokens_put(db, 3, &d, &e) == 0);
    CHECK(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM tok_terms"), 0);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM tok_fts"), 0);
    sqlite3_close(db);
}

TEST(bm25_ordering)
{
    sqlite3 *db = open_db();
    CHECK(db);
    ierr e = {0};
    region regs[4];
    description d;
    /* 1: a dog detected (label); 2: dog only mentioned in the clip caption;
     * 3: no dog; 4: two dogs detected */
    const char *labels[4][2] = {{"dog", NULL}, {"car", NULL}, {"car", NULL}, {"dog", "dog"}};
    for (int i = 0; i < 4; i++) {
        memset(&d, 0, sizeof d);
        regs[0] = mk_region(REGION_IMAGE, "image", 0, 0, 0, 1, 1);
        int n = 1;
        for (int k = 0; k < 2 && labels[i][k]; k++)
            regs[n++] = mk_region(REGION_OBJECT, labels[i][k], 0.8f, 0.1f, 0.1f, 0.5f, 0.5f);
        d.regions = regs; d.nregions = n;
        snprintf(d.caption, sizeof d.caption, "a photo with %s", labels[i][0]);
        if (i == 1) snprintf(d.clip_caption, sizeof d.clip_caption, "a dog next to a car");
        CHECK(tokens_put(db, i + 1, &d, &e) == 0);
    }
    sqlite3_stmt *st = NULL;
    CHECK(sqlite3_prepare_v2(db, "SELECT rowid FROM tok_fts WHERE tok_fts MATCH 'dog' ORDER BY "
                             TOKENS_BM25, -1, &st, NULL) == SQLITE_OK);
    long long got[4];
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW && n < 4) got[n++] = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(got[0], 4);    /* two detected dogs */
    CHECK_EQ_INT(got[1], 1);    /* one detected dog */
    CHECK_EQ_INT(got[2], 2);    /* mentioned only */
    /* the query builder produces an expression FTS5 accepts */
    char q[128];
    CHECK(tokens_fts_query("Dogs!", 1, q, sizeof q) == 1);
    CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM tok_fts WHERE tok_fts MATCH ?1", -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK_EQ_INT(sqlite3_column_int(st, 0), 3);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

TEST(errors_are_clear)
{
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
    description d;
    region regs[4];
    ocr_word w;
    dog_scene(&d, regs, &w);
    ierr e = {0};
    CHECK(tokens_put(db, 1, &d, &e) == -1);
    CHECK(e.set);
    CHECKF(strstr(e.msg, "tok_") != NULL, "message: %s", e.msg);
    err_clear(&e);
    CHECK(tokens_put(db, 1, NULL, &e) == -1 && e.set);
    sqlite3_close(db);
}

TEST(odd_descriptions)
{
    sqlite3 *db = open_db();
    CHECK(db);
    ierr e = {0};
    description d;
    memset(&d, 0, sizeof d);
    CHECK(tokens_put(db, 1, &d, &e) == 0);            /* nothing at all */
    region r[2];
    r[0] = mk_region(REGION_OBJECT, "", 0.5f, 0, 0, 1, 1);
    r[1] = mk_region(REGION_OBJECT, "made-up thing", 2.0f, 0, 0, 1, 1);   /* score out of range */
    memset(r[1].label, 'x', sizeof r[1].label - 1);
    r[1].label[sizeof r[1].label - 1] = 0;
    d.regions = r; d.nregions = 2;
    memset(d.caption, 'y', sizeof d.caption - 1);      /* one enormous word */
    d.caption[sizeof d.caption - 1] = 0;
    snprintf(d.clip_caption, sizeof d.clip_caption, "caf\xc3\xa9 \"quoted\" O'Brien's");
    CHECKF(tokens_put(db, 2, &d, &e) == 0, "%s", e.msg);
    CHECK(q_real(db, "SELECT max(weight) FROM tok_terms") <= 1.0);
    CHECK_EQ_INT(q_int(db, "SELECT count(*) FROM tok_fts WHERE tok_fts MATCH 'obrien OR o'"), 1);
    sqlite3_close(db);
}

/* The access paths the query engine relies on stay index lookups. */
static int plan_uses(sqlite3 *db, const char *sql, const char *what)
{
    char q[600];
    snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) return 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(st, 3);
        if (d && strstr(d, what) && !strstr(d, "TEMP B-TREE")) found = 1;
        if (d && strstr(d, "SCAN")) { found = 0; break; }
    }
    sqlite3_finalize(st);
    return found;
}

TEST(query_plans)
{
    sqlite3 *db = open_db();
    CHECK(db);
    CHECK(plan_uses(db, "SELECT image_id, region, weight FROM tok_terms WHERE term='dog' AND source='label'"
                        " ORDER BY weight DESC LIMIT 100", "tok_terms_best"));
    CHECK(plan_uses(db, "SELECT weight FROM tok_terms WHERE term='dog' AND image_id=5", "SEARCH"));
    CHECK(plan_uses(db, "SELECT term FROM tok_terms WHERE image_id=5", "tok_terms_image"));
    sqlite3_close(db);
}

int main(void)
{
    RUN(put_round_trip);
    RUN(segment_label_and_caption);
    RUN(put_replaces_and_delete);
    RUN(put_inside_callers_transaction);
    RUN(bm25_ordering);
    RUN(errors_are_clear);
    RUN(odd_descriptions);
    RUN(query_plans);
    return test_summary();
}
