/* test_clip_config.c — config.json parsing for the published CLIP shapes
 * (ViT-B/32, B/16, L/14, L/14 at 336 px) without their weights: the
 * parameter counts implied by our tensor list must equal the published
 * models' (Hugging Face's model cards), and bad configs are refused.
 * Also the safetensors loader's bounds checks and the nn ops. */
#include "test.h"

#include "engine/ops_nn.h"
#include "engine/safetensors.h"
#include "models/clip/clip_impl.h"

static const char *tmp;

typedef struct { long long params; int tensors; } counter;

static void count(void *ctx, const char *name, int ndim, const long long *shape, const float **dst)
{
    (void)name;
    (void)dst;
    counter *c = ctx;
    long long n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    c->params += n;
    c->tensors++;
}

static long long params_of(const clip_config *c, int *tensors)
{
    clip_tower t = {0}, v = {0};
    t.layers = xcalloc((size_t)c->text.layers, sizeof(clip_layer));
    v.layers = xcalloc((size_t)c->vision.layers, sizeof(clip_layer));
    const float *ls;
    counter k = {0, 0};
    clip_each_tensor(c, &t, &v, &ls, count, &k);
    free(t.layers);
    free(v.layers);
    *tensors = k.tensors;
    return k.params;
}

/* The shapes of OpenAI's four ViT CLIPs, written as Hugging Face's
 * config.json files state them. */
static const struct {
    const char *name, *json;
    int tokens, proj;
    long long params;
} shapes[] = {
    {"clip-vit-base-patch32",
     "{\"projection_dim\": 512, \"logit_scale_init_value\": 2.6592,"
     " \"text_config\": {\"hidden_size\": 512, \"intermediate_size\": 2048, \"num_attention_heads\": 8,"
     "  \"num_hidden_layers\": 12, \"hidden_act\": \"quick_gelu\", \"vocab_size\": 49408, \"max_position_embeddings\": 77},"
     " \"vision_config\": {\"hidden_size\": 768, \"intermediate_size\": 3072, \"num_attention_heads\": 12,"
     "  \"num_hidden_layers\": 12, \"image_size\": 224, \"patch_size\": 32, \"hidden_act\": \"quick_gelu\"}}",
     50, 512, 151277313},
    {"clip-vit-base-patch16",
     "{\"projection_dim\": 512, \"text_config\": {\"hidden_size\": 512, \"intermediate_size\": 2048,"
     "  \"num_attention_heads\": 8, \"num_hidden_layers\": 12},"
     " \"vision_config\": {\"hidden_size\": 768, \"intermediate_size\": 3072, \"num_attention_heads\": 12,"
     "  \"num_hidden_layers\": 12, \"image_size\": 224, \"patch_size\": 16}}",
     197, 512, 149620737},
    {"clip-vit-large-patch14",
     "{\"projection_dim\": 768, \"text_config\": {\"hidden_size\": 768, \"intermediate_size\": 3072,"
     "  \"num_attention_heads\": 12, \"num_hidden_layers\": 12, \"projection_dim\": 768},"
     " \"vision_config\": {\"hidden_size\": 1024, \"intermediate_size\": 4096, \"num_attention_heads\": 16,"
     "  \"num_hidden_layers\": 24, \"image_size\": 224, \"patch_size\": 14, \"projection_dim\": 768}}",
     257, 768, 427616513},
    {"clip-vit-large-patch14-336",
     "{\"projection_dim\": 768, \"text_config_dict\": {\"hidden_size\": 768, \"intermediate_size\": 3072,"
     "  \"num_attention_heads\": 12, \"num_hidden_layers\": 12},"
     " \"vision_config_dict\": {\"hidden_size\": 1024, \"intermediate_size\": 4096, \"num_attention_heads\": 16,"
     "  \"num_hidden_layers\": 24, \"image_size\": 336, \"patch_size\": 14}}",
     577, 768, 427944193},
};

TEST(published_shapes)
{
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        clip_config c;
        ierr e = {0};
        CHECKF(clip_config_parse(shapes[i].json, strlen(shapes[i].json), shapes[i].name, &c, &e) == 0, "%s", e.msg);
        CHECK_EQ_INT(clip_vision_tokens(&c.vision), shapes[i].tokens);
        CHECK_EQ_INT(c.proj_dim, shapes[i].proj);
        CHECK_EQ_INT(c.text.max_pos, 77);
        CHECK_EQ_INT(c.text.vocab, 49408);
        CHECK(c.text.act == NN_QUICK_GELU && c.vision.act == NN_QUICK_GELU);
        int tensors;
        long long p = params_of(&c, &tensors);
        printf("  %s: %lld parameters in %d tensors, %d image tokens\n", shapes[i].name, p, tensors,
               shapes[i].tokens);
        CHECKF(p == shapes[i].params, "%s: %lld parameters, published %lld", shapes[i].name, p, shapes[i].params);
        CHECK_EQ_INT(tensors, 16 * (c.text.layers + c.vision.layers) + 14);
    }
}

