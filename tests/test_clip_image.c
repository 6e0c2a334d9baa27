/* test_clip_image.c — CLIP's image preprocessing against PIL (OpenAI's
 * pipeline, in tests/clip_ref.py) pixel for pixel on the Debian darknet
 * sample photos, and whole images end to end through a random checkpoint. */
#include "test.h"

#include "clip_test_util.h"
#include "models/clip/clip.h"

static const char *tmp;
static const char *photos[] = {"dog", "eagle", "giraffe", "person", "horses", "kite", "scream"};
#define NPHOTOS (int)(sizeof photos / sizeof photos[0])
static int ref_ok;

static const char *photo(int i)
{
    static char p[256];
    snprintf(p, sizeof p, "/usr/share/darknet/data/%s.jpg", photos[i]);
    return p;
}

TEST(preprocess_matches_pil)
{
    if (!ref_ok) SKIP("needs /usr/bin/python3 with torch/numpy/PIL, the darknet photos and the OpenAI vocabulary");
    for (int i = 0; i < NPHOTOS; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.f32", tmp, photos[i]);
        ierr e = {0};
        size_t len;
        float *ref = (float *)file_read_all(path, &len, &e);
        CHECKF(ref && len == 3 * 224 * 224 * sizeof(float), "%s: %s", path, e.msg);
        img im = {0};
        img_load_opts o = {0};
        CHECKF(img_load(photo(i), &o, &im, NULL, &e) == 0, "%s", e.msg);
        float *mine = xmalloc(3 * 224 * 224 * sizeof *mine);
        clip_preprocess(&im, 224, mine);
        double d = clip_max_diff(mine, ref, 3 * 224 * 224);
        printf("  %s %dx%d: max |imgdex - PIL| = %g\n", photos[i], im.w, im.h, d);
        img_free(&im);
        free(mine);
        free(ref);
        CHECKF(d < 1e-5, "%s: preprocessing differs from PIL's by %g", photos[i], d);
    }
}

/* Decoded photos through the f32 random checkpoint: imgdex (img_load +
 * clip_embed_images) against the reference (PIL + PyTorch). */
TEST(images_end_to_end)
{
    if (!ref_ok) SKIP("needs the reference");
    char dir[1024], json[1024];
    snprintf(dir, sizeof dir, "%s/f32", tmp);
    snprintf(json, sizeof json, "%s/photos.json", tmp);
    ierr e = {0};
    clip_model *m = clip_open(dir, &e);
    CHECKF(m, "%s", e.msg);
    int d = clip_dim(m), rows, dim;
    float *ref = clip_ref_rows(json, "image", &rows, &dim);
    CHECK(ref && rows == NPHOTOS && dim == d);
    img ims[NPHOTOS];
    const img *ptrs[NPHOTOS];
    for (int i = 0; i < NPHOTOS; i++) {
        img_load_opts o = {0};
        CHECKF(img_load(photo(i), &o, &ims[i], NULL, &e) == 0, "%s", e.msg);
        ptrs[i] = &ims[i];
    }
    float *out = xmalloc((size_t)NPHOTOS * d * sizeof *out);
    CHECKF(clip_embed_images(m, ptrs, NPHOTOS, out, &e) == 0, "%s", e.msg);
    double diff = clip_max_diff(out, ref, (size_t)NPHOTOS * d);
    printf("  %d photos: max |imgdex - reference| = %.3g\n", NPHOTOS, diff);
    CHECKF(diff <= 1e-4, "image embeddings differ by %g", diff);
    float one[512];
    CHECK(clip_embed_image(m, &ims[3], one, &e) == 0);
    CHECK(clip_max_diff(one, out + 3 * d, (size_t)d) < 1e-5);
    for (int i = 0; i < NPHOTOS; i++) img_free(&ims[i]);
    free(out);
    free(ref);
    clip_close(m);
}

TEST(tiny_and_thin_images)
{
    if (!ref_ok) SKIP("needs the reference checkpoint");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/f32", tmp);
    ierr e = {0};
    clip_model *m = clip_open(dir, &e);
    CHECKF(m, "%s", e.msg);
    /* 1x1, 1x500 and 500x1 images upscale and crop without reading outside. */
    int sizes[3][2] = {{1, 1}, {1, 500}, {500, 1}};
    for (int k = 0; k < 3; k++) {
        img im = {sizes[k][0], sizes[k][1], NULL};
        im.px = xmalloc((size_t)im.w * im.h * 3);
        memset(im.px, 128, (size_t)im.w * im.h * 3);
        float out[512];
        CHECK(clip_embed_image(m, &im, out, &e) == 0);
        double ss = 0;
        for (int i = 0; i < clip_dim(m); i++) ss += (double)out[i] * out[i];
        CHECK_NEAR(ss, 1.0, 1e-4);
        free(im.px);
    }
    img empty = {0, 0, NULL};
    const img *pe = &empty;
    float out[512];
    CHECK(clip_embed_images(m, &pe, 1, out, &e) == -1);
    CHECKF(strstr(e.msg, "empty"), "%s", e.msg);
    clip_close(m);
}

int main(void)
{
    tmp = test_tmpdir("clip-image");
    if (clip_have_torch() && clip_openai_vocab() && access(photo(0), R_OK) == 0) {
        char args[8192], out[1024];
        size_t l = (size_t)snprintf(args, sizeof args, "preprocess --outdir '%s' 224", tmp);
        for (int i = 0; i < NPHOTOS; i++) l += (size_t)snprintf(args + l, sizeof args - l, " '%s'", photo(i));
        int ok = clip_ref(args, NULL) == 0;
        /* One checkpoint (the suite's f32 one, 64x64 input) and its embeddings. */
        size_t n = (size_t)snprintf(args, sizeof args, "gen '%s/f32' --seed 1 --vocab '%s' --text 36,70,3,3 "
                                    "--vision 44,90,4,2,64,16 --proj 24", tmp, clip_openai_vocab());
        (void)n;
        ok = ok && clip_ref(args, NULL) == 0;
        l = (size_t)snprintf(args, sizeof args, "embed '%s/f32'", tmp);
        for (int i = 0; i < NPHOTOS; i++) l += (size_t)snprintf(args + l, sizeof args - l, " --image '%s'", photo(i));
        snprintf(out, sizeof out, "%s/photos.json", tmp);
        ref_ok = ok && clip_ref(args, out) == 0;
        if (!ref_ok) printf("FAIL reference_setup: tests/clip_ref.py failed\n");
    }
    RUN(preprocess_matches_pil);
    RUN(images_end_to_end);
    RUN(tiny_and_thin_images);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd)) {}
    return test_summary();
}
