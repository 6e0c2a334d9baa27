/* sam.h — Segment Anything (Kirillov et al. 2023) in C: the ViT image
 * encoder, the prompt encoder and the mask decoder, loaded from Hugging
 * Face SamModel checkpoints (config.json + model.safetensors, e.g.
 * facebook/sam-vit-base), and the automatic mask generator built on them.
 *
 * Coordinates of prompts are in the model's input frame: the image resized
 * so that its longer side is sam_image_size (1024), top-left aligned.
 * A sam_model is read-only once open; calls may run on several threads.
 */
#ifndef IMGDEX_SAM_H
#define IMGDEX_SAM_H

#include <stdint.h>

#include "base/base.h"
#include "image/image.h"
#include "models/models.h"

typedef struct sam_model sam_model;

sam_model *sam_open(const char *dir, ierr *e);
/* The installed sam-vit-base (or $IMGDEX_SAM_DIR); NULL + e when absent. */
sam_model *sam_open_default(ierr *e);
void sam_close(sam_model *m);
const char *sam_name(const sam_model *m);
int sam_image_size(const sam_model *m);   /* input side, 1024 */
int sam_embed_size(const sam_model *m);   /* embedding grid side g, 64 */
int sam_embed_dim(const sam_model *m);    /* embedding channels C, 256 */
int sam_mask_tokens(const sam_model *m);  /* K = multimask outputs + 1, 4 */

/* The reference processor's input: longer side to S (PIL-compatible
 * bilinear), ImageNet normalisation, zero padding right and below.
 * chw gets 3*S*S floats; *rh x *rw is the resized image inside it. */
void sam_preprocess(const img *im, int S, float *chw, int *rw, int *rh);

/* Image embeddings of preprocessed pixels: C x g x g floats. */
int sam_embed_pixels(sam_model *m, const float *chw, float *emb, ierr *e);

/* A prompt: points with labels (1 foreground, 0 background) and/or a box
 * (x0, y0, x1, y1). */
typedef struct sam_prompt {
    int npoints;
    const float *points;     /* npoints * 2: x, y */
    const int *labels;
    int has_box;
    float box[4];
} sam_prompt;

/* Decode n prompts against one image's embeddings: every mask token's
 * low-resolution mask logits (n x K x 4g x 4g) and predicted IoU (n x K).
 * Token 0 is the single-mask output, 1..K-1 the multimask outputs. */
int sam_decode(sam_model *m, const float *emb, const sam_prompt *p, int n, float *masks,
               float *iou, ierr *e);

/* ---- automatic mask generation ----------------------------------------- */

typedef struct sam_amg_opts {
    int points_per_side;        /* 32: the grid of single-point prompts */
    int points_per_batch;       /* 64: prompts decoded at once */
    float pred_iou_thresh;      /* 0.88 (0 disables) */
    float stability_thresh;     /* 0.95 (0 disables) */
    float stability_offset;     /* 1.0 */
    float box_nms_thresh;       /* 0.7 */
    int min_region_area;        /* 0: holes and islands below it are removed */
} sam_amg_opts;
void sam_amg_defaults(sam_amg_opts *o);

/* One mask of the original image, run-length encoded in column-major order
 * (COCO's uncompressed RLE): counts alternate zeros and ones, zeros first. */
typedef struct sam_segment {
    int w, h;
    int ncounts;
    uint32_t *counts;
    int area;
    int box[4];                 /* x0, y0, x1, y1, inclusive pixel indices */
    float iou, stability;
    float point[2];             /* the prompt, in original image pixels */
} sam_segment;

/* Segments of im, best first.  *out is malloc'd; free with sam_segments_free. */
int sam_generate(sam_model *m, const img *im, const sam_amg_opts *o, sam_segment **out, int *n,
                 ierr *e);
void sam_segments_free(sam_segment *s, int n);
/* The mask as h*w bytes (0/1), row-major; caller frees. */
uint8_t *sam_segment_mask(const sam_segment *s);
/* The detector box (normalised, as det_box) holding the largest share of
 * the segment's pixels (pixel centres inside; ties go to the higher
 * detector score, then the first), when that share is at least min_share:
 * the label a describer gives the segment.  -1 when none; *share (may be
 * NULL) gets the best share. */
int sam_segment_box(const sam_segment *s, const det_box *boxes, int n, float min_share, float *share);

#endif
