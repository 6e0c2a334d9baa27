/* test_describe_features.c — the image feature vector (describe/features.h).
 *
 * On synthetic maps: each block lands at its documented offset and pools
 * over the picture only (the letterbox padding is left out), colour shares
 * sum to one, people and faces are counted.  On real photos with the
 * embedded detector: the vector has the documented length, is finite, is
 * the same for the same photo twice and differs between two photos, and
 * the heat block says "dog" for the dog photo. */
#include "test.h"

#include <sys/stat.h>

#include "describe/features.h"
#include "describe/internal.h"

#define DARKNET "/usr/share/darknet/data"

/* A map of h×w×c whose value at (y, x, k) is f(y, x, k). */
static float *make_map(det_map *m, int h, int w, int c, float (*f)(int, int, int))
{
    float *v = malloc(sizeof(float) * (size_t)h * w * c);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) v[((size_t)y * w + x) * c + k] = f(y, x, k);
    *m = (det_map){v, h, w, c};
    return v;
}

/* 8×8 deep map; the picture is its middle 4 rows (letterboxed wide image):
 * rows 0-1 and 6-7 are padding with a huge value. */
static float deep_val(int y, int x, int k)
{
    if (y < 2 || y >= 6) return 1000.f;
    return (float)k * 0.001f + (y < 4 ? 1.f : 2.f) + (x < 4 ? 0.f : 10.f);
}
static float head_val(int y, int x, int k) { (void)x; return y < 8 || y >= 24 ? 1000.f : (float)k; }
static float mid_val(int y, int x, int k) { (void)x; return y < 4 || y >= 12 ? 1000.f : (float)k; }
static float heat_val(int y, int x, int k)
{
    if (y < 8 || y >= 24) return 0.99f;            /* padding: must not count */
    return k == 16 && y == 10 && x == 30 ? 0.75f : 0.01f;   /* one dog peak */
}

