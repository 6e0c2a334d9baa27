/* clip.h — CLIP (Radford et al. 2021) image and text encoders, loaded from
 * Hugging Face CLIPModel checkpoints (config.json + model.safetensors +
 * tokenizer files).  Outputs are L2-normalised embeddings in one space. */
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

#endif
