/* test_blip_model.c — BLIP's image encoder, text decoder and generation
 * against the independent PyTorch reference (tests/blip_ref.py) on random
 * checkpoints in the Hugging Face layout: three shapes (the decoder wider
 * or narrower than the image encoder), f32, bf16 and f16 weights, tied and
 * untied heads, gelu and gelu_new.  Both sides read the same files and
 * pixels; the reference computes in float64 without a key/value cache.
 * The image embeddings and the logits of every step (every beam) must
 * agree to 1e-4, and the ids and caption must be identical. */
#include "test.h"

#include <cjson/cJSON.h>
#include <math.h>

#include "clip_test_util.h"   /* the Python probe, JSON rows, max diff */
#include "models/blip/blip.h"
#include "models/blip/blip_impl.h"

static const char *tmp;
static int suite_ok;

typedef struct steps {
    const cJSON *ref;      /* the reference's "steps" */
    int nsteps;
    double worst;
    int bad_shape;
} steps;

static void on_step(void *ctx, int step, int rows, const float *logits, int vocab)
{
    steps *s = ctx;
    s->nsteps = step + 1;
    const cJSON *st = cJSON_GetArrayItem(s->ref, step);
    if (!st || cJSON_GetArraySize(st) != rows) {
        s->bad_shape = 1;
        return;
    }
    int r = 0;
    for (const cJSON *row = st->child; row; row = row->next, r++) {
        if (cJSON_GetArraySize(row) != vocab) {
            s->bad_shape = 1;
            return;
        }
        int k = 0;
        for (const cJSON *v = row->child; v; v = v->next, k++) {
            double d = fabs(v->valuedouble - logits[(size_t)r * vocab + k]);
            if (d > s->worst || d != d) s->worst = d != d ? 1e30 : d;
        }
    }
}

static cJSON *read_json(const char *path)
{
    size_t len;
    ierr e = {0};
    char *s = (char *)file_read_all(path, &len, &e);
    if (!s) return NULL;
    cJSON *j = cJSON_ParseWithLength(s, len);
    free(s);
    return j;
}

/* One case of the reference suite: checkpoint ck, options as blip_ref.py's CASES. */
static void run_case(const char *name, const char *ck, const char *prompt, int beams, int max_length,
                     int min_length, float penalty)
{
    if (!clip_have_torch()) SKIP("/usr/bin/python3 with torch, numpy and PIL is needed for the reference");
    CHECKF(suite_ok, "blip_ref.py suite failed");
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/%s", tmp, ck);
    ierr e = {0};
    blip_model *m = blip_open(dir, &e);
    CHECKF(m, "blip_open: %s", e.msg);
    snprintf(path, sizeof path, "%s/%s.json", tmp, name);
    cJSON *ref = read_json(path);
    CHECKF(ref, "%s unreadable", path);
    /* The pixels the reference preprocessed with PIL. */
    int S = blip_image_size(m), T = blip_vision_tokens(&m->cfg.vision), Dv = m->cfg.vision.hidden;
    snprintf(path, sizeof path, "%s/%s.pix", tmp, ck);
    size_t len;
    float *px = (float *)file_read_all(path, &len, &e);
    CHECKF(px && len == (size_t)3 * S * S * sizeof(float), "%s: %s", path, e.msg);
    float *image = xmalloc((size_t)T * Dv * sizeof *image);
    blip_encode_pixels(m, px, image);
    const cJSON *vis = cJSON_GetObjectItemCaseSensitive(ref, "vision");
    CHECK_EQ_INT(cJSON_GetArraySize(vis), T * Dv);
    double dv = 0;
    int k = 0;
    for (const cJSON *v = vis->child; v; v = v->next, k++) dv = fmax(dv, fabs(v->valuedouble - image[k]));
    CHECKF(dv <= 1e-4, "%s: image embeddings differ by %g", name, dv);

    blip_opts o;
    blip_opts_default(&o);
    o.beams = beams, o.max_length = max_length, o.min_length = min_length, o.repetition_penalty = penalty;
    int prompt_ids[64];
    int np = blip_prompt_ids(m, prompt, prompt_ids, 64);
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(ref, "prompt");
    CHECK_EQ_INT(np, cJSON_GetArraySize(rp));
    k = 0;
    for (const cJSON *v = rp->child; v; v = v->next, k++) CHECK_EQ_INT(prompt_ids[k], v->valueint);

    steps s = {cJSON_GetObjectItemCaseSensitive(ref, "steps"), 0, 0, 0};
    int *ids, n;
    CHECKF(blip_generate(m, image, prompt_ids, np, &o, on_step, &s, &ids, &n, NULL, NULL, &e) == 0, "%s", e.msg);
    CHECKF(!s.bad_shape, "%s: step logits have another shape than the reference's", name);
    CHECK_EQ_INT(s.nsteps, cJSON_GetArraySize(s.ref));
    CHECKF(s.worst <= 1e-4, "%s: step logits differ by %g", name, s.worst);
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(ref, "ids");
    CHECK_EQ_INT(n, cJSON_GetArraySize(rid));
    k = 0;
    for (const cJSON *v = rid->child; v; v = v->next, k++)
        CHECKF(ids[k] == v->valueint, "%s: id %d is %d, the reference's %d", name, k, ids[k], v->valueint);
    char *text = blip_decode(m, ids, n);
    CHECK_STR(text, cJSON_GetObjectItemCaseSensitive(ref, "text")->valuestring);
    printf("  %s: %d steps, image %.2g, logits %.2g: \"%s\"\n", name, s.nsteps, dv, s.worst, text);

    /* The whole-image path (C preprocessing) writes the same caption. */
    snprintf(path, sizeof path, "%s/img.png", tmp);
    img im = {0};
    img_load_opts lo = {0};
    CHECKF(img_load(path, &lo, &im, NULL, &e) == 0, "%s", e.msg);
    o.prompt = prompt;
    char *c = blip_caption(m, &im, &o, &e);
    CHECK_STR(c, text);
    float *chw = xmalloc((size_t)3 * S * S * sizeof *chw);
    blip_preprocess(&im, S, chw);
    CHECKF(clip_max_diff(chw, px, (size_t)3 * S * S) < 1e-5, "preprocessing differs from PIL's by %g",
           clip_max_diff(chw, px, (size_t)3 * S * S));
    free(chw);
    free(c);
    img_free(&im);
    free(text);
    free(ids);
    free(image);
    free(px);
    cJSON_Delete(ref);
    blip_close(m);
}

