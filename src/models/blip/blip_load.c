/* blip_load.c — opening a BlipForConditionalGeneration checkpoint directory.
 *
 * float32 tensors are used in place in the memory-mapped file; f16/bf16 are
 * converted once at open.  The language-model head's weight is the word
 * embedding (tied) unless the file carries its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/blip/blip_impl.h"
#include "models/nn/hfdir.h"
#include "models/models.h"

typedef struct binder {
    blip_model *m;
    ierr *e;
} binder;

/* Bind name (shape d0 x d1 x ...; ndim entries) to *dst. */
static void bind(binder *b, const float **dst, const char *name, int ndim, long long d0, long long d1,
                 long long d2, long long d3)
{
    long long s[4] = {d0, d1, d2, d3};
    *dst = hf_tensor(&b->m->w, name, ndim, s, b->e);
}

static void bind_linear(binder *b, const float **w, const float **bias, const char *pre, long long out,
                        long long in)
{
    char n[256];
    snprintf(n, sizeof n, "%s.weight", pre);
    bind(b, w, n, 2, out, in, 0, 0);
    snprintf(n, sizeof n, "%s.bias", pre);
    bind(b, bias, n, 1, out, 0, 0, 0);
}

static void bind_norm(binder *b, nn_norm *ln, const char *pre, long long d, float eps)
{
    char n[256];
    ln->eps = eps;
    snprintf(n, sizeof n, "%s.weight", pre);
    bind(b, &ln->g, n, 1, d, 0, 0, 0);
    snprintf(n, sizeof n, "%s.bias", pre);
    bind(b, &ln->b, n, 1, d, 0, 0, 0);
}

static void bind_vision(binder *b)
{
    blip_model *m = b->m;
    const blip_vision_config *v = &m->cfg.vision;
    long long D = v->hidden, I = v->inter, P = v->patch;
    char n[256];
    bind(b, &m->cls_emb, "vision_model.embeddings.class_embedding", 3, 1, 1, D, 0);
    bind(b, &m->patch_w, "vision_model.embeddings.patch_embedding.weight", 4, D, 3, P, P);
    bind(b, &m->patch_b, "vision_model.embeddings.patch_embedding.bias", 1, D, 0, 0, 0);
    bind(b, &m->vpos_emb, "vision_model.embeddings.position_embedding", 3, 1, blip_vision_tokens(v), D, 0);
    m->vl = xcalloc((size_t)v->layers, sizeof *m->vl);
    for (int i = 0; i < v->layers; i++) {
        blip_vision_layer *l = &m->vl[i];
        const float *qkv_w = NULL, *qkv_b = NULL;
        snprintf(n, sizeof n, "vision_model.encoder.layers.%d.self_attn.qkv", i);
        bind_linear(b, &qkv_w, &qkv_b, n, 3 * D, D);
        l->attn = (nn_attn){.dq = (int)D, .dkv = (int)D, .inner = (int)D, .dout = (int)D, .heads = v->heads};
        nn_attn_split_qkv(&l->attn, qkv_w, qkv_b);
        snprintf(n, sizeof n, "vision_model.encoder.layers.%d.self_attn.projection", i);
        bind_linear(b, &l->attn.o_w, &l->attn.o_b, n, D, D);
        snprintf(n, sizeof n, "vision_model.encoder.layers.%d.layer_norm1", i);
        bind_norm(b, &l->ln1, n, D, v->eps);
        snprintf(n, sizeof n, "vision_model.encoder.layers.%d.layer_norm2", i);
        bind_norm(b, &l->ln2, n, D, v->eps);
        l->mlp = (nn_mlp){.dim = (int)D, .inter = (int)I, .out = (int)D, .act = v->act};
        snprintf(n, sizeof n, "vision_model.encoder.layers.%d.mlp.fc1", i);
        bind_linear(b, &l->mlp.w1, &l->mlp.b1, n, I, D);
        snprintf(n, sizeof n, "vision_model.encoder.layers.%d.mlp.fc2", i);
        bind_linear(b, &l->mlp.w2, &l->mlp.b2, n, D, I);
    }
    bind_norm(b, &m->post_ln, "vision_model.post_layernorm", D, v->eps);
}

static void bind_attn(binder *b, nn_attn *a, nn_norm *ln, const char *pre, const blip_text_config *t, int dkv)
{
    char n[256];
    long long D = t->hidden;
    *a = (nn_attn){.dq = (int)D, .dkv = dkv, .inner = (int)D, .dout = (int)D, .heads = t->heads};
    snprintf(n, sizeof n, "%s.self.query", pre);
    bind_linear(b, &a->q_w, &a->q_b, n, D, D);
    snprintf(n, sizeof n, "%s.self.key", pre);
    bind_linear(b, &a->k_w, &a->k_b, n, D, dkv);
    snprintf(n, sizeof n, "%s.self.value", pre);
    bind_linear(b, &a->v_w, &a->v_b, n, D, dkv);
    snprintf(n, sizeof n, "%s.output.dense", pre);
    bind_linear(b, &a->o_w, &a->o_b, n, D, D);
    snprintf(n, sizeof n, "%s.output.LayerNorm", pre);
    bind_norm(b, ln, n, D, t->eps);
}

