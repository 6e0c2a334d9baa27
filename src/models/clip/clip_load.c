/* clip_load.c — opening a CLIPModel checkpoint directory.
 *
 * The weights stay in the memory-mapped safetensors file: a float32
 * checkpoint is used in place (the kernel pages it in as it is read, and a
 * cached 600 MB file opens in milliseconds).  Only f16/bf16 tensors are
 * converted (to float32, once, at open).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "models/clip/clip_impl.h"
#include "models/nn/hfdir.h"
#include "models/models.h"

typedef struct bind_ctx {
    clip_model *m;
    ierr *e;
    int failed;
} bind_ctx;

static void own(clip_model *m, float *p)
{
    if (!p) return;
    if (m->nowned == m->capowned) {
        m->capowned = m->capowned ? 2 * m->capowned : 64;
        m->owned = xrealloc(m->owned, (size_t)m->capowned * sizeof *m->owned);
    }
    m->owned[m->nowned++] = p;
}

static void bind(void *ctx, const char *name, int ndim, const long long *shape, const float **dst)
{
    bind_ctx *b = ctx;
    if (b->failed) return;
    long long s[8];
    memcpy(s, shape, (size_t)ndim * sizeof *s);
    float *owned = NULL;
    *dst = st_get_f32(b->m->st, name, ndim, s, &owned, b->e);
    if (!*dst) b->failed = 1;
    own(b->m, owned);
}

void clip_close(clip_model *m)
{
    if (!m) return;
    for (int i = 0; i < m->nowned; i++) free(m->owned[i]);
    free(m->owned);
    free(m->text.layers);
    free(m->vision.layers);
    st_close(m->st);
    bpe_free(m->vocab);
    free(m->dir);
    free(m->name);
    free(m);
}

clip_model *clip_open(const char *dir, ierr *e)
{
    clip_model *m = xcalloc(1, sizeof *m);
    m->dir = xstrdup(dir);
    m->name = hf_dir_name(dir);

    char path[4096];
    size_t len;
    char *cfg = hf_dir_config(dir, path, sizeof path, &len, e);
    if (!cfg) goto fail;
    int rc = clip_config_parse(cfg, len, path, &m->cfg, e);
    free(cfg);
    if (rc) goto fail;

    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    m->st = st_open(path, e);
    if (!m->st) goto fail;
    m->text.c = m->cfg.text;
    m->vision.c = m->cfg.vision;
    m->text.layers = xcalloc((size_t)m->cfg.text.layers, sizeof(clip_layer));
    m->vision.layers = xcalloc((size_t)m->cfg.vision.layers, sizeof(clip_layer));
    bind_ctx b = {m, e, 0};
    clip_each_tensor(&m->cfg, &m->text, &m->vision, &m->logit_scale, bind, &b);
    if (b.failed) goto fail;

    m->vocab = bpe_load_dir(dir, e);
    if (!m->vocab) goto fail;
    if (bpe_vocab_size(m->vocab) > m->cfg.text.vocab) {
        err_set(e, "%s: the tokenizer has %d tokens but the text tower only %d", dir,
                bpe_vocab_size(m->vocab), m->cfg.text.vocab);
        goto fail;
    }
    return m;
fail:
    clip_close(m);
    return NULL;
}

clip_model *clip_open_default(ierr *e)
{
    const char *env = getenv("IMGDEX_CLIP_DIR");
    if (env && *env) return clip_open(env, e);
    char dir[2048], path[4096];
    path_models_dir(dir, sizeof dir);
    /* The registry lists the CLIP models smallest first: the first one
     * installed is the one to use. */
    for (const model_info *const *r = models_registry(); *r; r++) {
        if (strcmp((*r)->task, "embeddings") || strncmp((*r)->name, "clip", 4)) continue;
        if (!models_installed(*r, NULL)) continue;
        snprintf(path, sizeof path, "%s/%s", dir, (*r)->name);
        return clip_open(path, e);
    }
    err_set(e, "no CLIP model installed in %s (imgdex models fetch clip-vit-base-patch32, or set IMGDEX_CLIP_DIR)", dir);
    return NULL;
}

const char *clip_name(const clip_model *m) { return m->name; }
int clip_dim(const clip_model *m) { return m->cfg.proj_dim; }
float clip_logit_scale(const clip_model *m) { return expf(m->logit_scale[0]); }
int clip_image_size(const clip_model *m) { return m->cfg.vision.image; }
int clip_context(const clip_model *m) { return m->cfg.text.max_pos; }
bpe_vocab *clip_vocab(clip_model *m) { return m->vocab; }
