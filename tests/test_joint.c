/* test_joint.c — imgdex's own model file (src/models/joint.h): a generated
 * model survives save -> load, inference equals a plain reference
 * computation written here from the formulas in joint.h, half precision
 * stays close, and broken files fail with the file named. */
#include "test.h"

#include "base/base.h"
#include "engine/safetensors.h"
#include "models/joint.h"

enum { F = 37, H = 19, D = 11, E = 13, V = 6, T = 5, TH = 7 };

static unsigned rng = 12345;
static float rnd(void)
{
    rng = rng * 1103515245u + 12345u;
    return ((float)((rng >> 8) & 0xffff) / 65535.0f - 0.5f) * 2.0f;
}

static float mean[F], scale[F], w0[H * F], b0[H], w1[D * H], b1[D];
static float vecs[V * E], tw[D * E], tb[D], g0[TH * F], gb0[TH], g1[T * TH], gb1[T];
static const char *words[V] = {"dog", "beach", "run", "snow", "t-shirt", "water"};
static const char *tags[T] = {"dog", "beach", "snow", "grass", "run"};

static void fill(float *a, int n, float k)
{
    for (int i = 0; i < n; i++) a[i] = rnd() * k;
}

static joint_spec make_spec(int f32)
{
    fill(mean, F, 1);
    for (int i = 0; i < F; i++) scale[i] = 0.5f + 0.4f * rnd();
    fill(w0, H * F, 0.3f); fill(b0, H, 0.1f); fill(w1, D * H, 0.3f); fill(b1, D, 0.1f);
    fill(vecs, V * E, 1); fill(tw, D * E, 0.3f); fill(tb, D, 0.1f);
    fill(g0, TH * F, 0.3f); fill(gb0, TH, 0.1f); fill(g1, T * TH, 0.3f); fill(gb1, T, 0.1f);
    static const char *mk[] = {"trained_on", "licence", "dev"};
    static const char *mv[] = {"synthetic\ntest", "none: test data", "R@1 0.5"};
    joint_spec s = {
        .name = "test-joint", .feature_kind = "features/1", .feature_dim = F, .dim = D,
        .feat_mean = mean, .feat_scale = scale,
        .image_layers = 2, .image_sizes = {F, H, D}, .image_w = {w0, w1}, .image_b = {b0, b1},
        .nwords = V, .word_dim = E, .words = words, .word_vecs = vecs, .text_w = tw, .text_b = tb,
        .ntags = T, .tags = tags, .tagger_layers = 2, .tagger_sizes = {F, TH, T},
        .tagger_w = {g0, g1}, .tagger_b = {gb0, gb1},
        .meta_keys = mk, .meta_vals = mv, .nmeta = 3, .f32 = f32,
    };
    return s;
}

/* Reference: written out from the formulas, in double. */
static void ref_layer(const float *w, const float *b, const double *in, int nin, double *out, int nout, int relu)
{
    for (int o = 0; o < nout; o++) {
        double s = b[o];
        for (int i = 0; i < nin; i++) s += (double)w[o * nin + i] * in[i];
        out[o] = relu && s < 0 ? 0 : s;
    }
}

static void ref_image(const float *feat, double *out)
{
    double x[F], h[H];
    for (int i = 0; i < F; i++) x[i] = ((double)feat[i] - mean[i]) * scale[i];
    ref_layer(w0, b0, x, F, h, H, 1);
    ref_layer(w1, b1, h, H, out, D, 0);
    double n = 0;
    for (int i = 0; i < D; i++) n += out[i] * out[i];
    for (int i = 0; i < D; i++) out[i] /= sqrt(n);
}

static void ref_tags(const float *feat, double *out)
{
    double x[F], h[TH];
    for (int i = 0; i < F; i++) x[i] = ((double)feat[i] - mean[i]) * scale[i];
    ref_layer(g0, gb0, x, F, h, TH, 1);
    ref_layer(g1, gb1, h, TH, out, T, 0);
    for (int i = 0; i < T; i++) out[i] = 1 / (1 + exp(-out[i]));
}