static void bind_text(binder *b)
{
    blip_model *m = b->m;
    const blip_text_config *t = &m->cfg.text;
    long long D = t->hidden, I = t->inter, V = t->vocab;
    char n[256];
    const char *pre = "text_decoder.bert";
    bind(b, &m->word_emb, "text_decoder.bert.embeddings.word_embeddings.weight", 2, V, D, 0, 0);
    /* Positions: any table at least as long as max_position_embeddings' use. */
    bind(b, &m->tpos_emb, "text_decoder.bert.embeddings.position_embeddings.weight", 2, t->max_pos, D, 0, 0);
    bind_norm(b, &m->emb_ln, "text_decoder.bert.embeddings.LayerNorm", D, t->eps);
    m->tl = xcalloc((size_t)t->layers, sizeof *m->tl);
    for (int i = 0; i < t->layers; i++) {
        blip_text_layer *l = &m->tl[i];
        snprintf(n, sizeof n, "%s.encoder.layer.%d.attention", pre, i);
        bind_attn(b, &l->self, &l->self_ln, n, t, (int)D);
        snprintf(n, sizeof n, "%s.encoder.layer.%d.crossattention", pre, i);
        bind_attn(b, &l->cross, &l->cross_ln, n, t, t->enc_hidden);
        l->ffn = (nn_mlp){.dim = (int)D, .inter = (int)I, .out = (int)D, .act = t->act};
        snprintf(n, sizeof n, "%s.encoder.layer.%d.intermediate.dense", pre, i);
        bind_linear(b, &l->ffn.w1, &l->ffn.b1, n, I, D);
        snprintf(n, sizeof n, "%s.encoder.layer.%d.output.dense", pre, i);
        bind_linear(b, &l->ffn.w2, &l->ffn.b2, n, D, I);
        snprintf(n, sizeof n, "%s.encoder.layer.%d.output.LayerNorm", pre, i);
        bind_norm(b, &l->ffn_ln, n, D, t->eps);
    }
    bind_linear(b, &m->head_w, &m->head_b, "text_decoder.cls.predictions.transform.dense", D, D);
    bind_norm(b, &m->head_ln, "text_decoder.cls.predictions.transform.LayerNorm", D, t->eps);
    if (st_find(m->w.st, "text_decoder.cls.predictions.decoder.weight"))
        bind(b, &m->dec_w, "text_decoder.cls.predictions.decoder.weight", 2, V, D, 0, 0);
    else
        m->dec_w = m->word_emb;
    bind(b, &m->dec_b,
         st_find(m->w.st, "text_decoder.cls.predictions.bias") ? "text_decoder.cls.predictions.bias"
                                                              : "text_decoder.cls.predictions.decoder.bias",
         1, V, 0, 0, 0);
}

void blip_close(blip_model *m)
{
    if (!m) return;
    hf_weights_close(&m->w);
    free(m->vl);
    free(m->tl);
    wp_free(m->vocab);
    free(m->dir);
    free(m->name);
    free(m);
}

static int parse_config(const char *json, size_t len, const char *path, void *cfg, ierr *e)
{
    return blip_config_parse(json, len, path, cfg, e);
}

blip_model *blip_open(const char *dir, ierr *e)
{
    blip_model *m = xcalloc(1, sizeof *m);
    if (hf_dir_open(dir, &m->dir, &m->name, parse_config, &m->cfg, &m->w, e)) goto fail;
    binder b = {m, e};
    bind_vision(&b);
    bind_text(&b);
    if (m->w.failed) goto fail;
    char path[4096];
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    if (!(m->vocab = wp_load(path, e))) goto fail;
    if (wp_size(m->vocab) > m->cfg.text.vocab) {
        err_set(e, "%s: %d word pieces but the decoder knows only %d", path, wp_size(m->vocab),
                m->cfg.text.vocab);
        goto fail;
    }
    return m;
fail:
    blip_close(m);
    return NULL;
}

blip_model *blip_open_default(ierr *e)
{
    char dir[4096];
    if (hf_default_dir("IMGDEX_BLIP_DIR", "captions", "blip", "blip-base", dir, sizeof dir, e)) return NULL;
    return blip_open(dir, e);
}

const char *blip_name(const blip_model *m) { return m->name; }
int blip_image_size(const blip_model *m) { return m->cfg.vision.image; }
