/* test_search_joint.c — imgdex's own model in describe, catalogue, search
 * and similar, with a small model generated here (joint_save) whose
 * behaviour is known by construction: its embedding and tagger read the
 * whole image's colour shares (features/1 FEAT_COLOUR), so a blue picture is
 * "water", a green one "grass", a red one "fire".
 *
 *   - the joint stage stores the embedding (int8) and the tagger's words,
 *     which become tokens and show up in the description's JSON;
 *   - "water" finds the blue pictures, which the structured stage alone
 *     (without embedding,tags) does not return; the ablation changes scores;
 *   - a word the model knows that fits no picture: nothing matches well;
 *   - similar: the image itself first, then its near copy;
 *   - a new model over the same catalogue: the next index recomputes only
 *     the joint part, from the stored features, without decoding.
 * Needs the object detector (the features stage reads its maps): SKIP
 * without it. */
#include "test.h"

#include <math.h>
#include <sys/stat.h>

#include "describe/features.h"
#include "index/catalogue.h"
#include "models/joint.h"
#include "query/query.h"

enum { D = 4, NW = 4, NT = 3 };

static float wimg[D * FEAT_DIM], bimg[D], mean[FEAT_DIM], scl[FEAT_DIM];
static float wtag[NT * FEAT_DIM], btag[NT], vecs[NW * D];
static const char *words[NW] = {"water", "grass", "fire", "snow"};
static const char *tags[NT] = {"water", "grass", "fire"};
static char dir[600], db[700], model_a[700], model_b[700];
static int ready;

/* palette order of features/1: red 0, green 3, blue 4 */
static const int hue[3] = {4, 3, 0};

