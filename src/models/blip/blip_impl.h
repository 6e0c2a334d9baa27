/* blip_impl.h — BLIP internals shared by blip_*.c and the tests. */
#ifndef IMGDEX_BLIP_IMPL_H
#define IMGDEX_BLIP_IMPL_H

#include "engine/safetensors.h"
#include "models/blip/blip.h"
#include "models/nn/blocks.h"
#include "models/nn/hfdir.h"
#include "models/text/wordpiece.h"

typedef struct blip_text_config {
    int hidden, inter, heads, layers, vocab, max_pos, enc_hidden;
    int bos, pad, sep;          /* [DEC] starts a caption, [SEP] ends it */
    nn_act act;
    float eps;
} blip_text_config;

typedef struct blip_vision_config {
    int hidden, inter, heads, layers, image, patch;
    nn_act act;
    float eps;
} blip_vision_config;

typedef struct blip_config {
    blip_text_config text;
    blip_vision_config vision;
} blip_config;

/* A BlipConfig config.json (text_config, vision_config), the published
 * base model's values for what is absent.  -1 + e naming `what`. */
int blip_config_parse(const char *json, size_t len, const char *what, blip_config *c, ierr *e);
/* (image / patch)^2 + 1 */
int blip_vision_tokens(const blip_vision_config *v);

/* ViT layer, pre-LN: x += attn(ln1(x)); x += mlp(ln2(x)). */
typedef struct blip_vision_layer {
    nn_norm ln1, ln2;
    nn_attn attn;               /* from the fused qkv tensor */
    nn_mlp mlp;
} blip_vision_layer;

/* BERT layer, post-LN: x = ln(x + self(x)); x = ln(x + cross(x, image));
 * x = ln(x + ffn(x)). */
typedef struct blip_text_layer {
    nn_attn self, cross;
    nn_norm self_ln, cross_ln, ffn_ln;
    nn_mlp ffn;
} blip_text_layer;

struct blip_model {
    char *dir, *name;
    blip_config cfg;
    hf_weights w;
    wp_vocab *vocab;
    /* vision */
    const float *cls_emb, *patch_w, *patch_b, *vpos_emb;
    blip_vision_layer *vl;
    nn_norm post_ln;
    /* text */
    const float *word_emb, *tpos_emb;
    nn_norm emb_ln;
    blip_text_layer *tl;
    const float *head_w, *head_b, *dec_w, *dec_b;
    nn_norm head_ln;
};

/* BLIP's preprocessing: RGB resized to size x size (PIL-compatible bicubic),
 * / 255, CLIP's mean and std; chw gets 3 * size * size floats. */
void blip_preprocess(const img *im, int size, float *chw);
/* Vision tower: chw (3 x S x S) to out (tokens x vision hidden), post-layernormed. */
void blip_encode_pixels(const blip_model *m, const float *chw, float *out);
/* [DEC] then the prompt's word pieces; returns the count (<= max). */
int blip_prompt_ids(const blip_model *m, const char *prompt, int *ids, int max);

/* Called with the raw logits of each decoding step: rows = live beams
 * (1 when greedy), each vocab floats, beams in the search's order. */
typedef void (*blip_step_fn)(void *ctx, int step, int rows, const float *logits, int vocab);

typedef struct blip_hyp {
    int *ids, n;
    float score;
} blip_hyp;

/* Generate after prompt (nprompt ids) attending to the image embeddings:
 * the best sequence (prompt included, [SEP] ended unless cut at
 * max_length) goes to *best (malloc'd, *nbest ids).  When hyps is not NULL
 * it gets the finished hypotheses, best first (*nhyps; free with
 * blip_hyps_free).  0, or -1 + e. */
int blip_generate(const blip_model *m, const float *image, const int *prompt, int nprompt,
                  const blip_opts *o, blip_step_fn cb, void *cb_ctx, int **best, int *nbest,
                  blip_hyp **hyps, int *nhyps, ierr *e);
void blip_hyps_free(blip_hyp *h, int n);
/* The caption of ids: special tokens skipped; caller frees. */
char *blip_decode(const blip_model *m, const int *ids, int n);

/* The text decoder with its key/value caches, for `beams` sequences. */
typedef struct blip_dec blip_dec;
blip_dec *blip_dec_new(const blip_model *m, const float *image, int beams, int max_len);
void blip_dec_free(blip_dec *d);
/* Feed n more ids per beam (beams x n, row by beam); logits of each beam's
 * last position into logits (beams x vocab). */
void blip_dec_step(blip_dec *d, const int *ids, int n, float *logits);
/* Beam j continues beam src[j]'s cache. */
void blip_dec_reorder(blip_dec *d, const int *src);

#endif
