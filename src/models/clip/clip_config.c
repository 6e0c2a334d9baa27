/* clip_config.c — reading CLIPModel's config.json and naming its tensors. */
#include <math.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "models/clip/clip_impl.h"

/* Hugging Face's CLIPTextConfig / CLIPVisionConfig defaults (ViT-B/32). */
static void defaults(clip_config *c)
{
    memset(c, 0, sizeof *c);
    c->text = (clip_tower_config){.hidden = 512, .inter = 2048, .heads = 8, .layers = 12,
                                  .act = NN_QUICK_GELU, .eps = 1e-5f, .vocab = 49408, .max_pos = 77};
    c->vision = (clip_tower_config){.hidden = 768, .inter = 3072, .heads = 12, .layers = 12,
                                    .act = NN_QUICK_GELU, .eps = 1e-5f, .image = 224, .patch = 32,
                                    .channels = 3};
    c->proj_dim = 512;
    c->logit_scale_init = 2.6592f;
}

static int get_int(const cJSON *o, const char *key, int *dst, int lo, int hi, const char *what,
                   const char *sect, ierr *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return 0;
    /* the range first: (int) of a double outside int range is undefined */
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
        v->valuedouble != floor(v->valuedouble)) {
        err_set(e, "%s: %s%s%s must be an integer in %d..%d", what, sect, *sect ? "." : "", key, lo, hi);
        return -1;
    }
    *dst = (int)v->valuedouble;
    return 0;
}

static int tower(const cJSON *o, clip_tower_config *t, int vision, const char *what, const char *sect,
                 ierr *e)
{
    if (!o) return 0;
    if (!cJSON_IsObject(o)) {
        err_set(e, "%s: %s is not an object", what, sect);
        return -1;
    }
    if (get_int(o, "hidden_size", &t->hidden, 1, 16384, what, sect, e) ||
        get_int(o, "intermediate_size", &t->inter, 1, 65536, what, sect, e) ||
        get_int(o, "num_attention_heads", &t->heads, 1, 256, what, sect, e) ||
        get_int(o, "num_hidden_layers", &t->layers, 1, 256, what, sect, e))
        return -1;
    if (vision) {
        if (get_int(o, "image_size", &t->image, 1, 4096, what, sect, e) ||
            get_int(o, "patch_size", &t->patch, 1, 1024, what, sect, e) ||
            get_int(o, "num_channels", &t->channels, 3, 3, what, sect, e))
            return -1;
    } else {
        if (get_int(o, "vocab_size", &t->vocab, 2, 10000000, what, sect, e) ||
            get_int(o, "max_position_embeddings", &t->max_pos, 2, 100000, what, sect, e))
            return -1;
    }
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(o, "hidden_act");
    if (cJSON_IsString(act)) {
        if (!strcmp(act->valuestring, "quick_gelu")) t->act = NN_QUICK_GELU;
        else if (!strcmp(act->valuestring, "gelu")) t->act = NN_GELU;
        else {
            err_set(e, "%s: %s.hidden_act '%s' is not supported (quick_gelu or gelu)", what, sect,
                    act->valuestring);
            return -1;
        }
    }
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(o, "layer_norm_eps");
    if (cJSON_IsNumber(eps)) {
        if (!(eps->valuedouble > 0 && eps->valuedouble < 1)) {
            err_set(e, "%s: %s.layer_norm_eps must be in (0, 1)", what, sect);
            return -1;
        }
        t->eps = (float)eps->valuedouble;
    }
    return 0;
}

static int check(const clip_tower_config *t, int vision, const char *what, ierr *e)
{
    const char *sect = vision ? "vision_config" : "text_config";
    if (t->hidden % t->heads) {
        err_set(e, "%s: %s.hidden_size %d is not a multiple of num_attention_heads %d", what, sect,
                t->hidden, t->heads);
        return -1;
    }
    if (vision && t->image % t->patch) {
        err_set(e, "%s: vision_config.image_size %d is not a multiple of patch_size %d", what,
                t->image, t->patch);
        return -1;
    }
    return 0;
}

int clip_config_parse(const char *json, size_t len, const char *what, clip_config *c, ierr *e)
{
    defaults(c);
    cJSON *j = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsObject(j)) {
        err_set(e, "%s: not a JSON object", what);
        cJSON_Delete(j);
        return -1;
    }
    int rc = -1;
    /* Older exports carry *_config_dict (what the user set) beside the full
     * *_config dump; apply the dict first so the dump has the last word. */
    if (tower(cJSON_GetObjectItemCaseSensitive(j, "text_config_dict"), &c->text, 0, what, "text_config_dict", e) ||
        tower(cJSON_GetObjectItemCaseSensitive(j, "text_config"), &c->text, 0, what, "text_config", e) ||
        tower(cJSON_GetObjectItemCaseSensitive(j, "vision_config_dict"), &c->vision, 1, what, "vision_config_dict", e) ||
        tower(cJSON_GetObjectItemCaseSensitive(j, "vision_config"), &c->vision, 1, what, "vision_config", e) ||
        get_int(j, "projection_dim", &c->proj_dim, 1, 16384, what, "", e))
        goto out;
    const cJSON *ls = cJSON_GetObjectItemCaseSensitive(j, "logit_scale_init_value");
    if (cJSON_IsNumber(ls)) c->logit_scale_init = (float)ls->valuedouble;
    if (check(&c->text, 0, what, e) || check(&c->vision, 1, what, e)) goto out;
    rc = 0;
