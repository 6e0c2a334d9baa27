/* clip_impl.h — CLIP internals shared by clip_*.c and the tests: the
 * configuration, the weights, and the transformer stack both towers use. */
#ifndef IMGDEX_CLIP_IMPL_H
#define IMGDEX_CLIP_IMPL_H

#include "engine/safetensors.h"
#include "models/clip/clip.h"
#include "models/nn/blocks.h"
#include "models/nn/hfdir.h"
#include "models/text/bpe.h"

typedef struct clip_tower_config {
    int hidden, inter, heads, layers;
    nn_act act;              /* quick_gelu or gelu */
    float eps;
    int vocab, max_pos;           /* text */
    int image, patch, channels;   /* vision */
} clip_tower_config;

typedef struct clip_config {
    clip_tower_config text, vision;
    int proj_dim;
    float logit_scale_init;
} clip_config;

/* Parse a Hugging Face CLIPModel config.json (text_config / vision_config,
 * or the older *_config_dict), Hugging Face's defaults for what is absent.
 * -1 + e naming `what` on malformed or unsupported values. */
int clip_config_parse(const char *json, size_t len, const char *what, clip_config *c, ierr *e);
/* Tokens the vision tower sees: (image/patch)^2 + 1. */
int clip_vision_tokens(const clip_tower_config *v);

/* Pre-LN: x += attn(ln1(x)); x += mlp(ln2(x)). */
typedef struct clip_layer {
    nn_norm ln1, ln2;
    nn_attn attn;
    nn_mlp mlp;
} clip_layer;

typedef struct clip_tower {
    clip_tower_config c;
    clip_layer *layers;
    const float *tok_emb, *pos_emb;           /* text: vocab x D; both: positions x D */
    const float *cls_emb, *patch_w;           /* vision: D; D x C x P x P */
    const float *pre_g, *pre_b;               /* vision pre-layernorm */
    const float *final_g, *final_b;           /* text final / vision post layernorm */
    const float *proj;                        /* proj_dim x D, no bias */
} clip_tower;

/* Every tensor of a CLIPModel checkpoint with this config: calls fn with its
 * name, its expected shape and where its pointer goes in t/v/scale.  The
 * tower structs' layer arrays must be allocated (c->*.layers entries). */
typedef void (*clip_tensor_fn)(void *ctx, const char *name, int ndim, const long long *shape,
                               const float **dst);
void clip_each_tensor(const clip_config *c, clip_tower *text, clip_tower *vision,
                      const float **logit_scale, clip_tensor_fn fn, void *ctx);

struct clip_model {
    char *dir, *name;
    clip_config cfg;
    hf_weights w;
    bpe_vocab *vocab;
    clip_tower text, vision;
    const float *logit_scale;
};

/* Run the encoder stack in place on x (R x D): nseq sequences packed one
 * after another, sequence s has len[s] rows.  causal for the text tower. */
void clip_encoder(const clip_tower *t, float *x, int nseq, const int *len, int causal, nn_work *w);

/* Final layer norm of one row, projection, L2 normalisation: out has proj_dim. */
void clip_head(const clip_tower *t, const float *row, int proj_dim, float *out);

#endif