TEST(synthetic_layout_and_padding)
{
    det_maps m;
    memset(&m, 0, sizeof m);
    float *a = make_map(&m.deep, 8, 8, FEAT_DEEP_C, deep_val);
    float *b = make_map(&m.head, 32, 32, FEAT_HEAD_C, head_val);
    float *c = make_map(&m.heat, 32, 32, FEAT_NCLASSES, heat_val);
    float *w = make_map(&m.wide, 8, 8, FEAT_WIDE_C, deep_val);
    float *mid = make_map(&m.mid, 16, 16, FEAT_MID_C, mid_val);
    m.fx0 = 0; m.fx1 = 1; m.fy0 = 0.25f; m.fy1 = 0.75f;
    /* A 40×20 image: left half pure red, right half pure blue. */
    img im = {40, 20, malloc(40 * 20 * 3)};
    for (int y = 0; y < 20; y++)
        for (int x = 0; x < 40; x++) {
            uint8_t *p = im.px + ((size_t)y * 40 + x) * 3;
            p[0] = x < 20 ? 220 : 20; p[1] = 20; p[2] = x < 20 ? 20 : 220;
        }
    description ds;
    memset(&ds, 0, sizeof ds);
    region r[4];
    memset(r, 0, sizeof r);
    r[0].kind = REGION_IMAGE;
    r[1].kind = REGION_OBJECT; snprintf(r[1].label, sizeof r[1].label, "person");
    r[1].x0 = 0; r[1].y0 = 0; r[1].x1 = 0.5f; r[1].y1 = 0.5f;
    r[2].kind = REGION_FACE; snprintf(r[2].label, sizeof r[2].label, "face");
    r[2].x0 = 0.1f; r[2].y0 = 0.1f; r[2].x1 = 0.2f; r[2].y1 = 0.3f;
    r[3].kind = REGION_OBJECT; snprintf(r[3].label, sizeof r[3].label, "dog");
    r[3].x1 = r[3].y1 = 1;
    ds.regions = r;
    ds.nregions = 4;
    uint8_t pm[4] = {255, 255, 0, 0};

    float f[FEAT_DIM];
    ierr e = {0};
    int rc = features_compute(&m, &im, &ds, pm, 2, 2, f, &e);
    free(a); free(b); free(c); free(w); free(mid); free(im.px);
    CHECKF(rc == 0, "%s", e.msg);
    for (int i = 0; i < FEAT_DIM; i++) CHECKF(isfinite(f[i]), "feature %d", i);
    /* Mean over the picture: rows 2-5, (1 or 2) + (0 or 10) averages 6.5. */
    CHECK_NEAR(f[FEAT_DEEP_AVG + 0], 6.5, 1e-4);
    CHECK_NEAR(f[FEAT_DEEP_AVG + 100], 6.6, 1e-4);
    CHECK_NEAR(f[FEAT_DEEP_MAX + 0], 12.0, 1e-4);
    /* Grid cells: top-left 1, top-right 11, bottom-left 2, bottom-right 12. */
    CHECK_NEAR(f[FEAT_DEEP_GRID + 0 * FEAT_DEEP_C], 1.0, 1e-4);
    CHECK_NEAR(f[FEAT_DEEP_GRID + 1 * FEAT_DEEP_C], 11.0, 1e-4);
    CHECK_NEAR(f[FEAT_DEEP_GRID + 2 * FEAT_DEEP_C + 5], 2.005, 1e-4);
    CHECK_NEAR(f[FEAT_DEEP_GRID + 3 * FEAT_DEEP_C], 12.0, 1e-4);
    CHECK_NEAR(f[FEAT_HEAD_AVG + 7], 7.0, 1e-4);
    CHECK_NEAR(f[FEAT_WIDE_AVG + 0], 6.5, 1e-4);
    CHECK_NEAR(f[FEAT_WIDE_MAX + 700], 12.7, 1e-4);
    /* the picture is rows 4..11 of the 16: value k everywhere there */
    CHECK_NEAR(f[FEAT_MID_AVG + 500], 500.0, 1e-3);
    CHECK_NEAR(f[FEAT_MID_MAX + 3], 3.0, 1e-4);
    CHECK_EQ_INT(FEAT_DIM - FEAT_MID_MAX, FEAT_MID_C);
    CHECK_EQ_INT(FEAT_WIDE_AVG, FEAT_DIM_V1);
    CHECK_NEAR(f[FEAT_HEAT + 16], 0.75, 1e-6);
    CHECK_NEAR(f[FEAT_HEAT + 0], 0.01, 1e-6);
    /* Colours: half red, half blue overall; the left column of cells all
     * red, the right all blue; each block sums to 1. */
    for (int cell = 0; cell < 10; cell++) {
        double s = 0;
        for (int k = 0; k < FEAT_NCOLOURS; k++) s += f[FEAT_COLOUR + cell * FEAT_NCOLOURS + k];
        CHECK_NEAR(s, 1.0, 1e-5);
    }
    CHECK_NEAR(f[FEAT_COLOUR + PAL_RED], 0.5, 0.05);
    CHECK_NEAR(f[FEAT_COLOUR + PAL_BLUE], 0.5, 0.05);
    CHECK_NEAR(f[FEAT_COLOUR + 1 * FEAT_NCOLOURS + PAL_RED], 1.0, 1e-6);   /* top left */
    CHECK_NEAR(f[FEAT_COLOUR + 3 * FEAT_NCOLOURS + PAL_BLUE], 1.0, 1e-6);  /* top right */
    /* Saturated colours: high saturation, no spread in luma per half. */
    CHECK(f[FEAT_LIGHT + 2] > 0.8f);
    /* Texture: the only edge is the vertical one in the middle column. */
    CHECK(f[FEAT_TEXTURE + 2 * 1] > 0.01f);      /* middle top cell, d/dx */
    CHECK_NEAR(f[FEAT_TEXTURE + 2 * 0], 0, 1e-6);
    CHECK_NEAR(f[FEAT_TEXTURE + 2 * 1 + 1], 0, 1e-6);   /* no d/dy anywhere */
    CHECK_NEAR(f[FEAT_PEOPLE], 0.5, 1e-6);
    CHECK_NEAR(f[FEAT_PEOPLE + 1], 0.25, 1e-6);
    CHECK_NEAR(f[FEAT_PEOPLE + 2], log(2.0), 1e-6);
    CHECK_NEAR(f[FEAT_FACES], log(2.0), 1e-6);
    CHECK_NEAR(f[FEAT_FACES + 1], 0.02, 1e-6);
}

TEST(wrong_maps_are_refused)
{
    det_maps m;
    memset(&m, 0, sizeof m);
    float *a = make_map(&m.deep, 4, 4, 100, deep_val);   /* not the backbone this layout is for */
    float *b = make_map(&m.head, 4, 4, FEAT_HEAD_C, head_val);
    float *c = make_map(&m.heat, 4, 4, FEAT_NCLASSES, heat_val);
    float *w = make_map(&m.wide, 4, 4, FEAT_WIDE_C, heat_val);
    float *mid = make_map(&m.mid, 4, 4, FEAT_MID_C, heat_val);
    m.fx1 = m.fy1 = 1;
    img im = {4, 4, calloc(48, 1)};
    description ds;
    memset(&ds, 0, sizeof ds);
    float f[FEAT_DIM];
    ierr e = {0};
    int rc = features_compute(&m, &im, &ds, NULL, 0, 0, f, &e);
    free(a); free(b); free(c); free(w); free(mid); free(im.px);
    CHECK(rc == -1);
    CHECKF(strstr(e.msg, "480"), "%s", e.msg);
}

