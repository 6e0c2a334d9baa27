/* test_query_scale.c — search_run's access paths on a catalogue big enough
 * that they change: a phrase much more frequent than the other one is not
 * read but probed per candidate of the rare one ("a person next to a
 * horse" reads the horses); when the rare phrase has too few images for
 * that, everything is read again.  Either way the images that show both
 * things in the asked relation must come first. */
#include "test.h"

#include <sqlite3.h>

#include "index/catalogue.h"
#include "query/query.h"

static catalogue *cat;

/* One image of up to three objects: "label x0 y0 x1 y1" each. */
static void put(int id, const char *a, const char *b)
{
    description ds;
    memset(&ds, 0, sizeof ds);
    ds.width = 640;
    ds.height = 480;
    ds.regions = calloc(4, sizeof(region));
    region *r = &ds.regions[ds.nregions++];
    r->kind = REGION_IMAGE;
    snprintf(r->label, sizeof r->label, "image");
    r->x1 = r->y1 = r->area = r->score = 1;
    const char *spec[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        if (!spec[i]) continue;
        r = &ds.regions[ds.nregions++];
        r->kind = REGION_OBJECT;
        r->score = 0.8f;
        sscanf(spec[i], "%47s %f %f %f %f", r->label, &r->x0, &r->y0, &r->x1, &r->y1);
        r->cx = (r->x0 + r->x1) / 2;
        r->cy = (r->y0 + r->y1) / 2;
        r->area = (r->x1 - r->x0) * (r->y1 - r->y0);
        r->size = r->area < 0.05f ? SIZE_SMALL : r->area < 0.25f ? SIZE_MEDIUM : SIZE_LARGE;
    }
    img_meta m;
    memset(&m, 0, sizeof m);
    m.orig_w = 640;
    m.orig_h = 480;
    snprintf(m.format, sizeof m.format, "jpeg");
    char path[64], hash[65];
    snprintf(path, sizeof path, "/photos/%05d.jpg", id);
    sha256_hex(path, strlen(path), hash);
    cat_file f = {.path = path, .size = 1000, .mtime_ns = 1, .hash = hash, .meta = &m, .describer = "test"};
    ierr e = {0};
    if (cat_put(cat, &f, &ds, &e) <= 0) {
        fprintf(stderr, "cat_put %s: %s\n", path, e.msg);
        exit(2);
    }
    description_free(&ds);
}

#define NEXT_P "person 0.10 0.20 0.35 0.90"
#define NEXT_H "horse 0.37 0.35 0.80 0.90"
#define FAR_P "person 0.00 0.00 0.10 0.22"
#define FAR_H "horse 0.70 0.60 0.98 0.95"

/* Which kind of image an id is, by the layout below. */
enum { K_PERSON, K_HORSE, K_NEXT, K_FAR, K_ZEBRA, K_ZEBRA_NEXT };
static int kind_of(int id)
{
    if (id < 1300) return K_PERSON;
    if (id < 1560) return K_HORSE;
    if (id < 1620) return (id - 1560) % 2 ? K_FAR : K_NEXT;
    if (id < 1622) return K_ZEBRA;
    return K_ZEBRA_NEXT;
}

static void build(void)
{
    char dbpath[700];
    snprintf(dbpath, sizeof dbpath, "%s/scale.db", test_tmpdir("query-scale"));
    ierr e = {0};
    cat = cat_open(dbpath, 0, &e);
    if (!cat) {
        fprintf(stderr, "%s\n", e.msg);
        exit(2);
    }
    sqlite3_exec(cat_db(cat), "PRAGMA synchronous=OFF", NULL, NULL, NULL);
    /* 1300 persons alone, 260 horses alone, 60 horses with a person (every
     * other one beside it, the others far apart), 2 zebras alone and 2
     * beside a person: persons are 1360 rows, more than four times the
     * 320 horses, and the horses are enough to stand alone (> 300). */
    for (int id = 0; id < 1624; id++) {
        switch (kind_of(id)) {
        case K_PERSON: put(id, "person 0.30 0.10 0.70 0.95", NULL); break;
        case K_HORSE: put(id, "horse 0.20 0.30 0.80 0.90", NULL); break;
        case K_NEXT: put(id, NEXT_P, NEXT_H); break;
        case K_FAR: put(id, FAR_P, FAR_H); break;
        case K_ZEBRA: put(id, "zebra 0.20 0.30 0.80 0.90", NULL); break;
        case K_ZEBRA_NEXT: put(id, NEXT_P, "zebra 0.37 0.35 0.80 0.90"); break;
        }
    }
}

static int id_of(const search_hit *h)
{
    /* "/photos/01234.jpg" */
    const char *p = h->path ? strrchr(h->path, '/') : NULL;
    return p ? atoi(p + 1) : -1;
}

TEST(frequent_phrase_probed_for_the_rare_ones)
{
    search_opts o = {.k = 20};
    search_results res;
    ierr e = {0};
    CHECK(search_run(cat_db(cat), "a person next to a horse", &o, &res, &e) == 0);
    int ok = res.n == 20;
    for (int i = 0; i < res.n && ok; i++) ok = kind_of(id_of(&res.hits[i])) == K_NEXT;
    int first = res.n ? id_of(&res.hits[0]) : -1, n = res.n;
    search_results_free(&res);
    CHECKF(ok, "%d results, expected 20 of the 30 person-beside-horse images (first %d)", n, first);
    /* the other way round reads the same horses */
    CHECK(search_run(cat_db(cat), "a horse next to a person", &o, &res, &e) == 0);
    ok = res.n == 20;
    for (int i = 0; i < res.n && ok; i++) ok = kind_of(id_of(&res.hits[i])) == K_NEXT;
    search_results_free(&res);
    CHECK(ok);
}

TEST(rare_phrase_with_few_images_still_fills_k)
{
    search_opts o = {.k = 20};
    search_results res;
    ierr e = {0};
    CHECK(search_run(cat_db(cat), "a person next to a zebra", &o, &res, &e) == 0);
    int n = res.n;
    int a = n > 0 ? kind_of(id_of(&res.hits[0])) : -1, b = n > 1 ? kind_of(id_of(&res.hits[1])) : -1;
    search_results_free(&res);
    CHECKF(n == 20, "%d results, expected k=20 (zebras, persons)", n);
    CHECKF(a == K_ZEBRA_NEXT && b == K_ZEBRA_NEXT, "first two are kinds %d %d, expected the zebras beside a person",
           a, b);
}

TEST(single_frequent_word_returns_k)
{
    search_opts o = {.k = 20};
    search_results res;
    ierr e = {0};
    CHECK(search_run(cat_db(cat), "person", &o, &res, &e) == 0);
    int n = res.n;
    search_results_free(&res);
    CHECK_EQ_INT(n, 20);
}

int main(void)
{
    build();
    RUN(frequent_phrase_probed_for_the_rare_ones);
    RUN(rare_phrase_with_few_images_still_fills_k);
    RUN(single_frequent_word_returns_k);
    cat_close(cat);
    return test_summary();
}
