/* sam_config.c — SamModel's config.json: vision_config, prompt_encoder_config
 * and mask_decoder_config, with Hugging Face SamConfig's defaults (those of
 * sam-vit-base... except the ViT size, which defaults to ViT-B as well). */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "models/sam/sam_impl.h"

static int get_int(const cJSON *o, const char *key, int def, int *out, const char *what, ierr *e)
{
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 ||
        v->valuedouble > 1e7) {
        err_set(e, "%s: \"%s\" must be a non-negative integer", what, key);
        return -1;
    }
    *out = (int)v->valuedouble;
    return 0;
}

static int get_num(const cJSON *o, const char *key, double def, double *out, const char *what, ierr *e)
{
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsNumber(v)) {
        err_set(e, "%s: \"%s\" must be a number", what, key);
        return -1;
    }
    *out = v->valuedouble;
    return 0;
}

static int get_bool(const cJSON *o, const char *key, int def, int *out)
{
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    *out = v && cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
    return 0;
}

static int get_act(const cJSON *o, const char *def, nn_act *out, const char *what, ierr *e)
{
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, "hidden_act") : NULL;
    const char *s = v && cJSON_IsString(v) ? v->valuestring : def;
    if (nn_act_parse(s, out)) {
        err_set(e, "%s: hidden_act \"%s\" is not supported", what, s);
        return -1;
    }
    return 0;
}

