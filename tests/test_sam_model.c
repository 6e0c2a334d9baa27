/* test_sam_model.c — SAM's encoder, prompt encoder and decoder against the
 * independent PyTorch reference (tests/sam_ref.py) on random checkpoints in
 * Hugging Face's SamModel layout: windowed attention with padding, a global
 * layer, relative positions, points, boxes and both together; f32 and bf16
 * weights.  The reference computes in float64; imgdex must agree to 1e-4. */
#include "test.h"

#include "models/sam/sam.h"
#include "models/sam/sam_impl.h"
#include "sam_test_util.h"

static const char *tmp;
static int suite_ok;

/* Prompts in the 64-pixel input frame of the tiny checkpoints. */
static const float pts_a[] = {10, 12}, pts_b[] = {10, 12, 40, 30}, pts_c[] = {0, 0, 63, 50, 31.5f, 7.25f};
static const int lab_a[] = {1}, lab_b[] = {1, 0}, lab_c[] = {0, 1, 1};
static const char *prompts_json =
    "[{\"points\": [[10, 12]], \"labels\": [1]},"
    " {\"points\": [[10, 12], [40, 30]], \"labels\": [1, 0], \"box\": [3, 4, 50, 40]},"
    " {\"box\": [1, 2, 30, 33]},"
    " {\"points\": [[0, 0], [63, 50], [31.5, 7.25]], \"labels\": [0, 1, 1]}]";
#define NPROMPTS 4

static void prompts(sam_prompt *p)
{
    memset(p, 0, NPROMPTS * sizeof *p);
    p[0] = (sam_prompt){1, pts_a, lab_a, 0, {0}};
    p[1] = (sam_prompt){2, pts_b, lab_b, 1, {3, 4, 50, 40}};
    p[2] = (sam_prompt){0, NULL, NULL, 1, {1, 2, 30, 33}};
    p[3] = (sam_prompt){3, pts_c, lab_c, 0, {0}};
}

static void compare(const char *tag)
{
    if (!clip_have_torch()) SKIP("%s: /usr/bin/python3 with torch, numpy and PIL is needed for the reference", tag);
    CHECKF(suite_ok, "sam_ref.py failed to generate the suite");
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/%s", tmp, tag);
    ierr e = {0};
    sam_model *m = sam_open(dir, &e);
    CHECKF(m, "sam_open: %s", e.msg);
    int S = sam_image_size(m), g = sam_embed_size(m), C = sam_embed_dim(m), K = sam_mask_tokens(m);
    CHECK_EQ_INT(S, 64);
    CHECK_EQ_INT(g, 8);
    CHECK_EQ_INT(K, 4);
    snprintf(path, sizeof path, "%s/px.f32", tmp);
    size_t len;
    float *px = (float *)file_read_all(path, &len, &e);
    CHECKF(px && len == (size_t)3 * S * S * sizeof(float), "%s: %s", path, e.msg);
    snprintf(path, sizeof path, "%s/%s.json", tmp, tag);
    cJSON *ref = sam_json_file(path);
    CHECKF(ref, "%s missing", path);

    float *emb = xmalloc((size_t)C * g * g * sizeof *emb);
    CHECKF(sam_embed_pixels(m, px, emb, &e) == 0, "%s", e.msg);
    int n;
    float *remb = sam_json_floats(ref, "embeddings", &n);
    CHECK(remb && n == C * g * g);
    double de = clip_max_diff(emb, remb, (size_t)n);

    sam_prompt p[NPROMPTS];
    prompts(p);
    int G = 4 * g;
    float *masks = xmalloc((size_t)NPROMPTS * K * G * G * sizeof *masks), iou[NPROMPTS * 8];
    CHECKF(sam_decode(m, emb, p, NPROMPTS, masks, iou, &e) == 0, "%s", e.msg);
    double dm = 0, di = 0;
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(ref, "prompts");
    CHECK(cJSON_GetArraySize(rp) == NPROMPTS);
    int i = 0;
    for (const cJSON *it = rp->child; it; it = it->next, i++) {
        float *rm = sam_json_floats(it, "masks", &n);
        CHECK(rm && n == K * G * G);
        double d = clip_max_diff(masks + (size_t)i * K * G * G, rm, (size_t)n);
        dm = d > dm ? d : dm;
        free(rm);
        float *ri = sam_json_floats(it, "iou", &n);
        CHECK(ri && n == K);
        d = clip_max_diff(iou + i * K, ri, (size_t)K);
        di = d > di ? d : di;
        free(ri);
    }
    printf("  %s: max |imgdex - reference| embeddings %.3g, low-res masks %.3g, IoU %.3g\n", tag, de, dm, di);
    CHECKF(de <= 1e-4, "%s: embeddings differ by %g", tag, de);
    CHECKF(dm <= 1e-4, "%s: masks differ by %g", tag, dm);
    CHECKF(di <= 1e-4, "%s: IoU predictions differ by %g", tag, di);
    /* Not vacuous: the masks have both signs and the prompts differ. */
    int pos = 0, neg = 0;
    for (int k = 0; k < G * G; k++) pos += masks[k] > 0, neg += masks[k] < 0;
    CHECK(pos > 0 && neg > 0);
    CHECK(clip_max_diff(masks, masks + (size_t)K * G * G, (size_t)G * G) > 0.1);

    /* One prompt alone gives what it gave in the batch. */
    float *one = xmalloc((size_t)K * G * G * sizeof *one), iou1[8];
    CHECK(sam_decode(m, emb, &p[1], 1, one, iou1, &e) == 0);
    CHECK(clip_max_diff(one, masks + (size_t)K * G * G, (size_t)K * G * G) < 1e-5);
    free(one);
    free(remb);
    free(masks);
    free(emb);
    free(px);
    cJSON_Delete(ref);
    sam_close(m);
}