static void ref_text(const int *ix, const float *wt, int n, double *out)
{
    double p[E] = {0}, ws = 0;
    for (int k = 0; k < n; k++) {
        for (int i = 0; i < E; i++) p[i] += wt[k] * vecs[ix[k] * E + i];
        ws += wt[k];
    }
    for (int i = 0; i < E; i++) p[i] /= ws;
    ref_layer(tw, tb, p, E, out, D, 0);
    double s = 0;
    for (int i = 0; i < D; i++) s += out[i] * out[i];
    for (int i = 0; i < D; i++) out[i] /= sqrt(s);
}

static const char *save_tmp(const char *name, const joint_spec *s)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir("joint"), name);
    ierr e = {0};
    if (joint_save(path, s, &e) != 0) {
        fprintf(stderr, "joint_save: %s\n", e.msg);
        return NULL;
    }
    return path;
}

static void check_model(int f32, double tol)
{
    joint_spec s = make_spec(f32);
    const char *path = save_tmp(f32 ? "m32.safetensors" : "m16.safetensors", &s);
    CHECK(path);
    ierr e = {0};
    joint_model *m = joint_open(path, &e);
    CHECKF(m, "%s", e.msg);
    CHECK_STR(joint_feature_kind(m), "features/1");
    CHECK_EQ_INT(joint_feature_dim(m), F);
    CHECK_EQ_INT(joint_dim(m), D);
    CHECK_EQ_INT(joint_ntags(m), T);
    CHECK_EQ_INT(joint_nwords(m), V);
    CHECK(!strncmp(joint_id(m), "test-joint@", 11) && strlen(joint_id(m)) == 11 + 8);
    CHECK_STR(joint_meta(m, "trained_on"), "synthetic\ntest");
    CHECK_STR(joint_meta(m, "licence"), "none: test data");
    for (int i = 0; i < V; i++) CHECK_EQ_INT(joint_word_index(m, words[i]), i);
    CHECK_EQ_INT(joint_word_index(m, "cat"), -1);
    CHECK_EQ_INT(joint_word_index(m, ""), -1);
    for (int i = 0; i < T; i++) {
        CHECK_EQ_INT(joint_tag_index(m, tags[i]), i);
        CHECK_STR(joint_tag_word(m, i), tags[i]);
    }
    CHECK_EQ_INT(joint_tag_index(m, "water"), -1);

    float feat[F], out[D], probs[T];
    double ref[D], rt[T];
    for (int trial = 0; trial < 5; trial++) {
        fill(feat, F, 2);
        joint_embed_image(m, feat, out);
        ref_image(feat, ref);
        double n = 0;
        for (int i = 0; i < D; i++) {
            CHECK_NEAR(out[i], ref[i], tol);
            n += (double)out[i] * out[i];
        }
        CHECK_NEAR(n, 1.0, 1e-5);
        joint_tag_probs(m, feat, probs);
        ref_tags(feat, rt);
        for (int i = 0; i < T; i++) CHECK_NEAR(probs[i], rt[i], tol);
    }
    const char *bag[] = {"run", "cat", "dog", "dog"};
    float wt[] = {2.0f, 5.0f, 1.0f, 0.5f};
    int ix[] = {2, 0, 0};
    float rw[] = {2.0f, 1.0f, 0.5f};
    CHECK_EQ_INT(joint_embed_lemmas(m, bag, wt, 4, out), 3);
    ref_text(ix, rw, 3, ref);
    for (int i = 0; i < D; i++) CHECK_NEAR(out[i], ref[i], tol);
    /* NULL weights: each 1 */
    const char *bag2[] = {"snow", "water"};
    int ix2[] = {3, 5};
    float one[] = {1, 1};
    CHECK_EQ_INT(joint_embed_lemmas(m, bag2, NULL, 2, out), 2);
    ref_text(ix2, one, 2, ref);
    for (int i = 0; i < D; i++) CHECK_NEAR(out[i], ref[i], tol);
    const char *none[] = {"cat", "zebra"};
    CHECK_EQ_INT(joint_embed_lemmas(m, none, NULL, 2, out), 0);
    for (int i = 0; i < D; i++) CHECK(out[i] == 0);
    joint_close(m);
}

TEST(joint_roundtrip_f32_matches_reference) { check_model(1, 2e-5); }

/* Half precision weights: the same answers to within f16 rounding. */
TEST(joint_roundtrip_f16_close_to_reference) { check_model(0, 2e-2); }

