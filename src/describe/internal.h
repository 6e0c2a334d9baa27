/* internal.h — what the files of src/describe/ share with each other and
 * with the tests (tests/test_describe*.c), but nobody else: the colour
 * palette, box geometry and relation grading, the mask RLE format, OCR,
 * the caption writer and the CLIP stage.  Other modules use describe.h only.
 */
#ifndef IMGDEX_DESCRIBE_INTERNAL_H
#define IMGDEX_DESCRIBE_INTERNAL_H

#include "describe/describe.h"

/* ---- colour.c: the perceptual palette ----------------------------------- */

enum { PAL_RED, PAL_ORANGE, PAL_YELLOW, PAL_GREEN, PAL_BLUE, PAL_PURPLE, PAL_PINK,
       PAL_BROWN, PAL_BLACK, PAL_WHITE, PAL_GREY, PAL_N };

const char *palette_name(int idx);
/* CIELAB (D65) of an sRGB colour. */
void srgb_to_lab(int r, int g, int b, float *L, float *A, float *B);
/* Palette index of a CIELAB colour, from its lightness, chroma and hue. */
int lab_colour_name(float L, float A, float B);
/* Palette index of an sRGB colour (table lookup, exact to 6 bits/channel). */
int rgb_colour_name(int r, int g, int b);

/* Dominant palette colours of the box (normalised coordinates) of im.
 * mask (mw×mh over the whole image, 0..255), when not NULL, weights each
 * pixel.  Otherwise, with `context` = 1, pixels are weighted as likely
 * parts of the object: down near the box border, down when their colour is
 * common just outside the box, down inside the nexcl boxes `excl` (x0 y0 x1
 * y1 each: other things in front), up with chroma (salience) — so a thin
 * red bicycle in front of a yellow wall comes out red.  context = 0 counts
 * every pixel alike (the whole image).  Fills r->colours. */
void region_colours(const img *im, float x0, float y0, float x1, float y1,
                    const uint8_t *mask, int mw, int mh, int context, const float *excl, int nexcl,
                    region *r);
/* Mean luma 0..1 (Rec. 601 weights), sampled. */
float image_brightness(const img *im);

/* ---- geometry.c: boxes and relations ------------------------------------ */

typedef struct box { float x0, y0, x1, y1; } box;

/* size / position / centre / area from the box of r. */
void region_geometry(region *r);
/* "left_of" "right_of" "above" "below" "next_to" "on" "in_front" "behind"
 * "inside" "near" "far": grade 0..1 of "a REL b". */
#define REL_N 11
#define RELATION_MAX_REGIONS 12
#define RELATION_MIN_WEIGHT 0.3f   /* the relations stage's threshold */
extern const char *const rel_names[REL_N];
void relation_grades(box a, box b, float out[REL_N]);
/* All relations between the object, face and named segment regions (the
 * first RELATION_MAX_REGIONS of them; not a segment with the box it was
 * named after) whose grade reaches min_weight ("far" only
 * from 0.7).
 * Returns the count; *out is malloc'd (NULL when 0). */
int relations_compute(const region *regs, int n, float min_weight, relation **out);
float box_iou(box a, box b);
/* Intersection over the area of a. */
float box_cover(box a, box b);

/* ---- mask.c: compact region masks --------------------------------------- */

/* Encode the binary mask (m[i] >= 128 is "in") of w×h cells.  See mask.c for
 * the byte format.  Returns a malloc'd buffer and its length. */
uint8_t *mask_rle_encode(const uint8_t *m, int w, int h, size_t *len);
/* Decode into a malloc'd w×h array of 0/255; NULL on malformed input. */
uint8_t *mask_rle_decode(const uint8_t *rle, size_t len, int *w, int *h);
/* The share of the box's cells that are "in", 0..1; -1 when malformed. */
float mask_rle_fill(const uint8_t *rle, size_t len);

/* ---- ocr.c, textlines.c: text in the image ------------------------------ */

typedef struct ocr_engine ocr_engine;
ocr_engine *ocr_open(ierr *e);
const char *ocr_name(const ocr_engine *o);   /* "tesseract-5.3.0" */
/* Cheap test for text: OCR_ROWS when the image has rows of short,
 * high-contrast letter-shaped strokes, OCR_COLUMNS when such strokes stand
 * in a column (text turned a quarter, as on a spine or a vertical banner),
 * both, or 0. */
enum { OCR_ROWS = 1, OCR_COLUMNS = 2 };
int ocr_text_layout(const img *im);
int ocr_text_likely(const img *im);   /* ocr_text_layout(im) != 0 */
/* A candidate line of text: letter-shaped blobs of one height chained
 * along a baseline (textlines.c). */