TEST(reference_f32) { compare("f32"); }
TEST(reference_bf16) { compare("bf16"); }

/* sam_preprocess against PIL: the same resized pixels, the same floats. */
TEST(preprocess_matches_pil)
{
    if (!suite_ok) SKIP("needs the PyTorch reference suite");
    char path[1100];
    ierr e = {0};
    img im = {0};
    snprintf(path, sizeof path, "%s/photo.png", tmp);
    CHECKF(img_load(path, NULL, &im, NULL, &e) == 0, "%s", e.msg);
    int sizes[] = {64, 1024};
    for (int s = 0; s < 2; s++) {
        int S = sizes[s], rw, rh;
        char ref[1100], args[2400];
        snprintf(ref, sizeof ref, "%s/pre%d.f32", tmp, S);
        snprintf(args, sizeof args, "preprocess '%s' '%s' --size %d", path, ref, S);
        CHECK(sam_ref(args, "/dev/null") == 0);
        size_t len;
        float *rp = (float *)file_read_all(ref, &len, &e);
        CHECK(rp && len == (size_t)3 * S * S * sizeof(float));
        float *cp = xmalloc((size_t)3 * S * S * sizeof *cp);
        sam_preprocess(&im, S, cp, &rw, &rh);
        CHECK_EQ_INT(rw, S);
        CHECK_EQ_INT(rh, (int)(im.h * (double)S / im.w + 0.5));
        double d = clip_max_diff(cp, rp, (size_t)3 * S * S);
        printf("  preprocess %d: max diff %.3g\n", S, d);
        CHECKF(d < 1e-5, "preprocess at %d differs by %g", S, d);
        free(cp);
        free(rp);
    }
    img_free(&im);
}

static void write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(s, f);
        fclose(f);
    }
}