TEST(bad_configs)
{
    static const struct { const char *json, *want; } bad[] = {
        {"[1, 2]", "not a JSON object"},
        {"{\"text_config\": {\"hidden_size\": 512, \"num_attention_heads\": 7}}", "not a multiple"},
        {"{\"vision_config\": {\"image_size\": 225, \"patch_size\": 32}}", "image_size 225"},
        {"{\"vision_config\": {\"hidden_act\": \"relu\"}}", "hidden_act 'relu'"},
        {"{\"text_config\": {\"num_hidden_layers\": -3}}", "num_hidden_layers"},
        {"{\"text_config\": {\"hidden_size\": 1e12}}", "hidden_size"},
        {"{\"projection_dim\": \"x\"}", "projection_dim"},
        {"{\"vision_config\": 3}", "vision_config is not an object"},
        {"{\"vision_config\": {\"num_channels\": 4}}", "num_channels"},
        {"{\"text_config\": {\"layer_norm_eps\": 0}}", "layer_norm_eps"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clip_config c;
        ierr e = {0};
        CHECKF(clip_config_parse(bad[i].json, strlen(bad[i].json), "cfg.json", &c, &e) == -1, "accepted %s", bad[i].json);
        CHECKF(strstr(e.msg, "cfg.json") && strstr(e.msg, bad[i].want), "'%s' for %s", e.msg, bad[i].json);
    }
}

/* ---- safetensors ------------------------------------------------------ */

static void put(const char *name, const char *header, const void *data, size_t n, char *path)
{
    snprintf(path, 1024, "%s/%s", tmp, name);
    FILE *f = fopen(path, "wb");
    size_t hl = strlen(header);
    unsigned char len[8] = {0};
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)((unsigned long long)hl >> (8 * i));
    fwrite(len, 1, 8, f);
    fwrite(header, 1, hl, f);
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

TEST(safetensors_dtypes)
{
    /* f16: 1, -2, 0.5, 65504, smallest subnormal; bf16: 1, -3.5; f32: pi. */
    unsigned char d[32] = {0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0xff, 0x7b, 0x01, 0x00,
                           0x80, 0x3f, 0x60, 0xc0,
                           0xdb, 0x0f, 0x49, 0x40};
    char path[1024];
    put("ok.safetensors",
        "{\"__metadata__\":{\"format\":\"pt\"},\"h\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[0,10]},"
        "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[10,14]},"
        "\"f\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[14,18]},"
        "\"i\":{\"dtype\":\"I64\",\"shape\":[0],\"data_offsets\":[18,18]}}",
        d, 18, path);
    ierr e = {0};
    st_file *f = st_open(path, &e);
    CHECKF(f, "%s", e.msg);
    CHECK_EQ_INT(st_count(f), 4);
    float *own = NULL;
    long long s5[1] = {5}, s2[1] = {2}, any[1] = {-1};
    const float *h = st_get_f32(f, "h", 1, s5, &own, &e);
    CHECK(h && own);
    CHECK(h[0] == 1.0f && h[1] == -2.0f && h[2] == 0.5f && h[3] == 65504.0f && h[4] == ldexpf(1, -24));
    free(own);
    const float *b = st_get_f32(f, "b", 1, s2, &own, &e);
    CHECK(b && b[0] == 1.0f && b[1] == -3.5f);
    free(own);
    const float *pf = st_get_f32(f, "f", 1, any, &own, &e);
    CHECK(pf && any[0] == 1);
    CHECK_NEAR(pf[0], 3.14159265, 1e-6);
    free(own);
    any[0] = -1;
    CHECK(st_get_f32(f, "i", 1, any, &own, &e) == NULL);
    CHECKF(strstr(e.msg, "I64"), "%s", e.msg);
    err_clear(&e);
    CHECK(st_get_f32(f, "h", 1, s2, &own, &e) == NULL);
    CHECKF(strstr(e.msg, "is 5, expected 2"), "%s", e.msg);
    st_close(f);
}

TEST(safetensors_hostile_files)
{
    static const struct { const char *header; size_t data; const char *want; } bad[] = {
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "past the end"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,12]}}", 16, "12 data bytes for 4"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,0]}}", 16, "bad data_offsets"},
        {"{\"a\":{\"dtype\":\"Q4\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "unknown dtype"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", 16, "bad shape"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4]}}", 16, "lacks"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 16, "dimensions"},
        {"{\"a\": 5}", 16, "not an object"},
        {"not json at all", 16, "not a JSON object"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 16, "names 'a' twice"},
        {"{\"__metadata__\":{\"format\":\"pt\"},\"__metadata__\":{\"x\":\"y\"}}", 16,
         "names '__metadata__' twice"},
    };
    unsigned char zeros[64] = {0};
    char path[1024];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put("bad.safetensors", bad[i].header, zeros, bad[i].data, path);
        ierr e = {0};
        st_file *f = st_open(path, &e);
        if (f) st_close(f);
        CHECKF(!f, "accepted %s", bad[i].header);
        CHECKF(strstr(e.msg, "bad.safetensors") && strstr(e.msg, bad[i].want), "'%s' for %s", e.msg, bad[i].header);
    }
    /* A header length past the end, and a tiny file. */
    snprintf(path, sizeof path, "%s/short.safetensors", tmp);
    FILE *f = fopen(path, "wb");
    fwrite("\xff\xff\xff\xff\x00\x00\x00\x00{}", 1, 10, f);
    fclose(f);
    ierr e = {0};
    CHECK(st_open(path, &e) == NULL);
    CHECKF(strstr(e.msg, "header length"), "%s", e.msg);
    f = fopen(path, "wb");
    fwrite("abc", 1, 3, f);
    fclose(f);
    err_clear(&e);
    CHECK(st_open(path, &e) == NULL);
    CHECKF(strstr(e.msg, "too short"), "%s", e.msg);
}

