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
} bind_ctx;

static void bind(void *ctx, const char *name, int ndim, const long long *shape, const float **dst)
{
    bind_ctx *b = ctx;
    *dst = hf_tensor(&b->m->w, name, ndim, shape, b->e);
}

void clip_close(clip_model *m)
{
    if (!m) return;
    hf_weights_close(&m->w);
    free(m->text.layers);
    free(m->vision.layers);
    bpe_free(m->vocab);
    free(m->dir);
    free(m->name);
    free(m);
}

static int parse_config(const char *json, size_t len, const char *path, void *cfg, ierr *e)
{
    return clip_config_parse(json, len, path, cfg, e);
}

clip_model *clip_open(const char *dir, ierr *e)
{
    clip_model *m = xcalloc(1, sizeof *m);
    if (hf_dir_open(dir, &m->dir, &m->name, parse_config, &m->cfg, &m->w, e)) goto fail;
    m->text.c = m->cfg.text;
    m->vision.c = m->cfg.vision;
    m->text.layers = xcalloc((size_t)m->cfg.text.layers, sizeof(clip_layer));
    m->vision.layers = xcalloc((size_t)m->cfg.vision.layers, sizeof(clip_layer));
    bind_ctx b = {m, e};
    clip_each_tensor(&m->cfg, &m->text, &m->vision, &m->logit_scale, bind, &b);
    if (m->w.failed) goto fail;

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
    char dir[4096];
    if (hf_default_dir("IMGDEX_CLIP_DIR", "embeddings", "clip", "clip-vit-base-patch32", dir, sizeof dir, e))
        return NULL;
    return clip_open(dir, e);
}

const char *clip_name(const clip_model *m) { return m->name; }
int clip_dim(const clip_model *m) { return m->cfg.proj_dim; }
float clip_logit_scale(const clip_model *m) { return expf(m->logit_scale[0]); }
int clip_image_size(const clip_model *m) { return m->cfg.vision.image; }
int clip_context(const clip_model *m) { return m->cfg.text.max_pos; }
bpe_vocab *clip_vocab(clip_model *m) { return m->vocab; }
