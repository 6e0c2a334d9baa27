/* sam_load.c — opening a SamModel checkpoint directory.
 *
 * Float32 weights stay in the memory-mapped safetensors file; f16/bf16 are
 * converted once at open.  Every tensor is checked against the shape the
 * config implies, so a checkpoint that does not fit its config.json is an
 * error naming the file and the tensor, not a wrong answer.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/models.h"
#include "models/nn/hfdir.h"
#include "models/sam/sam_impl.h"

typedef struct loader {
    sam_model *m;
    ierr *e;
} loader;

/* The tensor `fmt...` of the given shape (ndim dims after the name). */
static const float *get(loader *L, int ndim, const long long *shape, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static const float *get(loader *L, int ndim, const long long *shape, const char *fmt, ...)
{
    if (L->m->w.failed) return NULL;
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return hf_tensor(&L->m->w, name, ndim, shape, L->e);
}

#define S1(a) (long long[]){a}
#define S2(a, b) (long long[]){a, b}
#define S4(a, b, c, d) (long long[]){a, b, c, d}

static void linear(loader *L, const float **w, const float **b, int out, int in, const char *pre)
{
    *w = get(L, 2, S2(out, in), "%s.weight", pre);
    if (b) *b = get(L, 1, S1(out), "%s.bias", pre);
}

static void norm(loader *L, nn_norm *nm, int n, float eps, const char *pre)
{
    nm->g = get(L, 1, S1(n), "%s.weight", pre);
    nm->b = get(L, 1, S1(n), "%s.bias", pre);
    nm->eps = eps;
}

static void attention(loader *L, nn_attn *a, int M, int inner, int heads, const char *pre)
{
    char n[256];
    *a = (nn_attn){.dq = M, .dkv = M, .inner = inner, .dout = M, .heads = heads};
    snprintf(n, sizeof n, "%s.q_proj", pre);
    linear(L, &a->q_w, &a->q_b, inner, M, n);
    snprintf(n, sizeof n, "%s.k_proj", pre);
    linear(L, &a->k_w, &a->k_b, inner, M, n);
    snprintf(n, sizeof n, "%s.v_proj", pre);
    linear(L, &a->v_w, &a->v_b, inner, M, n);
    snprintf(n, sizeof n, "%s.out_proj", pre);
    linear(L, &a->o_w, &a->o_b, M, inner, n);
}

static void mlp(loader *L, sam_mlp *f, int in, int hidden, int out, int depth, const char *pre)
{
    char n[256];
    f->n = depth;
    f->dims[0] = in;
    for (int i = 1; i < depth; i++) f->dims[i] = hidden;
    f->dims[depth] = out;
    for (int i = 0; i < depth; i++) {
        if (i == 0) snprintf(n, sizeof n, "%s.proj_in", pre);
        else if (i == depth - 1) snprintf(n, sizeof n, "%s.proj_out", pre);
        else snprintf(n, sizeof n, "%s.layers.%d", pre, i - 1);
        linear(L, &f->w[i], &f->b[i], f->dims[i + 1], f->dims[i], n);
    }
}

/* ConvTranspose2d(k=2, s=2) weights are Cin x Cout x 2 x 2; the decoder
 * multiplies tokens by them as one GEMM, so keep them (Cout*4) x Cin. */
static float *transposed(sam_model *m, const float *w, int cin, int cout4)
{
    if (!w) return NULL;
    float *t = xmalloc((size_t)cin * cout4 * sizeof *t);
    for (int i = 0; i < cin; i++)
        for (int o = 0; o < cout4; o++) t[(size_t)o * cin + i] = w[(size_t)i * cout4 + o];
    hf_weights_own(&m->w, t);
    return t;
}

static void bind_all(loader *L)
{
    sam_model *m = L->m;
    const sam_config *c = &m->cfg;
    int D = c->vision.hidden, P = c->vision.patch, g = c->vision.image / P, C = c->vision.out;
    int hd = D / c->vision.heads;
    char n[256];
    m->patch_w = get(L, 4, S4(D, 3, P, P), "vision_encoder.patch_embed.projection.weight");
    m->patch_b = get(L, 1, S1(D), "vision_encoder.patch_embed.projection.bias");
    if (c->vision.abs_pos) m->pos_embed = get(L, 4, S4(1, g, g, D), "vision_encoder.pos_embed");
    float eps = c->vision.eps;
    for (int i = 0; i < c->vision.layers; i++) {
        sam_vit_layer *l = &m->vit[i];
        l->window = c->vision.global[i] ? 0 : c->vision.window;
        int side = l->window ? l->window : g;
        snprintf(n, sizeof n, "vision_encoder.layers.%d.layer_norm1", i);
        norm(L, &l->ln1, D, eps, n);
        const float *qkv_w, *qkv_b = NULL;
        snprintf(n, sizeof n, "vision_encoder.layers.%d.attn.qkv", i);
        linear(L, &qkv_w, c->vision.qkv_bias ? &qkv_b : NULL, 3 * D, D, n);
        l->attn = (nn_attn){.dq = D, .dkv = D, .inner = D, .dout = D, .heads = c->vision.heads};
        nn_attn_split_qkv(&l->attn, qkv_w, qkv_b);
        snprintf(n, sizeof n, "vision_encoder.layers.%d.attn.proj", i);
        linear(L, &l->attn.o_w, &l->attn.o_b, D, D, n);
        if (c->vision.rel_pos) {
            l->rel_h = get(L, 2, S2(2 * side - 1, hd), "vision_encoder.layers.%d.attn.rel_pos_h", i);
            l->rel_w = get(L, 2, S2(2 * side - 1, hd), "vision_encoder.layers.%d.attn.rel_pos_w", i);
        }
        snprintf(n, sizeof n, "vision_encoder.layers.%d.layer_norm2", i);
        norm(L, &l->ln2, D, eps, n);
        l->mlp = (nn_mlp){.dim = D, .inter = c->vision.mlp, .out = D, .act = c->vision.act};
        snprintf(n, sizeof n, "vision_encoder.layers.%d.mlp.lin1", i);
        linear(L, &l->mlp.w1, &l->mlp.b1, c->vision.mlp, D, n);
        snprintf(n, sizeof n, "vision_encoder.layers.%d.mlp.lin2", i);
        linear(L, &l->mlp.w2, &l->mlp.b2, D, c->vision.mlp, n);
    }
    /* The neck's channel norms have a fixed eps in the reference. */
    m->neck1_w = get(L, 4, S4(C, D, 1, 1), "vision_encoder.neck.conv1.weight");
    norm(L, &m->neck_ln1, C, 1e-6f, "vision_encoder.neck.layer_norm1");
    m->neck2_w = get(L, 4, S4(C, C, 3, 3), "vision_encoder.neck.conv2.weight");
    norm(L, &m->neck_ln2, C, 1e-6f, "vision_encoder.neck.layer_norm2");

    /* The random Fourier matrix is shared by SamModel and its prompt
     * encoder; a checkpoint may store it under either name. */
    const char *pe = "shared_image_embedding.positional_embedding";
    if (!m->w.failed && !st_find(m->w.st, pe) && st_find(m->w.st, "prompt_encoder.shared_embedding.positional_embedding"))
        pe = "prompt_encoder.shared_embedding.positional_embedding";
    m->gauss = get(L, 2, S2(2, c->vision.pos_feats), "%s", pe);
    int H = c->prompt.hidden, M = c->decoder.hidden, K = c->decoder.nmulti + 1;
    m->no_mask = get(L, 2, S2(1, H), "prompt_encoder.no_mask_embed.weight");
    for (int i = 0; i < 4; i++) m->point_embed[i] = get(L, 2, S2(1, H), "prompt_encoder.point_embed.%d.weight", i);
    m->not_a_point = get(L, 2, S2(1, H), "prompt_encoder.not_a_point_embed.weight");

    m->iou_token = get(L, 2, S2(1, M), "mask_decoder.iou_token.weight");
    m->mask_tokens = get(L, 2, S2(K, M), "mask_decoder.mask_tokens.weight");
    int inner = M / c->decoder.down, heads = c->decoder.heads;
    for (int i = 0; i < c->decoder.layers; i++) {
        sam_twoway_layer *l = &m->tw[i];
        char pre[128];
        snprintf(pre, sizeof pre, "mask_decoder.transformer.layers.%d", i);
        snprintf(n, sizeof n, "%s.self_attn", pre);
        attention(L, &l->self, M, M, heads, n);
        snprintf(n, sizeof n, "%s.cross_attn_token_to_image", pre);
        attention(L, &l->t2i, M, inner, heads, n);
        snprintf(n, sizeof n, "%s.cross_attn_image_to_token", pre);
        attention(L, &l->i2t, M, inner, heads, n);
        for (int k = 0; k < 4; k++) {
            snprintf(n, sizeof n, "%s.layer_norm%d", pre, k + 1);
            norm(L, &l->ln[k], M, c->decoder.eps, n);
        }
        l->mlp = (nn_mlp){.dim = M, .inter = c->decoder.mlp, .out = M, .act = c->decoder.act};
        snprintf(n, sizeof n, "%s.mlp.lin1", pre);
        linear(L, &l->mlp.w1, &l->mlp.b1, c->decoder.mlp, M, n);
        snprintf(n, sizeof n, "%s.mlp.lin2", pre);
        linear(L, &l->mlp.w2, &l->mlp.b2, M, c->decoder.mlp, n);
    }
    attention(L, &m->final, M, inner, heads, "mask_decoder.transformer.final_attn_token_to_image");
    /* A plain nn.LayerNorm in the reference: PyTorch's default eps. */
    norm(L, &m->lnf, M, 1e-5f, "mask_decoder.transformer.layer_norm_final_attn");
    const float *w1 = get(L, 4, S4(M, M / 4, 2, 2), "mask_decoder.upscale_conv1.weight");
    m->up1_b = get(L, 1, S1(M / 4), "mask_decoder.upscale_conv1.bias");
    const float *w2 = get(L, 4, S4(M / 4, M / 8, 2, 2), "mask_decoder.upscale_conv2.weight");
    m->up2_b = get(L, 1, S1(M / 8), "mask_decoder.upscale_conv2.bias");
    norm(L, &m->upln, M / 4, 1e-6f, "mask_decoder.upscale_layer_norm");
    if (!m->w.failed) {
        m->up1_wt = transposed(m, w1, M, M);
        m->up2_wt = transposed(m, w2, M / 4, M / 2);
    }
    for (int k = 0; k < K; k++) {
        snprintf(n, sizeof n, "mask_decoder.output_hypernetworks_mlps.%d", k);
        mlp(L, &m->hyper[k], M, M, M / 8, 3, n);
    }
    mlp(L, &m->iou_head, M, c->decoder.iou_hidden, K, c->decoder.iou_depth, "mask_decoder.iou_prediction_head");
}

void sam_fourier(const sam_model *m, const double *xy, int n, float *out)
{
    int F = m->cfg.vision.pos_feats;
    for (int i = 0; i < n; i++) {
        double x = 2 * xy[2 * i] - 1, y = 2 * xy[2 * i + 1] - 1;
        for (int j = 0; j < F; j++) {
            double a = 2 * M_PI * (x * m->gauss[j] + y * m->gauss[F + j]);
            out[(size_t)i * 2 * F + j] = (float)sin(a);
            out[(size_t)i * 2 * F + F + j] = (float)cos(a);
        }
    }
}

void sam_close(sam_model *m)
{
    if (!m) return;
    hf_weights_close(&m->w);
    free(m->dense_pe);
    free(m->dir);
    free(m->name);
    free(m);
}

static int parse_config(const char *json, size_t len, const char *path, void *cfg, ierr *e)
{
    return sam_config_parse(json, len, path, cfg, e);
}

sam_model *sam_open(const char *dir, ierr *e)
{
    sam_model *m = xcalloc(1, sizeof *m);
    if (hf_dir_open(dir, &m->dir, &m->name, parse_config, &m->cfg, &m->w, e)) goto fail;
    loader L = {m, e};
    bind_all(&L);
    if (m->w.failed) goto fail;

    /* The image-wide positional encoding: Fourier features of every
     * embedding cell's centre, the same for every image. */
    int g = m->cfg.prompt.embed, C = m->cfg.prompt.hidden;
    double *xy = xmalloc((size_t)g * g * 2 * sizeof *xy);
    for (int y = 0; y < g; y++)
        for (int x = 0; x < g; x++) {
            xy[2 * (y * g + x)] = (x + 0.5) / g;
            xy[2 * (y * g + x) + 1] = (y + 0.5) / g;
        }
    m->dense_pe = xmalloc((size_t)g * g * C * sizeof(float));
    sam_fourier(m, xy, g * g, m->dense_pe);
    free(xy);
    return m;
fail:
    sam_close(m);
    return NULL;
}

sam_model *sam_open_default(ierr *e)
{
    char dir[4096];
    if (hf_default_dir("IMGDEX_SAM_DIR", "segments", "sam", "sam-vit-base", dir, sizeof dir, e)) return NULL;
    return sam_open(dir, e);
}

const char *sam_name(const sam_model *m) { return m->name; }
int sam_image_size(const sam_model *m) { return m->cfg.vision.image; }
int sam_embed_size(const sam_model *m) { return m->cfg.prompt.embed; }
int sam_embed_dim(const sam_model *m) { return m->cfg.vision.out; }
int sam_mask_tokens(const sam_model *m) { return m->cfg.decoder.nmulti + 1; }