enum { OCR_MIN_LETTERS = 3 };
#define OCR_MIN_TONE 0.8f   /* see two_tone in textlines.c; chosen on train photos */
#define OCR_PAIR_TONE 0.9f  /* the same for a line of two letters */
typedef struct text_line {
    float x0, y0, x1, y1;   /* box of its letters, pixels of the image */
    float slope;            /* of the baseline, dy/dx */
    float h;                /* mean letter height, pixels */
    float yb;               /* the baseline's y at the box's middle */
    int n;                  /* letters chained */
    float tone;             /* how two-toned its box is, 0..1 (letters on a plain ground: ~1) */
    int dark;               /* 1: dark letters on a lighter ground */
} text_line;
/* Buffers kept between photos (one per thread). */
typedef struct text_scratch text_scratch;
text_scratch *text_scratch_new(void);
void text_scratch_free(text_scratch *t);
/* Up to max candidate lines of im, at two scales, overlaps resolved; the
 * count.  *layout (may be NULL) gets ocr_text_layout's answer.  t may be
 * NULL (buffers made for this call). */
int ocr_find_lines(text_scratch *t, const img *im, text_line *out, int max, int *layout);
/* Words found (low-confidence garbage removed); *words malloc'd: each
 * candidate line read by Tesseract as one line, deskewed and scaled; with
 * no line but a column of letters, the image turned either way. */
int ocr_run(ocr_engine *o, const img *im, ocr_word **words, ierr *e);
void ocr_close(ocr_engine *o);
/* 1 when a recognised word looks like real text rather than noise. */
int ocr_word_plausible(const char *w, float conf);

/* ---- caption.c ----------------------------------------------------------- */

/* "two dogs and a person; a red bicycle at the middle right; ..." */
void caption_build(const description *ds, const char *place, char *out, size_t n);
/* Scene words: brightness, orientation, colours, date and camera. */
void scene_build(const description *ds, const img_meta *meta, char *out, size_t n);
/* English number word for small counts ("two"), else digits. */
const char *count_word(int n, char *buf, size_t sz);
/* Plural of a label ("person" -> "people", "bus" -> "buses"). */
const char *plural(const char *label, char *buf, size_t sz);
const char *caption_article(const char *word);
/* The colour word for a region in a phrase ("red"), or NULL when unclear. */
const char *region_colour_word(const description *ds, const region *r);            /* "a" / "an" */
const char *caption_place_prep(const char *place);        /* "on" (a beach) / "in" (a kitchen) */
const char *relation_phrase(const char *rel);             /* "left_of" -> "to the left of" */
/* Subject phrases for candidate captions: "two dogs and a person", "two
 * dogs", "a black dog".  Returns how many (<= max). */
int caption_subjects(const description *ds, char out[][160], int max);
/* "a dog to the left of a bicycle" for the clearest relation; 0 when none. */
int caption_relation(const description *ds, char *out, size_t n);

/* ---- clipstage.c --------------------------------------------------------- */

/* The CLIP stage works through these two functions, so tests can run it with
 * a fake encoder.  Both write n L2-normalised vectors of `dim` floats. */
typedef struct embedder {
    void *ctx;
    int dim;
    float logit_scale;       /* exp(logit_scale) of the model, ~100 */
    const char *name;        /* model name, part of the vocabulary cache key */
    int (*embed_images)(void *ctx, const img *const *ims, int n, float *out, ierr *e);
    int (*embed_texts)(void *ctx, const char *const *texts, int n, float *out, ierr *e);
} embedder;

typedef struct clip_stage clip_stage;
/* Prepares the vocabulary's text embeddings: cached for the process and on
 * disk ($XDG_CACHE_HOME/imgdex), keyed by model, vocabulary and a probe
 * embedding, so only the first describer ever pays. */
clip_stage *clip_stage_open(const embedder *emb, ierr *e);
/* Embeds the whole image and the larger regions, adds zero-shot tags
 * (desc_tag) and scene words, names the unlabelled SAM segments it is sure
 * of (the best object label, when its share reaches 0.2); `place` (may be NULL) gets the best scene
 * label when CLIP is confident of one. */
int clip_stage_run(clip_stage *c, const img *im, description *ds, char *place, size_t place_n, ierr *e);
/* Ranks candidate captions built from ds (and its tags) against the image
 * embedding; the best goes to ds->clip_caption. */
int clip_stage_caption(clip_stage *c, description *ds, ierr *e);
/* The index of the candidate caption CLIP finds closest to the image
 * ("a photo of <candidate>."); 0 without an image embedding, -1 + e. */
int clip_stage_pick(clip_stage *c, const description *ds, const char *const *cands, int n, ierr *e);
/* The same against any CLIP image embedding (a region's: region.embedding);
 * 0 when emb is NULL or of another model's size. */
int clip_stage_pick_emb(clip_stage *c, const float *emb, int dim, const char *const *cands, int n, ierr *e);
/* A square-ish crop of im around r's box with a margin (CLIP and BLIP
 * squash or centre-crop to a square); out->px malloc'd. */
void region_crop(const img *im, const region *r, img *out);
void clip_stage_close(clip_stage *c);

#endif