int sam_config_parse(const char *json, size_t len, const char *what, sam_config *c, ierr *e)
{
    memset(c, 0, sizeof *c);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        err_set(e, "%s: not a JSON object", what);
        return -1;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "vision_config");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "prompt_encoder_config");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "mask_decoder_config");
    int rc = -1, mlp;
    double x;
    if (get_int(v, "hidden_size", 768, &c->vision.hidden, what, e) ||
        get_int(v, "output_channels", 256, &c->vision.out, what, e) ||
        get_int(v, "num_hidden_layers", 12, &c->vision.layers, what, e) ||
        get_int(v, "num_attention_heads", 12, &c->vision.heads, what, e) ||
        get_int(v, "num_channels", 3, &c->vision.channels, what, e) ||
        get_int(v, "image_size", 1024, &c->vision.image, what, e) ||
        get_int(v, "patch_size", 16, &c->vision.patch, what, e) ||
        get_int(v, "window_size", 14, &c->vision.window, what, e) ||
        get_int(v, "num_pos_feats", 128, &c->vision.pos_feats, what, e) ||
        get_int(v, "mlp_dim", 0, &mlp, what, e) || get_act(v, "gelu", &c->vision.act, what, e))
        goto out;
    if (get_num(v, "layer_norm_eps", 1e-6, &x, what, e)) goto out;
    c->vision.eps = (float)x;
    if (get_num(v, "mlp_ratio", 4.0, &x, what, e)) goto out;
    c->vision.mlp = mlp ? mlp : (int)(c->vision.hidden * x);
    get_bool(v, "qkv_bias", 1, &c->vision.qkv_bias);
    get_bool(v, "use_abs_pos", 1, &c->vision.abs_pos);
    get_bool(v, "use_rel_pos", 1, &c->vision.rel_pos);
    if (c->vision.layers < 1 || c->vision.layers > SAM_MAX_LAYERS) {
        err_set(e, "%s: num_hidden_layers %d is out of range 1..%d", what, c->vision.layers, SAM_MAX_LAYERS);
        goto out;
    }
    const cJSON *gi = v ? cJSON_GetObjectItemCaseSensitive(v, "global_attn_indexes") : NULL;
    if (gi && !cJSON_IsArray(gi)) {
        err_set(e, "%s: global_attn_indexes must be a list", what);
        goto out;
    }
    if (!gi) {
        for (int i = 2; i < c->vision.layers; i += 3) c->vision.global[i] = 1;
    } else {
        const cJSON *it;
        cJSON_ArrayForEach(it, gi)
        {
            if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble >= c->vision.layers) {
                err_set(e, "%s: global_attn_indexes holds a layer that does not exist", what);
                goto out;
            }
            c->vision.global[(int)it->valuedouble] = 1;
        }
    }
    if (get_int(p, "hidden_size", 256, &c->prompt.hidden, what, e) ||
        get_int(p, "image_size", 1024, &c->prompt.image, what, e) ||
        get_int(p, "patch_size", 16, &c->prompt.patch, what, e) ||
        get_int(p, "mask_input_channels", 16, &c->prompt.mask_ch, what, e) ||
        get_int(p, "num_point_embeddings", 4, &c->prompt.npe, what, e))
        goto out;
    if (get_int(p, "image_embedding_size", c->prompt.patch ? c->prompt.image / c->prompt.patch : 0,
                &c->prompt.embed, what, e))
        goto out;
    if (get_int(d, "hidden_size", 256, &c->decoder.hidden, what, e) ||
        get_int(d, "mlp_dim", 2048, &c->decoder.mlp, what, e) ||
        get_int(d, "num_hidden_layers", 2, &c->decoder.layers, what, e) ||
        get_int(d, "num_attention_heads", 8, &c->decoder.heads, what, e) ||
        get_int(d, "attention_downsample_rate", 2, &c->decoder.down, what, e) ||
        get_int(d, "num_multimask_outputs", 3, &c->decoder.nmulti, what, e) ||
        get_int(d, "iou_head_depth", 3, &c->decoder.iou_depth, what, e) ||
        get_int(d, "iou_head_hidden_dim", 256, &c->decoder.iou_hidden, what, e) ||
        get_act(d, "relu", &c->decoder.act, what, e))
        goto out;
    if (get_num(d, "layer_norm_eps", 1e-6, &x, what, e)) goto out;
    c->decoder.eps = (float)x;

    /* What the architecture needs to hold together. */
    const char *bad = NULL;
    int g = c->vision.patch ? c->vision.image / c->vision.patch : 0;
    if (!c->vision.hidden || !c->vision.heads || c->vision.hidden % c->vision.heads)
        bad = "vision hidden_size is not a multiple of num_attention_heads";
    else if (!c->vision.patch || c->vision.image % c->vision.patch)
        bad = "vision image_size is not a multiple of patch_size";
    else if (g > 256 || c->vision.window > 256) bad = "the patch grid and the window must be at most 256 a side";
    else if (c->vision.channels != 3) bad = "only 3-channel images are supported";
    else if (!c->vision.out || !c->vision.mlp) bad = "vision output_channels and mlp_dim must be positive";
    else if (c->prompt.embed != g || c->prompt.image != c->vision.image)
        bad = "the prompt encoder's image and embedding sizes disagree with the vision encoder";
    else if (c->prompt.hidden != c->vision.out || c->decoder.hidden != c->vision.out)
        bad = "prompt and decoder hidden_size must equal vision output_channels";
    else if (2 * c->vision.pos_feats != c->prompt.hidden) bad = "2 * num_pos_feats must equal the prompt hidden_size";
    else if (c->prompt.npe != 4) bad = "num_point_embeddings must be 4";
    else if (c->decoder.hidden % 8 || !c->decoder.heads || !c->decoder.down ||
             c->decoder.hidden % c->decoder.down || (c->decoder.hidden / c->decoder.down) % c->decoder.heads ||
             c->decoder.hidden % c->decoder.heads)
        bad = "decoder hidden_size does not split into its heads";
    else if (c->decoder.layers < 1 || c->decoder.layers > SAM_MAX_LAYERS) bad = "decoder num_hidden_layers is out of range";
    else if (c->decoder.nmulti < 1 || c->decoder.nmulti + 1 > SAM_MAX_TOKENS) bad = "num_multimask_outputs is out of range";
    else if (c->decoder.iou_depth < 2 || c->decoder.iou_depth > SAM_MAX_DEPTH) bad = "iou_head_depth is out of range 2..8";
    else if (!c->decoder.mlp || !c->decoder.iou_hidden) bad = "decoder sizes must be positive";
    if (bad) {
        err_set(e, "%s: %s", what, bad);
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}