TEST(open_errors_name_the_file)
{
    ierr e = {0};
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/nothing-here", tmp);
    CHECK(sam_open(dir, &e) == NULL);
    CHECKF(strstr(e.msg, "config.json"), "%s", e.msg);

    snprintf(dir, sizeof dir, "%s/broken", tmp);
    path_mkdirs(dir, &e);
    snprintf(path, sizeof path, "%s/config.json", dir);
    write_file(path, "{\"vision_config\": {\"hidden_size\": 30, \"num_attention_heads\": 7}}");
    err_clear(&e);
    CHECK(sam_open(dir, &e) == NULL);
    CHECKF(strstr(e.msg, "num_attention_heads") && strstr(e.msg, "config.json"), "%s", e.msg);
    write_file(path, "{\"mask_decoder_config\": {\"hidden_act\": \"swish\"}}");
    err_clear(&e);
    CHECK(sam_open(dir, &e) == NULL);
    CHECKF(strstr(e.msg, "swish"), "%s", e.msg);
    write_file(path, "{}");
    err_clear(&e);
    CHECK(sam_open(dir, &e) == NULL);
    CHECKF(strstr(e.msg, "model.safetensors"), "%s", e.msg);
}

/* The tiny checkpoint under a config that does not fit it. */
TEST(wrong_shapes_are_refused)
{
    if (!suite_ok) SKIP("needs the PyTorch reference suite");
    char dir[1024], path[1100], cmd[3000];
    snprintf(dir, sizeof dir, "%s/shape", tmp);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && ln -sf '%s/f32/model.safetensors' '%s/' && cp '%s/f32/config.json' '%s/'",
             dir, tmp, dir, tmp, dir);
    CHECK(system(cmd) == 0);
    ierr e = {0};
    sam_model *m = sam_open(dir, &e);
    CHECKF(m, "%s", e.msg);
    CHECK_STR(sam_name(m), "shape");
    sam_close(m);
    /* A fourth layer the checkpoint does not have. */
    snprintf(path, sizeof path, "%s/config.json", dir);
    size_t len;
    char *cfg = (char *)file_read_all(path, &len, &e);
    CHECK(cfg);
    char *at = strstr(cfg, "\"num_hidden_layers\": 3");
    CHECK(at);
    at[strlen("\"num_hidden_layers\": ")] = '4';
    write_file(path, cfg);
    err_clear(&e);
    CHECK(sam_open(dir, &e) == NULL);
    CHECKF(strstr(e.msg, "no tensor 'vision_encoder.layers.3.") && strstr(e.msg, "model.safetensors"), "%s", e.msg);
    /* A wider window: the relative position tables no longer fit. */
    at[strlen("\"num_hidden_layers\": ")] = '3';
    char *w = strstr(cfg, "\"window_size\": 3");
    CHECK(w);
    w[strlen("\"window_size\": ")] = '4';
    write_file(path, cfg);
    err_clear(&e);
    CHECK(sam_open(dir, &e) == NULL);
    CHECKF(strstr(e.msg, "rel_pos_h") && strstr(e.msg, "expected 7x"), "%s", e.msg);
    free(cfg);
}

int main(void)
{
    tmp = test_tmpdir("sam-model");
    if (clip_have_torch()) {
        char args[4096], path[1100];
        snprintf(path, sizeof path, "%s/prompts.json", tmp);
        write_file(path, prompts_json);
        snprintf(args, sizeof args, "image '%s/photo.png' 48 40 --seed 3", tmp);
        suite_ok = sam_ref(args, NULL) == 0;
        snprintf(args, sizeof args, "preprocess '%s/photo.png' '%s/px.f32' --size 64", tmp, tmp);
        suite_ok = suite_ok && sam_ref(args, "/dev/null") == 0;
        const char *tags[] = {"f32", "bf16"};
        for (int i = 0; i < 2 && suite_ok; i++) {
            snprintf(args, sizeof args, "gen '%s/%s' --seed %d --dtype %s", tmp, tags[i], i + 1, tags[i]);
            suite_ok = sam_ref(args, NULL) == 0;
            snprintf(args, sizeof args, "run '%s/%s' '%s/px.f32' '%s' '%s/%s.json'", tmp, tags[i], tmp, path, tmp, tags[i]);
            suite_ok = suite_ok && sam_ref(args, NULL) == 0;
        }
    }
    RUN(reference_f32);
    RUN(reference_bf16);
    RUN(preprocess_matches_pil);
    RUN(open_errors_name_the_file);
    RUN(wrong_shapes_are_refused);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd)) {}
    return test_summary();
}
