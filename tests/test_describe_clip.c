/* test_describe_clip.c — the CLIP stage of the describer.
 *
 * 1. With a fake encoder behind the stage's embedder interface, whose
 *    "meaning" we control: a text embeds as the sum of random vectors of its
 *    content words, and the test image embeds as the text "dog running beach
 *    sunny".  Zero-shot tags, the place, region tags and the candidate
 *    caption CLIP picks must follow.
 * 2. With a small random CLIP checkpoint (tests/clip_ref.py gen, Debian's
 *    python3-torch), through the real describer: the stage opens by itself
 *    from $IMGDEX_CLIP_DIR, embeds the image and regions, names itself in
 *    the version, and caches the vocabulary on disk.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <sys/stat.h>

#include "test.h"

#include "describe/internal.h"

enum { DIM = 96 };

static int text_calls, image_calls;

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
    return *s;
}

static void word_vec(const char *w, float *v)
{
    uint64_t s = 1469598103934665603ull;
    for (const char *p = w; *p; p++) s = (s ^ (uint8_t)*p) * 1099511628211ull;
    for (int i = 0; i < DIM; i++) v[i] = (float)((double)(rng_next(&s) >> 11) / 9007199254740992.0 - 0.5);
}

static int stopword(const char *w)
{
    static const char *const sw[] = {"a", "an", "the", "of", "photo", "picture", "at", "in", "on", "that", "is",
                                     "close", "up", "small", "person", "taken", "to", "two", "one"};
    for (size_t i = 0; i < sizeof sw / sizeof sw[0]; i++)
        if (!strcmp(w, sw[i])) return 1;
    return 0;
}

static void text_vec(const char *t, float *out)
{
    memset(out, 0, DIM * sizeof *out);
    char w[64];
    int n = 0;
    for (const char *p = t;; p++) {
        if (*p && (isalnum((unsigned char)*p))) { if (n < 63) w[n++] = (char)tolower((unsigned char)*p); continue; }
        w[n] = 0;
        if (n && !stopword(w)) {
            float v[DIM];
            word_vec(w, v);
            for (int i = 0; i < DIM; i++) out[i] += v[i];
        }
        n = 0;
        if (!*p) break;
    }
    double s = 0;
    for (int i = 0; i < DIM; i++) s += (double)out[i] * out[i];
    if (s == 0) { out[0] = 1; return; }
    for (int i = 0; i < DIM; i++) out[i] /= (float)sqrt(s);
}

static int fake_texts(void *ctx, const char *const *texts, int n, float *out, ierr *e)
{
    (void)ctx; (void)e;
    text_calls += n;
    for (int i = 0; i < n; i++) text_vec(texts[i], out + (size_t)i * DIM);
    return 0;
}

/* The whole picture "is" a dog running on a sunny beach; a crop that is
 * mostly dark "is" a dog. */
static int fake_images(void *ctx, const img *const *ims, int n, float *out, ierr *e)
{
    (void)ctx; (void)e;
    image_calls += n;
    for (int i = 0; i < n; i++) {
        long sum = 0;
        for (int k = 0; k < ims[i]->w * ims[i]->h * 3; k++) sum += ims[i]->px[k];
        double mean = (double)sum / (ims[i]->w * ims[i]->h * 3);
        text_vec(mean > 100 ? "dog running beach sunny" : "dog", out + (size_t)i * DIM);
    }
    return 0;
}

static embedder fake = {NULL, DIM, 100.0f, "fake-clip-test", fake_images, fake_texts};

/* Sand-coloured picture with a dark blob (the "dog") in the lower left. */
static img beach_image(void)
{
    img im = {200, 120, malloc(200 * 120 * 3)};
    for (int y = 0; y < im.h; y++)
        for (int x = 0; x < im.w; x++) {
            uint8_t *p = im.px + ((size_t)y * im.w + x) * 3;
            int dog = x >= 20 && x < 80 && y >= 60 && y < 110;
            p[0] = dog ? 40 : 230; p[1] = dog ? 30 : 200; p[2] = dog ? 20 : 150;
        }
    return im;
}

static void add_region(description *ds, int kind, const char *label, float x0, float y0, float x1, float y1)
{
    ds->regions = realloc(ds->regions, (size_t)(ds->nregions + 1) * sizeof *ds->regions);
    region *r = &ds->regions[ds->nregions++];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    snprintf(r->label, sizeof r->label, "%s", label);
    r->score = 0.9f;
    r->x0 = x0; r->y0 = y0; r->x1 = x1; r->y1 = y1;
    region_geometry(r);
}

static const desc_tag *find_tag(const description *ds, const char *group, const char *label, int region)
{
    for (int i = 0; i < ds->ntags; i++)
        if (!strcmp(ds->tags[i].group, group) && !strcmp(ds->tags[i].label, label) && ds->tags[i].region == region)
            return &ds->tags[i];
    return NULL;
}