static int save_model(const char *path, float bias)
{
    memset(wimg, 0, sizeof wimg);
    memset(wtag, 0, sizeof wtag);
    for (int i = 0; i < FEAT_DIM; i++) { mean[i] = 0; scl[i] = 1; }
    for (int k = 0; k < 3; k++) {
        wimg[k * FEAT_DIM + FEAT_COLOUR + hue[k]] = 1;
        wtag[k * FEAT_DIM + FEAT_COLOUR + hue[k]] = 12;
        btag[k] = -4;
        bimg[k] = 0;
    }
    bimg[3] = bias;   /* a little of "snow" in every picture */
    memset(vecs, 0, sizeof vecs);
    for (int w = 0; w < NW; w++) vecs[w * D + w] = 1;
    static const char *mk[] = {"trained_on"};
    static const char *mv[] = {"test colours"};
    joint_spec s = {
        .name = "test-colours", .feature_kind = FEAT_KIND, .feature_dim = FEAT_DIM, .dim = D,
        .feat_mean = mean, .feat_scale = scl,
        .image_layers = 1, .image_sizes = {FEAT_DIM, D}, .image_w = {wimg}, .image_b = {bimg},
        .nwords = NW, .word_dim = D, .words = words, .word_vecs = vecs,
        .ntags = NT, .tags = tags, .tagger_layers = 1, .tagger_sizes = {FEAT_DIM, NT},
        .tagger_w = {wtag}, .tagger_b = {btag},
        .meta_keys = mk, .meta_vals = mv, .nmeta = 1, .f32 = 1,
    };
    ierr e = {0};
    if (joint_save(path, &s, &e) != 0) {
        fprintf(stderr, "joint_save: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static void write_ppm(const char *name, int r, int g, int b, unsigned seed)
{
    char p[800];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) return;
    fprintf(f, "P6\n160 120\n255\n");
    for (int i = 0; i < 160 * 120; i++) {
        seed = seed * 1103515245u + 12345u;
        int n = (int)((seed >> 16) % 17) - 8;
        unsigned char px[3] = {(unsigned char)(r + n < 0 ? 0 : r + n > 255 ? 255 : r + n),
                               (unsigned char)(g + n < 0 ? 0 : g + n > 255 ? 255 : g + n),
                               (unsigned char)(b + n < 0 ? 0 : b + n > 255 ? 255 : b + n)};
        fwrite(px, 1, 3, f);
    }
    fclose(f);
}

static int index_dir(index_stats *st)
{
    index_opts o;
    index_opts_default(&o);
    o.jobs = 1;
    o.progress = 0;
    o.describe.ocr = 0;
    o.describe.clip = 0;
    char *dirs[] = {dir};
    ierr e = {0};
    int rc = index_run(db, dirs, 1, &o, st, &e);
    if (rc) fprintf(stderr, "index_run: %s\n", e.msg);
    return rc;
}

static int64_t id_of(catalogue *c, const char *name)
{
    char p[800];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return cat_lookup(c, p);
}

static int search(catalogue *c, const char *q, const char *without, search_results *r)
{
    search_opts o = {.k = 10, .without = without};
    ierr e = {0};
    int rc = search_run(cat_db(c), q, &o, r, &e);
    if (rc) fprintf(stderr, "search %s: %s\n", q, e.msg);
    return rc;
}

static double score_of(const search_results *r, int64_t id)
{
    for (int i = 0; i < r->n; i++)
        if (r->hits[i].id == id) return r->hits[i].score;
    return -1;
}

TEST(setup)
{
    snprintf(dir, sizeof dir, "%s", test_tmpdir("search-joint"));
    snprintf(db, sizeof db, "%s/index.db", dir);
    snprintf(model_a, sizeof model_a, "%s/a.safetensors", dir);
    snprintf(model_b, sizeof model_b, "%s/b.safetensors", dir);
    CHECK(save_model(model_a, 0.05f) == 0);
    CHECK(save_model(model_b, 0.08f) == 0);
    char pics[700];
    snprintf(pics, sizeof pics, "%s/pics", dir);
    mkdir(pics, 0755);
    snprintf(dir, sizeof dir, "%s", pics);
    write_ppm("blue.ppm", 30, 60, 200, 1);
    write_ppm("blue2.ppm", 34, 64, 196, 2);
    write_ppm("green.ppm", 40, 170, 40, 3);
    write_ppm("red.ppm", 210, 30, 30, 4);
    setenv("IMGDEX_JOINT", model_a, 1);
    describer *d = describer_open(NULL, NULL);
    int on = d && describer_stage_on(d, "joint");
    describer_close(d);
    if (!on) SKIP("the joint stage is off (no object detector installed: the features stage needs it)");
    index_stats st;
    CHECK(index_dir(&st) == 0);
    CHECK_EQ_INT(st.described, 4);
    ready = 1;
}

TEST(describe_stores_embedding_and_tags)
{
    if (!ready) SKIP("setup did not index");
    ierr e = {0};
    catalogue *c = cat_open(db, 1, &e);
    CHECK(c);
    joint_model *m = joint_open(model_a, &e);
    CHECK(m);
    description ds;
    CHECK(cat_get(c, id_of(c, "blue.ppm"), &ds, &e) == 0);
    CHECK(ds.joint && ds.joint_dim == D);
    CHECK_STR(ds.joint_model, joint_id(m));
    /* stored as int8: the blue axis dominates, within the quantisation step */
    CHECK(ds.joint && ds.joint[0] > 0.9f && fabsf(ds.joint[1]) < 0.05f);
    int water = -1, grass = -1;
    for (int i = 0; i < ds.ntags; i++) {
        if (strcmp(ds.tags[i].group, "tagger")) continue;
        if (!strcmp(ds.tags[i].label, "water")) water = i;
        if (!strcmp(ds.tags[i].label, "grass")) grass = i;
    }
    CHECK(water >= 0 && ds.tags[water].score > 0.9f);
    CHECK(grass < 0);   /* P ~ 0.02: below the 0.1 kept */
    char *json = description_to_json(&ds);
    CHECK(json && strstr(json, "\"tagger\"") && strstr(json, "joint_embedding"));
    free(json);
    CHECK(strstr(ds.stages, "joint:") != NULL);
    description_free(&ds);
    /* the tagger's words are tokens */
    sqlite3_stmt *st;
    CHECK(sqlite3_prepare_v2(cat_db(c), "SELECT count(*) FROM tok_terms WHERE term='water' AND source='tag'", -1,
                             &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 2);
    sqlite3_finalize(st);
    joint_close(m);
    cat_close(c);
}

TEST(a_tag_word_finds_what_the_structured_stage_cannot)
{
    if (!ready) SKIP("setup did not index");
    ierr e = {0};
    catalogue *c = cat_open(db, 1, &e);
    int64_t blue = id_of(c, "blue.ppm"), blue2 = id_of(c, "blue2.ppm");
    search_results r, s, t;
    CHECK(search(c, "water", NULL, &r) == 0);
    CHECK_EQ_INT(r.n, 2);
    CHECK(r.n == 2 && (r.hits[0].id == blue || r.hits[0].id == blue2) && (r.hits[1].id == blue || r.hits[1].id == blue2));
    CHECK(r.n > 0 && strstr(r.hits[0].why_json, "\"embedding\"") && strstr(r.hits[0].why_json, "\"tags\""));
    CHECK(search(c, "water", "embedding,tags", &s) == 0);
    CHECK(score_of(&s, blue) < 0);   /* the structured stage does not return it */
    CHECK(search(c, "water", "tags", &t) == 0);
    CHECK(score_of(&t, blue) > 0 && fabs(score_of(&t, blue) - score_of(&r, blue)) > 1e-3);
    search_results_free(&r);
    search_results_free(&s);
    search_results_free(&t);
    /* the other way round: grass is the green one */
    CHECK(search(c, "a field of grass", NULL, &r) == 0);
    CHECK(r.n >= 1 && r.hits[0].id == id_of(c, "green.ppm"));
    search_results_free(&r);
    cat_close(c);
}

TEST(nothing_matches_well)
{
    if (!ready) SKIP("setup did not index");
    ierr e = {0};
    catalogue *c = cat_open(db, 1, &e);
    search_results r;
    /* the model knows "snow"; every picture is a little of it, none much */
    CHECK(search(c, "snow", NULL, &r) == 0);
    CHECK_EQ_INT(r.n, 0);
    CHECK(r.weak > 0);
    char *j = search_results_json("snow", &r);
    CHECK(strstr(j, "nothing matches well") != NULL);
    free(j);
    search_results_free(&r);
    search_opts o = {.k = 10, .keep_weak = 1};
    CHECK(search_run(cat_db(c), "snow", &o, &r, &e) == 0);
    CHECK_EQ_INT(r.n, 4);   /* ranked all the same, for eval */
    search_results_free(&r);
    cat_close(c);
}

TEST(similar_images)
{
    if (!ready) SKIP("setup did not index");
    ierr e = {0};
    catalogue *c = cat_open(db, 1, &e);
    int64_t blue = id_of(c, "blue.ppm");
    search_results r;
    CHECK(similar_run(cat_db(c), blue, 3, &r, &e) == 0);
    CHECK_EQ_INT(r.n, 3);
    CHECK(r.n == 3 && r.hits[0].id == blue && r.hits[1].id == id_of(c, "blue2.ppm"));
    CHECK(r.n == 3 && r.hits[1].score > 0.9 && r.hits[2].score < 0.5);
    search_results_free(&r);
    CHECK(similar_run(cat_db(c), 999999, 3, &r, &e) != 0);
    search_results_free(&r);
    cat_close(c);
}

TEST(new_model_recomputes_from_stored_features)
{
    if (!ready) SKIP("setup did not index");
    setenv("IMGDEX_JOINT", model_b, 1);
    index_stats st;
    double t0 = now_seconds();
    CHECK(index_dir(&st) == 0);
    double dt = now_seconds() - t0;
    CHECK_EQ_INT(st.described, 4);
    CHECK_EQ_INT(st.rejoint, 4);
    printf("  (upgrade to a new joint model: 4 images in %.1f ms, no decoding)\n", dt * 1e3);
    ierr e = {0};
    catalogue *c = cat_open(db, 1, &e);
    joint_model *m = joint_open(model_b, &e);
    description ds;
    CHECK(cat_get(c, id_of(c, "green.ppm"), &ds, &e) == 0);
    CHECK_STR(ds.joint_model, joint_id(m));
    int water = 0, grass = 0;
    for (int i = 0; i < ds.ntags; i++) {
        water += !strcmp(ds.tags[i].label, "water");
        grass += !strcmp(ds.tags[i].label, "grass");
    }
    CHECK(grass == 1 && water == 0);
    CHECK(ds.nregions > 0 && ds.features != NULL);   /* the rest of the description is kept */
    description_free(&ds);
    sqlite3_stmt *q;
    CHECK(sqlite3_prepare_v2(cat_db(c), "SELECT count(*), count(DISTINCT model) FROM embeddings WHERE region_idx=-1",
                             -1, &q, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 4 && sqlite3_column_int(q, 1) == 1);
    sqlite3_finalize(q);
    search_results r;
    CHECK(search(c, "water", NULL, &r) == 0);
    CHECK_EQ_INT(r.n, 2);
    search_results_free(&r);
    /* and a second run has nothing to do */
    CHECK(index_dir(&st) == 0);
    CHECK_EQ_INT(st.described, 0);
    joint_close(m);
    cat_close(c);
}

int main(void)
{
    RUN(setup);
    RUN(describe_stores_embedding_and_tags);
    RUN(a_tag_word_finds_what_the_structured_stage_cannot);
    RUN(nothing_matches_well);
    RUN(similar_images);
    RUN(new_model_recomputes_from_stored_features);
    return test_summary();
}
