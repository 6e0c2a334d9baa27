/* blip_config.c — reading a BlipForConditionalGeneration config.json. */
#include <math.h>
#include <cjson/cJSON.h>
#include <string.h>

#include "models/blip/blip_impl.h"

/* The published blip-image-captioning-base values. */
static void defaults(blip_config *c)
{
    c->text = (blip_text_config){.hidden = 768, .inter = 3072, .heads = 12, .layers = 12, .vocab = 30524,
                                 .max_pos = 512, .enc_hidden = 768, .bos = 30522, .pad = 0, .sep = 102,
                                 .act = NN_GELU, .eps = 1e-12f};
    c->vision = (blip_vision_config){.hidden = 768, .inter = 3072, .heads = 12, .layers = 12, .image = 384,
                                     .patch = 16, .act = NN_GELU, .eps = 1e-5f};
}

static int get_int(const cJSON *o, const char *key, int *dst, int lo, int hi, const char *what,
                   const char *sect, ierr *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return 0;
    /* the range first: (int) of a double outside int range is undefined */
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
        v->valuedouble != floor(v->valuedouble)) {
        err_set(e, "%s: %s.%s must be an integer in %d..%d", what, sect, key, lo, hi);
        return -1;
    }
    *dst = (int)v->valuedouble;
    return 0;
}

static int get_act_eps(const cJSON *o, nn_act *act, float *eps, const char *what, const char *sect, ierr *e)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "hidden_act");
    if (cJSON_IsString(a) && nn_act_parse(a->valuestring, act)) {
        err_set(e, "%s: %s.hidden_act '%s' is not supported (gelu, gelu_new, quick_gelu, relu)", what, sect,
                a->valuestring);
        return -1;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "layer_norm_eps");
    if (cJSON_IsNumber(v)) {
        if (!(v->valuedouble > 0 && v->valuedouble < 1)) {
            err_set(e, "%s: %s.layer_norm_eps must be in (0, 1)", what, sect);
            return -1;
        }
        *eps = (float)v->valuedouble;
    }
    return 0;
}

static int text(const cJSON *o, blip_text_config *t, const char *what, ierr *e)
{
    const char *s = "text_config";
    if (get_int(o, "hidden_size", &t->hidden, 1, 16384, what, s, e) ||
        get_int(o, "intermediate_size", &t->inter, 1, 65536, what, s, e) ||
        get_int(o, "num_attention_heads", &t->heads, 1, 256, what, s, e) ||
        get_int(o, "num_hidden_layers", &t->layers, 1, 256, what, s, e) ||
        get_int(o, "vocab_size", &t->vocab, 2, 10000000, what, s, e) ||
        get_int(o, "max_position_embeddings", &t->max_pos, 2, 100000, what, s, e) ||
        get_int(o, "encoder_hidden_size", &t->enc_hidden, 1, 16384, what, s, e) ||
        get_int(o, "bos_token_id", &t->bos, 0, 10000000, what, s, e) ||
        get_int(o, "pad_token_id", &t->pad, 0, 10000000, what, s, e) ||
        get_int(o, "sep_token_id", &t->sep, 0, 10000000, what, s, e))
        return -1;
    return get_act_eps(o, &t->act, &t->eps, what, s, e);
}

static int vision(const cJSON *o, blip_vision_config *v, const char *what, ierr *e)
{
    const char *s = "vision_config";
    if (get_int(o, "hidden_size", &v->hidden, 1, 16384, what, s, e) ||
        get_int(o, "intermediate_size", &v->inter, 1, 65536, what, s, e) ||
        get_int(o, "num_attention_heads", &v->heads, 1, 256, what, s, e) ||
        get_int(o, "num_hidden_layers", &v->layers, 1, 256, what, s, e) ||
        get_int(o, "image_size", &v->image, 1, 4096, what, s, e) ||
        get_int(o, "patch_size", &v->patch, 1, 1024, what, s, e))
        return -1;
    return get_act_eps(o, &v->act, &v->eps, what, s, e);
}

int blip_config_parse(const char *json, size_t len, const char *what, blip_config *c, ierr *e)
{
    defaults(c);
    cJSON *j = cJSON_ParseWithLength(json, len);
    int rc = -1;
    if (!cJSON_IsObject(j)) {
        err_set(e, "%s: not a JSON object", what);
        goto out;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "text_config");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "vision_config");
    if ((t && !cJSON_IsObject(t)) || (v && !cJSON_IsObject(v))) {
        err_set(e, "%s: text_config and vision_config must be objects", what);
        goto out;
    }
    if ((t && text(t, &c->text, what, e)) || (v && vision(v, &c->vision, what, e))) goto out;
    const blip_text_config *tc = &c->text;
    const blip_vision_config *vc = &c->vision;
    if (tc->hidden % tc->heads || vc->hidden % vc->heads) {
        err_set(e, "%s: hidden_size must be a multiple of num_attention_heads", what);
        goto out;
    }
    if (vc->image % vc->patch) {
        err_set(e, "%s: vision_config.image_size %d is not a multiple of patch_size %d", what, vc->image,
                vc->patch);
        goto out;
    }
    if (tc->enc_hidden != vc->hidden) {
        err_set(e, "%s: text_config.encoder_hidden_size %d differs from vision_config.hidden_size %d", what,
                tc->enc_hidden, vc->hidden);
        goto out;
    }
    if (tc->bos >= tc->vocab || tc->sep >= tc->vocab || tc->pad >= tc->vocab) {
        err_set(e, "%s: text_config token ids must be below vocab_size %d", what, tc->vocab);
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(j);
    return rc;
}

int blip_vision_tokens(const blip_vision_config *v)
{
    int g = v->image / v->patch;
    return g * g + 1;
}
