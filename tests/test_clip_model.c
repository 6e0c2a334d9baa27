/* test_clip_model.c — CLIP's towers against the independent PyTorch
 * reference (tests/clip_ref.py) on random checkpoints the test generates:
 * odd sizes, several layers, both activations, f32, f16 and bf16 weights.
 * Both implementations read the same files and the same pixels; the
 * embeddings must agree to 1e-4 (the reference computes in float64). */
#include "test.h"

#include "clip_test_util.h"
#include "models/text/bpe.h"
#include "models/clip/clip.h"
#include "models/clip/clip_impl.h"

static const char *tmp;

static const char *texts[] = {
    "a photo of a cat",
    "Two dogs playing in the snow!",
    "a diagram",
    "",
    "A man in a red shirt is climbing a rock wall , and another man is holding the rope .",
    "<|endoftext|> inside, then more words &amp; entities's",
};
#define NTEXTS (int)(sizeof texts / sizeof texts[0])

static int suite_ok;

/* The reference already ran (main): compare one checkpoint of its suite. */
static void compare(const char *tag)
{
    if (!clip_have_torch()) SKIP("%s: /usr/bin/python3 with torch, numpy and PIL is needed for the reference", tag);
    if (!clip_openai_vocab()) SKIP("%s: ../shared/data/clip/bpe_simple_vocab_16e6.txt.gz is missing", tag);
    CHECKF(suite_ok, "clip_ref.py suite failed");
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/%s", tmp, tag);
    ierr e = {0};
    clip_model *m = clip_open(dir, &e);
    CHECKF(m, "clip_open: %s", e.msg);
    int d = clip_dim(m), S = clip_image_size(m), nimg = 3;
    snprintf(path, sizeof path, "%s/%s.pix", tmp, tag);
    size_t len;
    float *pixels = (float *)file_read_all(path, &len, &e);
    CHECKF(pixels && len == (size_t)nimg * 3 * S * S * sizeof(float), "%s: %s", path, e.msg);

    snprintf(path, sizeof path, "%s/%s.json", tmp, tag);
    int rows, dim;
    float *rt = clip_ref_rows(path, "text", &rows, &dim);
    CHECK(rt);
    CHECK_EQ_INT(rows, NTEXTS);
    CHECK_EQ_INT(dim, d);
    float *ri = clip_ref_rows(path, "image", &rows, &dim);
    CHECK(ri);
    CHECK_EQ_INT(rows, nimg);

    float *ct = xmalloc((size_t)NTEXTS * d * sizeof *ct), *ci = xmalloc((size_t)nimg * d * sizeof *ci);
    CHECKF(clip_embed_texts(m, texts, NTEXTS, ct, &e) == 0, "%s", e.msg);
    CHECKF(clip_embed_pixels(m, pixels, nimg, ci, &e) == 0, "%s", e.msg);
    double dt = clip_max_diff(ct, rt, (size_t)NTEXTS * d), di = clip_max_diff(ci, ri, (size_t)nimg * d);
    printf("  %s: max |imgdex - reference| text %.3g, image %.3g\n", tag, dt, di);
    CHECKF(dt <= 1e-4, "%s: text embeddings differ by %g", tag, dt);
    CHECKF(di <= 1e-4, "%s: image embeddings differ by %g", tag, di);

    /* One at a time gives the same as the batch. */
    float one[4096];
    CHECK(d <= 4096);
    CHECK(clip_embed_text(m, texts[1], one, &e) == 0);
    CHECK(clip_max_diff(one, ct + d, (size_t)d) < 1e-5);
    CHECK(clip_embed_pixels(m, pixels + (size_t)2 * 3 * S * S, 1, one, &e) == 0);
    CHECK(clip_max_diff(one, ci + 2 * d, (size_t)d) < 1e-5);
    /* Unit length, and the checkpoint's logit scale (log 100). */
    double ss = 0;
    for (int i = 0; i < d; i++) ss += (double)ct[i] * ct[i];
    CHECK_NEAR(ss, 1.0, 1e-5);
    CHECK_NEAR(clip_logit_scale(m), 100.0, 1e-3);
    free(ct);
    free(ci);
    free(rt);
    free(ri);
    free(pixels);
    clip_close(m);
}

/* f32 weights, quick_gelu both towers, vocab.json + merges.txt. */
TEST(reference_f32_quick_gelu) { compare("f32"); }
/* f16 weights, exact gelu both towers. */
TEST(reference_f16_gelu) { compare("f16"); }
/* bf16 weights, gelu text / quick_gelu vision, tokenizer.json. */
TEST(reference_bf16_mixed) { compare("bf16"); }

/* ---- checkpoint problems are errors naming the file ----------------- */

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