out:
    cJSON_Delete(j);
    return rc;
}

int clip_vision_tokens(const clip_tower_config *v)
{
    int g = v->image / v->patch;
    return g * g + 1;
}

static void each_layer(const char *pre, const clip_tower_config *t, clip_layer *L, clip_tensor_fn fn,
                       void *ctx)
{
    char name[160];
    long long D = t->hidden, I = t->inter;
    for (int i = 0; i < t->layers; i++) {
        clip_layer *l = &L[i];
        l->ln1.eps = l->ln2.eps = t->eps;
        l->attn.dq = l->attn.dkv = l->attn.inner = l->attn.dout = t->hidden;
        l->attn.heads = t->heads;
        l->mlp = (nn_mlp){.dim = t->hidden, .inter = t->inter, .out = t->hidden, .act = t->act};
        struct { const char *n; int nd; long long s0, s1; const float **dst; } ts[] = {
            {"layer_norm1.weight", 1, D, 0, &l->ln1.g}, {"layer_norm1.bias", 1, D, 0, &l->ln1.b},
            {"self_attn.q_proj.weight", 2, D, D, &l->attn.q_w}, {"self_attn.q_proj.bias", 1, D, 0, &l->attn.q_b},
            {"self_attn.k_proj.weight", 2, D, D, &l->attn.k_w}, {"self_attn.k_proj.bias", 1, D, 0, &l->attn.k_b},
            {"self_attn.v_proj.weight", 2, D, D, &l->attn.v_w}, {"self_attn.v_proj.bias", 1, D, 0, &l->attn.v_b},
            {"self_attn.out_proj.weight", 2, D, D, &l->attn.o_w}, {"self_attn.out_proj.bias", 1, D, 0, &l->attn.o_b},
            {"layer_norm2.weight", 1, D, 0, &l->ln2.g}, {"layer_norm2.bias", 1, D, 0, &l->ln2.b},
            {"mlp.fc1.weight", 2, I, D, &l->mlp.w1}, {"mlp.fc1.bias", 1, I, 0, &l->mlp.b1},
            {"mlp.fc2.weight", 2, D, I, &l->mlp.w2}, {"mlp.fc2.bias", 1, D, 0, &l->mlp.b2},
        };
        for (size_t k = 0; k < sizeof ts / sizeof ts[0]; k++) {
            snprintf(name, sizeof name, "%s.encoder.layers.%d.%s", pre, i, ts[k].n);
            long long shape[2] = {ts[k].s0, ts[k].s1};
            fn(ctx, name, ts[k].nd, shape, ts[k].dst);
        }
    }
}

void clip_each_tensor(const clip_config *c, clip_tower *text, clip_tower *vision,
                      const float **logit_scale, clip_tensor_fn fn, void *ctx)
{
    const clip_tower_config *t = &c->text, *v = &c->vision;
    long long s[4];
#define T1(name, a, dst) (s[0] = (a), fn(ctx, name, 1, s, dst))
#define T2(name, a, b, dst) (s[0] = (a), s[1] = (b), fn(ctx, name, 2, s, dst))
    T2("text_model.embeddings.token_embedding.weight", t->vocab, t->hidden, &text->tok_emb);
    T2("text_model.embeddings.position_embedding.weight", t->max_pos, t->hidden, &text->pos_emb);
    each_layer("text_model", t, text->layers, fn, ctx);
    T1("text_model.final_layer_norm.weight", t->hidden, &text->final_g);
    T1("text_model.final_layer_norm.bias", t->hidden, &text->final_b);
    T2("text_projection.weight", c->proj_dim, t->hidden, &text->proj);

    T1("vision_model.embeddings.class_embedding", v->hidden, &vision->cls_emb);
    s[0] = v->hidden, s[1] = v->channels, s[2] = v->patch, s[3] = v->patch;
    fn(ctx, "vision_model.embeddings.patch_embedding.weight", 4, s, &vision->patch_w);
    T2("vision_model.embeddings.position_embedding.weight", clip_vision_tokens(v), v->hidden, &vision->pos_emb);
    /* "pre_layrnorm" is how Hugging Face spells it. */
    T1("vision_model.pre_layrnorm.weight", v->hidden, &vision->pre_g);
    T1("vision_model.pre_layrnorm.bias", v->hidden, &vision->pre_b);
    each_layer("vision_model", v, vision->layers, fn, ctx);
    T1("vision_model.post_layernorm.weight", v->hidden, &vision->final_g);
    T1("vision_model.post_layernorm.bias", v->hidden, &vision->final_b);
    T2("visual_projection.weight", c->proj_dim, v->hidden, &vision->proj);
    fn(ctx, "logit_scale", 0, s, logit_scale);
#undef T1
#undef T2
}
