/* clip.h — CLIP (Radford et al. 2021) image and text encoders, loaded from
 * Hugging Face CLIPModel checkpoints (config.json + model.safetensors +
 * tokenizer files).  Outputs are L2-normalised embeddings in one space.
 *
 * A clip_model is read-only once open: the embed calls may run on several
 * threads at once (each call allocates its own scratch). */
#ifndef IMGDEX_CLIP_H
#define IMGDEX_CLIP_H

#include "base/base.h"
#include "image/image.h"

typedef struct clip_model clip_model;

/* Open a checkpoint directory. */
clip_model *clip_open(const char *dir, ierr *e);
/* The first installed CLIP model in the models directory (or $IMGDEX_CLIP_DIR);
 * NULL with e saying so when none is installed — CLIP is optional. */
clip_model *clip_open_default(ierr *e);
const char *clip_name(const clip_model *m);   /* e.g. "clip-vit-base-patch32" */
int clip_dim(const clip_model *m);            /* projection size, 512 for B/32 */
float clip_logit_scale(const clip_model *m);  /* exp(logit_scale) */
/* out has clip_dim floats. */
int clip_embed_image(clip_model *m, const img *im, float *out, ierr *e);
int clip_embed_text(clip_model *m, const char *text, float *out, ierr *e);
void clip_close(clip_model *m);

/* ---- additions (backwards compatible) ------------------------------- */

/* n at once, out = n * clip_dim floats in order.  Batching runs every
 * layer as one GEMM over all items: faster per item than n single calls. */
int clip_embed_images(clip_model *m, const img *const *ims, int n, float *out, ierr *e);
int clip_embed_texts(clip_model *m, const char *const *texts, int n, float *out, ierr *e);
/* Already preprocessed pixels: n images of 3 x S x S floats (CHW, CLIP-
 * normalised), S = clip_image_size. */
int clip_embed_pixels(clip_model *m, const float *chw, int n, float *out, ierr *e);
/* Token ids (as from bpe_tokenize; the feature is taken at the first
 * occurrence of the largest id, CLIP's end token). */
int clip_embed_tokens(clip_model *m, const int *ids, int len, float *out, ierr *e);
int clip_image_size(const clip_model *m);     /* 224 (336 for L/14-336) */
int clip_context(const clip_model *m);        /* 77 */
/* CLIP's preprocessing: shorter side to size (PIL-compatible bicubic),
 * centre crop, normalise; chw gets 3 * size * size floats. */
void clip_preprocess(const img *im, int size, float *chw);

#endif