TEST(open_errors_name_the_file)
{
    ierr e = {0};
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/nothing-here", tmp);
    CHECK(clip_open(dir, &e) == NULL);
    CHECKF(strstr(e.msg, "config.json"), "%s", e.msg);

    snprintf(dir, sizeof dir, "%s/broken", tmp);
    path_mkdirs(dir, &e);
    snprintf(path, sizeof path, "%s/config.json", dir);
    write_file(path, "{\"text_config\": {\"hidden_size\": 30, \"num_attention_heads\": 7}}", 62);
    err_clear(&e);
    CHECK(clip_open(dir, &e) == NULL);
    CHECKF(strstr(e.msg, "not a multiple") && strstr(e.msg, "config.json"), "%s", e.msg);

    write_file(path, "{}", 2);
    err_clear(&e);
    CHECK(clip_open(dir, &e) == NULL);
    CHECKF(strstr(e.msg, "model.safetensors"), "%s", e.msg);

    /* A valid safetensors file that lacks the tensors. */
    const char hdr[] = "{\"logit_scale\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}";
    unsigned char buf[256] = {0};
    size_t hl = strlen(hdr);
    buf[0] = (unsigned char)hl;
    memcpy(buf + 8, hdr, hl);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    write_file(path, buf, 8 + hl + 4);
    err_clear(&e);
    CHECK(clip_open(dir, &e) == NULL);
    CHECKF(strstr(e.msg, "no tensor 'text_model.embeddings.token_embedding.weight'"), "%s", e.msg);
}

/* The f32 suite checkpoint under configs that do not match it. */
TEST(wrong_shapes_are_refused)
{
    if (!suite_ok) SKIP("needs the PyTorch reference suite");
    char dir[1024], path[1100], cmd[3000];
    snprintf(dir, sizeof dir, "%s/shape", tmp);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && ln -sf '%s/f32/model.safetensors' '%s/f32/vocab.json' '%s/f32/merges.txt' '%s/'",
             dir, tmp, tmp, tmp, dir);
    CHECK(system(cmd) == 0);
    snprintf(path, sizeof path, "%s/config.json", dir);
    const char *more_layers =
        "{\"projection_dim\": 24, \"text_config\": {\"hidden_size\": 36, \"intermediate_size\": 70,"
        "\"num_attention_heads\": 3, \"num_hidden_layers\": 4}, \"vision_config\": {\"hidden_size\": 44,"
        "\"intermediate_size\": 90, \"num_attention_heads\": 4, \"num_hidden_layers\": 2,"
        "\"image_size\": 64, \"patch_size\": 16}}";
    write_file(path, more_layers, strlen(more_layers));
    ierr e = {0};
    CHECK(clip_open(dir, &e) == NULL);
    CHECKF(strstr(e.msg, "no tensor 'text_model.encoder.layers.3.") && strstr(e.msg, "model.safetensors"), "%s", e.msg);
    const char *wider =
        "{\"projection_dim\": 25, \"text_config\": {\"hidden_size\": 36, \"intermediate_size\": 70,"
        "\"num_attention_heads\": 3, \"num_hidden_layers\": 3}, \"vision_config\": {\"hidden_size\": 44,"
        "\"intermediate_size\": 90, \"num_attention_heads\": 4, \"num_hidden_layers\": 2,"
        "\"image_size\": 64, \"patch_size\": 16}}";
    write_file(path, wider, strlen(wider));
    err_clear(&e);
    CHECK(clip_open(dir, &e) == NULL);
    CHECKF(strstr(e.msg, "text_projection.weight' is 24x36, expected 25x36"), "%s", e.msg);
    /* And the right config opens. */
    const char *right =
        "{\"projection_dim\": 24, \"text_config\": {\"hidden_size\": 36, \"intermediate_size\": 70,"
        "\"num_attention_heads\": 3, \"num_hidden_layers\": 3}, \"vision_config\": {\"hidden_size\": 44,"
        "\"intermediate_size\": 90, \"num_attention_heads\": 4, \"num_hidden_layers\": 2,"
        "\"image_size\": 64, \"patch_size\": 16}}";
    write_file(path, right, strlen(right));
    err_clear(&e);
    clip_model *m = clip_open(dir, &e);
    CHECKF(m, "%s", e.msg);
    CHECK_STR(clip_name(m), "shape");
    clip_close(m);
}

int main(void)
{
    tmp = test_tmpdir("clip-model");
    if (clip_have_torch() && clip_openai_vocab()) {
        char path[1024], args[4096];
        snprintf(path, sizeof path, "%s/texts.txt", tmp);
        FILE *f = fopen(path, "w");
        for (int i = 0; f && i < NTEXTS; i++) fprintf(f, "%s\n", texts[i]);
        if (f) fclose(f);
        snprintf(args, sizeof args, "suite '%s' --vocab '%s' --texts '%s'", tmp, clip_openai_vocab(), path);
        suite_ok = clip_ref(args, NULL) == 0;
    }
    RUN(reference_f32_quick_gelu);
    RUN(reference_f16_gelu);
    RUN(reference_bf16_mixed);
    RUN(open_errors_name_the_file);
    RUN(wrong_shapes_are_refused);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd)) {}
    return test_summary();
}