/* ---- ops -------------------------------------------------------------- */

TEST(nn_ops)
{
    float x[4] = {1, 2, 3, 4}, g[4] = {1, 1, 1, 1}, b[4] = {0, 0, 0, 0}, y[4];
    nn_layernorm(x, y, 1, 4, g, b, 0);
    CHECK_NEAR(y[0], -1.3416408, 1e-6);
    CHECK_NEAR(y[3], 1.3416408, 1e-6);
    float s[3] = {1000, 1001, 1002};
    nn_softmax_rows(s, 1, 3);
    CHECK_NEAR(s[0] + s[1] + s[2], 1.0, 1e-6);
    CHECK_NEAR(s[2], 0.66524096, 1e-6);
    float a[2] = {1, -1};
    nn_gelu(a, 2);
    CHECK_NEAR(a[0], 0.8413447, 1e-6);
    CHECK_NEAR(a[1], -0.1586553, 1e-6);
    float q[1] = {1};
    nn_quick_gelu(q, 1);
    CHECK_NEAR(q[0], 1 / (1 + exp(-1.702)), 1e-6);
    /* y = x W^T + b, with accumulation. */
    float X[2 * 3] = {1, 2, 3, 4, 5, 6}, W[2 * 3] = {1, 0, -1, 0.5f, 0.5f, 0.5f}, B[2] = {10, 20}, Y[4] = {0};
    nn_linear(X, 2, 3, W, B, 2, Y, 0);
    CHECK(Y[0] == 8 && Y[1] == 23 && Y[2] == 8 && Y[3] == 27.5f);
    nn_linear(X, 2, 3, W, NULL, 2, Y, 1);
    CHECK(Y[0] == 6 && Y[3] == 35);
    /* Causal attention: the first token sees only itself. */
    float qkv[2 * 6] = {1, 0, 0, 1, 5, 6, 0, 1, 1, 0, 7, 8}, out[4], sc[4];
    nn_attention(qkv, qkv + 2, qkv + 4, 6, 2, 2, 1, 1, out, sc);
    CHECK(out[0] == 5 && out[1] == 6);
    nn_attention(qkv, qkv + 2, qkv + 4, 6, 2, 2, 1, 0, out, sc);
    CHECK(out[0] > 5 && out[0] < 7);
}

int main(void)
{
    tmp = test_tmpdir("clip-config");
    RUN(published_shapes);
    RUN(bad_configs);
    RUN(safetensors_dtypes);
    RUN(safetensors_hostile_files);
    RUN(nn_ops);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd)) {}
    return test_summary();
}
