/* blip.h — BLIP image captioning (Li et al. 2022), loaded from Hugging Face
 * BlipForConditionalGeneration checkpoints (config.json + model.safetensors +
 * vocab.txt): Salesforce/blip-image-captioning-base, and -large by its config.
 *
 * A ViT encodes the image (384 x 384); a BERT decoder, cross-attending to it
 * in every layer, writes the caption word piece by word piece, greedily or by
 * beam search, optionally continuing a prompt ("a photography of").  The
 * rules are those of Hugging Face's generate (transformers 4.45).
 *
 * A blip_model is read-only once open: calls may run on several threads at
 * once (each call allocates its own scratch). */
#ifndef IMGDEX_BLIP_H
#define IMGDEX_BLIP_H

#include "base/base.h"
#include "image/image.h"

typedef struct blip_model blip_model;

typedef struct blip_opts {
    int beams;                  /* 1: greedy */
    int max_length;             /* word pieces in all, [DEC] and prompt included (20) */
    int min_length;             /* [SEP] forbidden before this length (0) */
    float repetition_penalty;   /* 1: off; > 1 discourages ids already present */
    float length_penalty;       /* beam search: score / generated length ^ this (1) */
    const char *prompt;         /* NULL or "": unconditional */
} blip_opts;

/* Hugging Face's defaults: greedy, max_length 20, no penalties, no prompt. */
void blip_opts_default(blip_opts *o);

blip_model *blip_open(const char *dir, ierr *e);
/* $IMGDEX_BLIP_DIR, else the first installed BLIP model; NULL + e saying so
 * when none is installed — BLIP is optional. */
blip_model *blip_open_default(ierr *e);
void blip_close(blip_model *m);
const char *blip_name(const blip_model *m);
int blip_image_size(const blip_model *m);

/* The caption of an image (the prompt included, as BLIP writes it); caller
 * frees.  NULL + e on failure. */
char *blip_caption(blip_model *m, const img *im, const blip_opts *o, ierr *e);
/* Up to max captions, best first: with beams > 1 the finished hypotheses of
 * the beam search (for a chooser such as CLIP), else the one caption.
 * Returns how many were written to out (each to free); -1 + e on failure. */
int blip_captions(blip_model *m, const img *im, const blip_opts *o, char **out, float *scores, int max,
                  ierr *e);

#endif