/* ---- real photos --------------------------------------------------------- */

static describer *dsc;

static int describe_file(const char *path, description *ds)
{
    img im;
    img_meta meta;
    ierr e = {0};
    if (img_load(path, NULL, &im, &meta, &e) != 0) { fprintf(stderr, "%s\n", e.msg); return -1; }
    int rc = describe_image(dsc, &im, &meta, ds, &e);
    if (rc) fprintf(stderr, "%s\n", e.msg);
    img_free(&im);
    return rc;
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

TEST(real_photos)
{
    if (!dsc || !describer_stage_on(dsc, "objects")) SKIP("the embedded detector is not installed (scripts/setup)");
    if (!exists(DARKNET "/dog.jpg") || !exists(DARKNET "/horses.jpg")) SKIP("Debian darknet photos not installed");
    CHECK(describer_stage_on(dsc, "features"));
    CHECKF(strstr(describer_version(dsc), "features:" FEAT_KIND), "%s", describer_version(dsc));
    description a, a2, b;
    CHECK(describe_file(DARKNET "/dog.jpg", &a) == 0);
    CHECK(describe_file(DARKNET "/dog.jpg", &a2) == 0);
    CHECK(describe_file(DARKNET "/horses.jpg", &b) == 0);
    CHECK_EQ_INT(a.nfeatures, FEAT_DIM);
    CHECK_EQ_INT(b.nfeatures, FEAT_DIM);
    CHECK_STR(a.features_kind, FEAT_KIND);
    int nonzero = 0;
    for (int i = 0; i < FEAT_DIM; i++) {
        CHECKF(isfinite(a.features[i]) && isfinite(b.features[i]), "feature %d", i);
        nonzero += a.features[i] != 0;
    }
    CHECKF(nonzero > FEAT_DIM / 2, "only %d non-zero features", nonzero);
    CHECK(memcmp(a.features, a2.features, sizeof(float) * FEAT_DIM) == 0);
    /* Different photos: the backbone's mean differs clearly (relative L2
     * distance), not in a last bit. */
    double d = 0, n = 0;
    for (int i = FEAT_DEEP_AVG; i < FEAT_DEEP_AVG + FEAT_DEEP_C; i++) {
        d += (a.features[i] - b.features[i]) * (a.features[i] - b.features[i]);
        n += a.features[i] * a.features[i];
    }
    CHECKF(d > 0.01 * n, "dog and horses too alike: %g vs %g", d, n);
    /* COCO class 16 is dog, 17 horse: each photo's heat says its animal. */
    CHECK_STR(coco_label(16), "dog");
    CHECK_STR(coco_label(17), "horse");
    CHECK(a.features[FEAT_HEAT + 16] > 0.3f && b.features[FEAT_HEAT + 16] < 0.5f * a.features[FEAT_HEAT + 16]);
    CHECK(b.features[FEAT_HEAT + 17] > 0.5f && a.features[FEAT_HEAT + 17] < 0.5f * b.features[FEAT_HEAT + 17]);
    /* A detection is a peak of the heat map: its class's heat is at least
     * its score. */
    for (int i = 1; i < a.nregions; i++) {
        const region *r = &a.regions[i];
        if (r->kind != REGION_OBJECT) continue;
        int cls = -1;
        for (int k = 0; k < FEAT_NCLASSES; k++)
            if (!strcmp(coco_label(k), r->label)) cls = k;
        CHECK(cls >= 0);
        CHECKF(a.features[FEAT_HEAT + cls] >= r->score - 1e-6f, "%s %g", r->label, (double)r->score);
    }
    description_free(&a);
    description_free(&a2);
    description_free(&b);
}

int main(void)
{
    RUN(synthetic_layout_and_padding);
    RUN(wrong_maps_are_refused);
    describe_opts o;
    describe_opts_default(&o);
    o.ocr = 0;
    o.clip = 0;
    ierr e = {0};
    dsc = describer_open(&o, &e);
    RUN(real_photos);
    describer_close(dsc);
    return test_summary();
}