TEST(f32_greedy) { run_case("f32_greedy", "f32", "", 1, 20, 0, 1.0f); }
TEST(f32_prompt_min_length_penalty) { run_case("f32_prompt_penalty", "f32", "a photography of", 1, 20, 8, 1.3f); }
TEST(f32_beam3) { run_case("f32_beam3", "f32", "", 3, 20, 0, 1.0f); }
TEST(f32_beam4_prompt_penalty) { run_case("f32_beam4_prompt", "f32", "a dog on the grass", 4, 14, 0, 1.2f); }
TEST(bf16_untied_gelu_new_greedy) { run_case("bf16_greedy", "bf16", "", 1, 16, 0, 1.0f); }
TEST(bf16_untied_beam2_prompt) { run_case("bf16_beam2", "bf16", "the man", 2, 20, 0, 1.0f); }
TEST(f16_beam5_min_length_penalty) { run_case("f16_beam5", "f16", "", 5, 12, 3, 1.5f); }

/* Beam search offers its finished hypotheses best first, each a caption. */
TEST(captions_best_first)
{
    if (!clip_have_torch()) SKIP("needs the reference checkpoints");
    CHECKF(suite_ok, "blip_ref.py suite failed");
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/f32", tmp);
    snprintf(path, sizeof path, "%s/img.png", tmp);
    ierr e = {0};
    blip_model *m = blip_open(dir, &e);
    CHECKF(m, "%s", e.msg);
    img im = {0};
    img_load_opts lo = {0};
    CHECKF(img_load(path, &lo, &im, NULL, &e) == 0, "%s", e.msg);
    blip_opts o;
    blip_opts_default(&o);
    o.beams = 3;
    char *caps[4] = {0};
    float sc[4];
    int n = blip_captions(m, &im, &o, caps, sc, 4, &e);
    CHECKF(n >= 1 && n <= 3, "%d captions: %s", n, e.msg);
    char *one = blip_caption(m, &im, &o, &e);
    CHECK_STR(caps[0], one);
    for (int i = 1; i < n; i++) CHECKF(sc[i] <= sc[i - 1], "scores not descending");
    for (int i = 0; i < n; i++) free(caps[i]);
    free(one);
    img_free(&im);
    blip_close(m);
}

