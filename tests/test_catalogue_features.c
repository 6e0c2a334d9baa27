/* test_catalogue_features.c — feature vectors in the catalogue: stored as
 * half floats with the description, loaded back (cat_get, cat_features,
 * cat_features_all), replaced and dropped with it, copied with cat_copy,
 * and an old (schema 3) file upgraded to hold them. */
#include "test.h"

#include <sqlite3.h>

#include "base/half.h"
#include "index/catalogue.h"

static char dbpath[700];

static void fresh_db(const char *tag)
{
    snprintf(dbpath, sizeof dbpath, "%s/cat.db", test_tmpdir(tag));
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

/* A minimal description with a feature vector of n values that vary
 * in sign and magnitude (seed changes them). */
static void with_features(description *ds, int n, float seed)
{
    memset(ds, 0, sizeof *ds);
    ds->width = 10;
    ds->height = 20;
    ds->nregions = 1;
    ds->regions = calloc(1, sizeof(region));
    ds->regions[0].kind = REGION_IMAGE;
    snprintf(ds->regions[0].label, sizeof ds->regions[0].label, "image");
    if (n > 0) {
        ds->features = malloc(sizeof(float) * (size_t)n);
        for (int i = 0; i < n; i++) ds->features[i] = seed * sinf((float)i * 0.37f) * powf(1.5f, (float)(i % 9));
        ds->nfeatures = n;
        snprintf(ds->features_kind, sizeof ds->features_kind, "features/test");
    }
}

static int64_t put(catalogue *c, const char *path, int n, float seed)
{
    description ds;
    with_features(&ds, n, seed);
    cat_file f = {.path = path, .size = 1, .mtime_ns = 2, .hash = path, .describer = "t"};
    ierr e = {0};
    int64_t id = cat_put(c, &f, &ds, &e);
    if (id <= 0) fprintf(stderr, "cat_put: %s\n", e.msg);
    description_free(&ds);
    return id;
}

/* Each stored value is the half nearest the original: within half a unit
 * in the last place of an 11-bit significand. */
static int close_to_half(float got, float want)
{
    return got == half_to_float(half_from_float(want)) && fabsf(got - want) <= fabsf(want) * (1.f / 2048) + 1e-7f;
}

TEST(store_and_load)
{
    fresh_db("catf-rt");
    ierr e = {0};
    catalogue *c = cat_open(dbpath, 0, &e);
    CHECKF(c, "%s", e.msg);
    int64_t a = put(c, "/f/a.jpg", 300, 1.0f), b = put(c, "/f/b.jpg", 300, -3.0f), z = put(c, "/f/none.jpg", 0, 0);
    CHECK(a > 0 && b > 0 && z > 0);
    CHECK_EQ_INT(scalar(cat_db(c), "SELECT length(vec) FROM features WHERE image_id=1"), 600);

    description want, d;
    with_features(&want, 300, -3.0f);
    CHECKF(cat_get(c, b, &d, &e) == 0, "%s", e.msg);
    CHECK_EQ_INT(d.nfeatures, 300);
    CHECK_STR(d.features_kind, "features/test");
    for (int i = 0; i < 300; i++) CHECKF(close_to_half(d.features[i], want.features[i]), "value %d", i);
    description_free(&d);

    char kind[16];
    float *v = NULL;
    int dim = 0;
    CHECK_EQ_INT(cat_features(c, b, kind, &v, &dim, &e), 1);
    CHECK_EQ_INT(dim, 300);
    CHECK_STR(kind, "features/test");
    for (int i = 0; i < 300; i++) CHECK(close_to_half(v[i], want.features[i]));
    free(v);
    description_free(&want);

    CHECK_EQ_INT(cat_features(c, z, kind, &v, &dim, &e), 0);
    CHECK(v == NULL && dim == 0);
    CHECK(cat_get(c, z, &d, &e) == 0);
    CHECK(d.features == NULL && d.nfeatures == 0);
    description_free(&d);

    int64_t *ids;
    float *all;
    CHECK_EQ_INT(cat_features_all(c, "features/test", &ids, &all, &dim, &e), 2);
    CHECK_EQ_INT(dim, 300);
    CHECK(ids[0] == a && ids[1] == b);
    with_features(&want, 300, 1.0f);
    for (int i = 0; i < 300; i++) CHECK(close_to_half(all[i], want.features[i]));
    description_free(&want);
    free(ids);
    free(all);
    CHECK_EQ_INT(cat_features_all(c, "features/other", &ids, &all, &dim, &e), 0);
    CHECK(ids == NULL && all == NULL);
    cat_close(c);
}

TEST(replaced_copied_and_dropped_with_the_image)
{
    fresh_db("catf-life");
    ierr e = {0};
    catalogue *c = cat_open(dbpath, 0, &e);
    CHECKF(c, "%s", e.msg);
    int64_t a = put(c, "/f/a.jpg", 8, 1.0f);
    /* Re-described: the new vector replaces the old one... */
    CHECK_EQ_INT(put(c, "/f/a.jpg", 8, 2.0f), a);
    char kind[16];
    float *v = NULL;
    int dim;
    CHECK_EQ_INT(cat_features(c, a, kind, &v, &dim, &e), 1);
    description want;
    with_features(&want, 8, 2.0f);
    for (int i = 0; i < 8; i++) CHECK(close_to_half(v[i], want.features[i]));
    description_free(&want);
    free(v);
    /* ...and a description without one leaves none behind. */
    CHECK_EQ_INT(put(c, "/f/a.jpg", 0, 0), a);
    CHECK_EQ_INT(cat_features(c, a, kind, &v, &dim, &e), 0);
    CHECK_EQ_INT(put(c, "/f/a.jpg", 8, 2.0f), a);

    cat_file f = {.path = "/f/copy.jpg", .size = 1, .mtime_ns = 3, .hash = "/f/a.jpg"};
    int64_t b = cat_copy(c, a, &f, &e);
    CHECKF(b > 0, "%s", e.msg);
    CHECK_EQ_INT(cat_features(c, b, kind, &v, &dim, &e), 1);
    float *va = NULL;
    int da;
    CHECK_EQ_INT(cat_features(c, a, kind, &va, &da, &e), 1);
    CHECK(dim == da && memcmp(v, va, sizeof(float) * (size_t)dim) == 0);
    free(v);
    free(va);

    CHECK(cat_remove(c, a, &e) == 0);
    CHECK_EQ_INT(scalar(cat_db(c), "SELECT count(*) FROM features"), 1);
    cat_close(c);
}

TEST(damaged_row_reads_as_absent)
{
    fresh_db("catf-bad");
    ierr e = {0};
    catalogue *c = cat_open(dbpath, 0, &e);
    CHECKF(c, "%s", e.msg);
    int64_t a = put(c, "/f/a.jpg", 8, 1.0f);
    CHECK(sqlite3_exec(cat_db(c), "UPDATE features SET dim=9", NULL, NULL, NULL) == SQLITE_OK);
    char kind[16];
    float *v = NULL;
    int dim;
    CHECK_EQ_INT(cat_features(c, a, kind, &v, &dim, &e), 0);
    CHECK(v == NULL);
    cat_close(c);
}

TEST(schema_3_file_gains_the_table)
{
    fresh_db("catf-mig");
    sqlite3 *raw;
    CHECK(sqlite3_open(dbpath, &raw) == SQLITE_OK);
    /* What a schema 3 file looks like as far as this step and the later
     * ones care: the images and regions tables and the version; the step
     * must add only its table. */
    CHECK(sqlite3_exec(raw,
                       "CREATE TABLE images (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE);"
                       "CREATE TABLE regions (id INTEGER PRIMARY KEY);"
                       "INSERT INTO images VALUES(5, '/old/x.jpg');"
                       "PRAGMA user_version=3;",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(raw);
    ierr e = {0};
    catalogue *c = cat_open(dbpath, 0, &e);
    CHECKF(c, "%s", e.msg);
    CHECK(cat_schema_version() >= 4);
    CHECK_EQ_INT(scalar(cat_db(c), "SELECT count(*) FROM sqlite_master WHERE name='features'"), 1);
    CHECK_EQ_INT(scalar(cat_db(c), "SELECT count(*) FROM images"), 1);
    char kind[16];
    float *v;
    int dim;
    CHECK_EQ_INT(cat_features(c, 5, kind, &v, &dim, &e), 0);
    cat_close(c);
}

int main(void)
{
    RUN(store_and_load);
    RUN(replaced_copied_and_dropped_with_the_image);
    RUN(damaged_row_reads_as_absent);
    RUN(schema_3_file_gains_the_table);
    return test_summary();
}