TEST(fake_encoder_tags_place_and_caption)
{
    char env[700];
    snprintf(env, sizeof env, "%s/cache", test_tmpdir("describe-clip"));
    setenv("XDG_CACHE_HOME", env, 1);
    ierr e = {0};
    text_calls = 0;
    clip_stage *c = clip_stage_open(&fake, &e);
    CHECKF(c, "%s", e.msg);
    CHECK(text_calls > 1000);   /* the whole vocabulary, prompt-ensembled */
    /* cached on disk for the next process */
    char path[900];
    snprintf(path, sizeof path, "%s/imgdex", env);
    struct stat st;
    CHECK(stat(path, &st) == 0);

    img im = beach_image();
    description ds = {0};
    ds.width = im.w; ds.height = im.h;
    add_region(&ds, REGION_IMAGE, "image", 0, 0, 1, 1);
    add_region(&ds, REGION_OBJECT, "dog", 0.1f, 0.5f, 0.4f, 0.92f);
    char place[48];
    image_calls = 0;
    CHECK(clip_stage_run(c, &im, &ds, place, sizeof place, &e) == 0);
    CHECK_EQ_INT(image_calls, 2);   /* whole image + the dog crop, one batch */
    CHECK(ds.embedding && ds.emb_dim == DIM);
    CHECK_STR(ds.emb_model, "fake-clip-test");
    CHECK(ds.regions[1].embedding && ds.regions[1].emb_dim == DIM);
    CHECKF(find_tag(&ds, "object", "dog", 0), "no dog tag");
    CHECKF(find_tag(&ds, "scene", "beach", 0), "no beach tag");
    CHECKF(find_tag(&ds, "activity", "running", 0), "no running tag");
    CHECKF(find_tag(&ds, "attribute", "sunny", 0), "no sunny tag");
    CHECKF(find_tag(&ds, "object", "dog", 1), "no region tag for the dog crop");
    CHECK(find_tag(&ds, "scene", "kitchen", 0) == NULL);
    for (int i = 0; i < ds.ntags; i++) CHECK(ds.tags[i].score > 0 && ds.tags[i].score <= 1);
    CHECK_STR(place, "beach");
    CHECKF(strstr(ds.scene, "beach") && strstr(ds.scene, "running"), "scene: %s", ds.scene);

    /* the caption stage uses the place */
    caption_build(&ds, place, ds.caption, sizeof ds.caption);
    CHECKF(strstr(ds.caption, "a dog on a beach") == ds.caption, "caption: %s", ds.caption);
    /* CLIP picks the candidate that says everything the image "is" */
    int before = text_calls;
    CHECK(clip_stage_caption(c, &ds, &e) == 0);
    CHECK_STR(ds.clip_caption, "a dog running on a beach");
    int used = text_calls - before;
    CHECK(used > 1);
    /* the same candidates again come from the memo */
    before = text_calls;
    CHECK(clip_stage_caption(c, &ds, &e) == 0);
    CHECK_EQ_INT(text_calls - before, 0);

    char *js = description_to_json(&ds);
    cJSON *root = cJSON_Parse(js);
    free(js);
    CHECK(root);
    CHECK_STR(cJSON_GetObjectItem(root, "clip_caption")->valuestring, "a dog running on a beach");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(root, "tags")) == ds.ntags);
    CHECK_EQ_INT(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "embedding"), "dim")->valueint, DIM);
    cJSON_Delete(root);

    /* a second stage for the same model does not embed the vocabulary again */
    before = text_calls;
    clip_stage *c2 = clip_stage_open(&fake, &e);
    CHECK(c2);
    CHECK(text_calls - before <= 1);   /* the probe text only */
    clip_stage_close(c2);
    clip_stage_close(c);
    description_free(&ds);
    free(im.px);
}

static int have_python_torch(void)
{
    return system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") == 0;
}

TEST(random_checkpoint_through_the_describer)
{
    char vocab[700], cmd[2400], dir[700];
    snprintf(vocab, sizeof vocab, "%s/clip/bpe_simple_vocab_16e6.txt.gz", test_datadir());
    struct stat st;
    if (stat(vocab, &st) != 0) SKIP("no CLIP BPE vocabulary at %s", vocab);
    snprintf(cmd, sizeof cmd, "%s/tests/clip_ref.py", test_srcdir());
    if (stat(cmd, &st) != 0) SKIP("tests/clip_ref.py (CLIP reference) not present");
    if (!have_python_torch()) SKIP("Debian python3-torch not installed");
    const char *tmp = test_tmpdir("describe-clip-real");
    snprintf(dir, sizeof dir, "%s/tiny-clip", tmp);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/clip_ref.py' gen '%s' --vocab '%s' >/dev/null 2>&1",
             test_srcdir(), dir, vocab);
    CHECK(system(cmd) == 0);
    setenv("IMGDEX_CLIP_DIR", dir, 1);
    char cache[800];
    snprintf(cache, sizeof cache, "%s/cache", tmp);
    setenv("XDG_CACHE_HOME", cache, 1);

    describe_opts o;
    describe_opts_default(&o);
    o.ocr = 0;
    ierr e = {0};
    describer *d = describer_open(&o, &e);
    CHECK(d);
    CHECK(describer_stage_on(d, "clip"));
    CHECK(describer_stage_on(d, "clip_caption"));
    const char *v = describer_version(d);
    CHECKF(strstr(v, " clip:") && !strstr(v, "clip:missing"), "version: %s", v);
    o.clip = 0;
    describer *d0 = describer_open(&o, &e);
    CHECK(strcmp(describer_version(d0), v) != 0);   /* re-indexing knows CLIP was added */
    describer_close(d0);

    img im = beach_image();
    description ds;
    CHECKF(describe_image(d, &im, NULL, &ds, &e) == 0, "%s", e.msg);
    CHECK(ds.embedding != NULL);
    CHECK(ds.emb_dim > 0);
    double n2 = 0;
    for (int i = 0; i < ds.emb_dim; i++) n2 += (double)ds.embedding[i] * ds.embedding[i];
    CHECK_NEAR(n2, 1.0, 1e-3);
    CHECK(ds.emb_model[0]);
    CHECKF(strstr(ds.stages, "clip:"), "stages: %s", ds.stages);
    description_free(&ds);
    /* a describer opened later finds the vocabulary cached */
    describer *d2 = describer_open(&o, &e);
    describer_close(d2);
    describer_close(d);
    free(im.px);
    unsetenv("IMGDEX_CLIP_DIR");
}

int main(void)
{
    RUN(fake_encoder_tags_place_and_caption);
    RUN(random_checkpoint_through_the_describer);
    return test_summary();
}