TEST(joint_f16_file_is_about_half)
{
    joint_spec s = make_spec(1);
    const char *p32 = save_tmp("a32.safetensors", &s);
    CHECK(p32);
    char keep[600];
    snprintf(keep, sizeof keep, "%s", p32);
    long long n32 = 0, n16 = 0;
    FILE *f = fopen(keep, "rb");
    CHECK(f);
    fseek(f, 0, SEEK_END); n32 = ftell(f); fclose(f);
    s.f32 = 0;
    const char *p16 = save_tmp("a16.safetensors", &s);
    CHECK(p16);
    f = fopen(p16, "rb");
    CHECK(f);
    fseek(f, 0, SEEK_END); n16 = ftell(f); fclose(f);
    /* matrices in half, vectors in float: 2 bytes less per matrix entry
     * (give or take the header's offsets, which have other digits) */
    long long weights = (long long)(H * F + D * H + V * E + D * E + TH * F + T * TH);
    CHECKF(llabs(n32 - n16 - weights * 2) < 64, "f32 %lld, f16 %lld bytes", n32, n16);
}

TEST(joint_f16_conversion)
{
    /* values exactly representable in half survive; rounding is to nearest */
    const float exact[] = {0, 1, -2, 0.5f, 65504.0f, 6.103515625e-05f, 5.9604644775390625e-08f, -0.375f};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        CHECK_NEAR(st_f16_to_f32(st_f32_to_f16(exact[i])), exact[i], 0);
    CHECK(isinf(st_f16_to_f32(st_f32_to_f16(1e6f))));
    /* the half ulp at 1 is 1/1024: halfway cases go to the even neighbour */
    CHECK_NEAR(st_f16_to_f32(st_f32_to_f16(1.0f + 1.0f / 2048)), 1.0, 0);
    CHECK_NEAR(st_f16_to_f32(st_f32_to_f16(1.0f + 3.0f / 2048)), 1.0f + 2.0f / 1024, 0);
    CHECK_NEAR(st_f16_to_f32(st_f32_to_f16(1.0f + 3.0f / 4096)), 1.0f + 1.0f / 1024, 0);
    for (int i = 0; i < 1000; i++) {
        float x = rnd() * 100;
        float y = st_f16_to_f32(st_f32_to_f16(x));
        CHECK(fabsf(y - x) <= fabsf(x) * (1.0f / 2048) + 1e-7f);
    }
}