TEST(open_errors_name_the_file)
{
    ierr e = {0};
    char dir[1024], cmd[2400];
    snprintf(dir, sizeof dir, "%s/none", tmp);
    CHECK(!blip_open(dir, &e));
    CHECK(strstr(e.msg, "config.json"));
    if (!suite_ok) SKIP("the rest needs the reference checkpoints");
    /* A checkpoint missing one tensor: the error names the file and the tensor. */
    snprintf(dir, sizeof dir, "%s/broken", tmp);
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s' && cp '%s/f32/config.json' '%s/f32/vocab.txt' '%s/' && "
             CLIP_PY " -c \"import sys; sys.path.insert(0, '%s/tests'); import blip_ref as r, torch; r.torch = torch; "
             "W = r.st_read('%s/f32/model.safetensors'); del W['text_decoder.bert.encoder.layer.1.crossattention.self.key.weight']; "
             "r.st_write('%s/model.safetensors', {k: v.numpy() for k, v in W.items()}, 'f32')\"",
             dir, tmp, tmp, dir, test_srcdir(), tmp, dir);
    CHECK(system(cmd) == 0);
    e = (ierr){0};
    CHECK(!blip_open(dir, &e));
    CHECKF(strstr(e.msg, "model.safetensors") && strstr(e.msg, "layer.1.crossattention.self.key.weight"), "%s", e.msg);
    /* A config whose decoder does not fit its image encoder. */
    snprintf(cmd, sizeof cmd, "sed -i 's/\"encoder_hidden_size\": 36/\"encoder_hidden_size\": 37/' '%s/config.json'", dir);
    CHECK(system(cmd) == 0);
    e = (ierr){0};
    CHECK(!blip_open(dir, &e));
    CHECKF(strstr(e.msg, "config.json") && strstr(e.msg, "encoder_hidden_size"), "%s", e.msg);
}

TEST(config_defaults_are_the_published_base)
{
    blip_config c;
    ierr e = {0};
    const char *j = "{\"text_config\": {}, \"vision_config\": {\"hidden_act\": \"gelu\"}}";
    CHECK(blip_config_parse(j, strlen(j), "t", &c, &e) == 0);
    CHECK_EQ_INT(c.vision.image, 384);
    CHECK_EQ_INT(blip_vision_tokens(&c.vision), 577);
    CHECK_EQ_INT(c.text.vocab, 30524);
    CHECK_EQ_INT(c.text.bos, 30522);
    CHECK_EQ_INT(c.text.sep, 102);
    /* -large: a 1024-wide, 24-layer encoder that the decoder cross-attends to. */
    const char *l = "{\"text_config\": {\"encoder_hidden_size\": 1024}, \"vision_config\": {\"hidden_size\": 1024,"
                    " \"intermediate_size\": 4096, \"num_hidden_layers\": 24, \"num_attention_heads\": 16}}";
    CHECK(blip_config_parse(l, strlen(l), "t", &c, &e) == 0);
    CHECK_EQ_INT(c.vision.layers, 24);
    const char *bad = "{\"vision_config\": {\"hidden_act\": \"swish\"}}";
    e = (ierr){0};
    CHECK(blip_config_parse(bad, strlen(bad), "cfg", &c, &e) != 0);
    CHECK(strstr(e.msg, "swish"));
    const char *bad2 = "{\"vision_config\": {\"image_size\": 100}}";
    e = (ierr){0};
    CHECK(blip_config_parse(bad2, strlen(bad2), "cfg", &c, &e) != 0);
    CHECK(strstr(e.msg, "patch_size"));
}

int main(void)
{
    tmp = test_tmpdir("blip-model");
    if (clip_have_torch()) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd, CLIP_PY " '%s/tests/blip_ref.py' suite '%s'", test_srcdir(), tmp);
        suite_ok = system(cmd) == 0;
    }
    RUN(config_defaults_are_the_published_base);
    RUN(f32_greedy);
    RUN(f32_prompt_min_length_penalty);
    RUN(f32_beam3);
    RUN(f32_beam4_prompt_penalty);
    RUN(bf16_untied_gelu_new_greedy);
    RUN(bf16_untied_beam2_prompt);
    RUN(f16_beam5_min_length_penalty);
    RUN(captions_best_first);
    RUN(open_errors_name_the_file);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd)) {}
    return test_summary();
}