TEST(joint_bad_files_name_the_file)
{
    const char *dir = test_tmpdir("joint-bad");
    char path[700];
    ierr e = {0};
    snprintf(path, sizeof path, "%s/missing.safetensors", dir);
    CHECK(!joint_open(path, &e));
    CHECKF(strstr(e.msg, "missing.safetensors"), "%s", e.msg);

    /* a valid safetensors file that is not a joint model */
    float x[2] = {1, 2};
    st_out t = {"x", x, 1, {2}, ST_F32};
    const char *k[] = {"format"}, *v[] = {"something-else"};
    snprintf(path, sizeof path, "%s/other.safetensors", dir);
    CHECK(st_write(path, &t, 1, k, v, 1, &e) == 0);
    err_clear(&e);
    CHECK(!joint_open(path, &e));
    CHECKF(strstr(e.msg, "other.safetensors") && strstr(e.msg, "not an imgdex joint model"), "%s", e.msg);

    /* a joint model with a tensor cut short */
    joint_spec s = make_spec(1);
    snprintf(path, sizeof path, "%s/cut.safetensors", dir);
    CHECK(joint_save(path, &s, &e) == 0);
    FILE *f = fopen(path, "rb+");
    CHECK(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    CHECK(truncate(path, n - 100) == 0);
    err_clear(&e);
    CHECK(!joint_open(path, &e));
    CHECKF(strstr(e.msg, "cut.safetensors"), "%s", e.msg);

    /* a layer of the image stack that is not floats: refused at open, though
     * the stacks are only converted on their first use */
    s = make_spec(1);
    snprintf(path, sizeof path, "%s/dtype.safetensors", dir);
    err_clear(&e);
    CHECK(joint_save(path, &s, &e) == 0);
    f = fopen(path, "rb+");
    CHECK(f);
    char head[4096] = {0};
    size_t got = f ? fread(head, 1, sizeof head - 1, f) : 0;
    char *at = got > 8 ? strstr(head + 8, "\"image.1.weight\"") : NULL, *dt = at ? strstr(at, "F32") : NULL;
    CHECK(dt);
    if (f && dt) {
        fseek(f, dt - head, SEEK_SET);
        fwrite("I32", 1, 3, f);   /* the same element size: the file stays well-formed */
    }
    if (f) fclose(f);
    err_clear(&e);
    CHECK(!joint_open(path, &e));
    CHECKF(strstr(e.msg, "dtype.safetensors") && strstr(e.msg, "image.1.weight") && strstr(e.msg, "I32"), "%s",
           e.msg);

    /* a vocabulary that does not match the tensors */
    s.nwords = V - 1;
    snprintf(path, sizeof path, "%s/vocab.safetensors", dir);
    err_clear(&e);
    CHECK(joint_save(path, &s, &e) == 0);
    joint_model *m = joint_open(path, &e);
    /* V-1 words and V-1 rows is consistent: it loads, without the last word */
    CHECKF(m, "%s", e.msg);
    CHECK_EQ_INT(joint_word_index(m, "water"), -1);
    joint_close(m);

    /* words with a newline cannot be written */
    const char *badw[V] = {"dog", "be\nach", "run", "snow", "t-shirt", "water"};
    s = make_spec(1);
    s.words = badw;
    err_clear(&e);
    CHECK(joint_save(path, &s, &e) != 0);
    CHECKF(strstr(e.msg, "newline"), "%s", e.msg);

    /* a word listed twice */
    const char *dupw[V] = {"dog", "beach", "run", "dog", "t-shirt", "water"};
    s.words = dupw;
    err_clear(&e);
    CHECK(joint_save(path, &s, &e) == 0);
    CHECK(!joint_open(path, &e));
    CHECKF(strstr(e.msg, "'dog' is listed twice"), "%s", e.msg);
}

TEST(joint_metadata_roundtrip_in_safetensors)
{
    const char *dir = test_tmpdir("joint-meta");
    char path[700];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    float x[3] = {1.5f, -2, 3};
    st_out t[2] = {{"a", x, 1, {3}, ST_F16}, {"b", x, 2, {1, 3}, ST_BF16}};
    const char *k[] = {"quote", "unicode"}, *v[] = {"say \"hi\"\n\tthere\\", "caf\xc3\xa9"};
    ierr e = {0};
    CHECK(st_write(path, t, 2, k, v, 2, &e) == 0);
    st_file *f = st_open(path, &e);
    CHECKF(f, "%s", e.msg);
    CHECK_STR(st_meta(f, "quote"), v[0]);
    CHECK_STR(st_meta(f, "unicode"), v[1]);
    CHECK(!st_meta(f, "absent"));
    CHECK_EQ_INT(st_count(f), 2);
    float *owned = NULL;
    long long shape[2] = {1, -1};
    const float *b = st_get_f32(f, "b", 2, shape, &owned, &e);
    CHECKF(b, "%s", e.msg);
    CHECK_EQ_INT(shape[1], 3);
    for (int i = 0; i < 3; i++) CHECK_NEAR(b[i], x[i], 0);
    free(owned);
    st_close(f);
}

TEST(joint_default_path_env)
{
    char buf[4096];
    setenv("IMGDEX_JOINT", "/nowhere/x.safetensors", 1);
    CHECK_STR(path_joint_model(buf, sizeof buf), "/nowhere/x.safetensors");
    ierr e = {0};
    CHECK(!joint_open(NULL, &e));
    CHECKF(strstr(e.msg, "/nowhere/x.safetensors"), "%s", e.msg);
    unsetenv("IMGDEX_JOINT");
    path_joint_model(buf, sizeof buf);
    CHECKF(strstr(buf, "flickr8k-joint.safetensors"), "%s", buf);
}

int main(void)
{
    RUN(joint_roundtrip_f32_matches_reference);
    RUN(joint_roundtrip_f16_close_to_reference);
    RUN(joint_f16_file_is_about_half);
    RUN(joint_f16_conversion);
    RUN(joint_bad_files_name_the_file);
    RUN(joint_metadata_roundtrip_in_safetensors);
    RUN(joint_default_path_env);
    return test_summary();
}
