/* describe.h — everything imgdex knows about one image.
 *
 * A describer is a pipeline of stages (objects, faces, person mask,
 * colours, relations, OCR, caption, CLIP); each stage declares what it needs
 * and adds to the `description`; a stage whose model is missing is skipped
 * and recorded as such.  The catalogue (src/index/) stores a description;
 * the query engine (src/query/) searches what was stored.
 *
 * All geometry is normalised to the oriented image: 0..1, x right, y down.
 */
#ifndef IMGDEX_DESCRIBE_H
#define IMGDEX_DESCRIBE_H

#include "base/base.h"
#include "image/image.h"

/* REGION_SEGMENT: a part SAM cut out (stage "sam", when installed), with
 * its mask; labelled after the detector box it lies in, or by CLIP. */
enum region_kind { REGION_IMAGE = 0, REGION_OBJECT = 1, REGION_FACE = 2, REGION_TEXT = 3, REGION_SEGMENT = 4 };
enum region_size { SIZE_SMALL = 0, SIZE_MEDIUM = 1, SIZE_LARGE = 2 };

#define DESC_MAX_COLOURS 3

typedef struct colour_share {
    char name[12];           /* palette name: red orange yellow green blue purple pink brown black white grey */
    float share;             /* fraction of the region's (masked) pixels, 0..1 */
} colour_share;

typedef struct region {
    int kind;                /* enum region_kind */
    char label[48];          /* "image", "dog", "face", "text" ... */
    float score;             /* detector / classifier confidence 0..1 */
    float x0, y0, x1, y1;    /* box */
    float cx, cy;            /* centre */
    float area;              /* box area fraction of the image */
    int size;                /* enum region_size */
    char position[24];       /* "top left", "middle centre", ... */
    colour_share colours[DESC_MAX_COLOURS];
    int ncolours;
    char attrs[160];         /* "age=30 gender=female emotion=happy" or "" */
    uint8_t *mask_rle;       /* optional run-length mask (describe/mask.c format) */
    size_t mask_len;
    float *embedding;        /* optional CLIP embedding of the crop */
    int emb_dim;
    char caption[160];       /* BLIP's caption of the region's crop (large segments), or "" */
} region;

/* Graded relation "a REL b" between regions a and b (indices into regions). */
typedef struct relation {
    int a, b;
    char rel[16];            /* "left_of" "right_of" "above" "below" "next_to" "on" "in_front" "inside" "near" "far" */
    float weight;            /* 0..1 */
} relation;

typedef struct ocr_word {
    char text[64];
    float conf;              /* 0..1 */
    float x0, y0, x1, y1;
} ocr_word;

/* A label CLIP gave a region (zero-shot over a vocabulary), when installed;
 * or, group "tagger", a word of imgdex's own tagger (stage "joint") with
 * P(word | image) as its score. */
typedef struct desc_tag {
    char label[48];          /* "beach", "golden retriever", "sunset" */
    char group[12];          /* "object" "scene" "attribute" */
    int region;              /* index into regions (0 = whole image) */
    float score;             /* CLIP probability within its group, 0..1 */
} desc_tag;

typedef struct description {
    int width, height;       /* of the oriented original */
    region *regions; int nregions;       /* regions[0] is the whole image */
    relation *relations; int nrelations;
    ocr_word *words; int nwords;
    char caption[512];       /* deterministic sentence built from the structure */
    char clip_caption[256];  /* best candidate chosen by CLIP, or "" */
    char scene[256];         /* "dark", "bright", "landscape", dominant colours... as words */
    float brightness;        /* mean luma 0..1 */
    float *embedding;        /* CLIP embedding of the whole image, or NULL */
    int emb_dim;
    char emb_model[48];
    float *joint;            /* imgdex's own joint embedding (models/joint.h, stage "joint"), or NULL */
    int joint_dim;
    char joint_model[48];    /* joint_id(): "flickr8k-joint@1a2b3c4d" */
    char stages[256];        /* "objects:centernet faces:blazeface ocr:tesseract-5 clip:skipped ..." */
    desc_tag *tags; int ntags;           /* CLIP zero-shot labels, tagger words */
    float *features;         /* the image's feature vector (describe/features.h), or NULL */
    int nfeatures;
    char features_kind[16];  /* "features/2" */
} description;

typedef struct describer describer;

typedef struct describe_opts {
    int ocr;                 /* 1 = run OCR where it pays (default), 0 = never */
    int clip;                /* 1 = use CLIP when installed (default) */
    float min_score;         /* detector threshold, default 0.3 */
    int no_learnt;           /* 1 = without the learnt stages (features, joint): the describer before
                                issue 12, for bench_describe's comparison */
} describe_opts;

void describe_opts_default(describe_opts *o);
/* Opens every model that is installed; missing ones are skipped, and the
 * stages string says so.  Thread safety: one describer per thread. */
describer *describer_open(const describe_opts *o, ierr *e);
/* The version string stored with each description: stage names and model
 * names, so re-indexing knows when a model was added or changed. */
const char *describer_version(const describer *d);
int describe_image(describer *d, const img *im, const img_meta *meta, description *out, ierr *e);
void describer_close(describer *d);
/* Per-stage time summed over this describer's images, in pipeline order
 * (for benchmarks and `index` statistics).  Returns the number of stages. */
int describer_stage_times(const describer *d, const char **names, double *seconds, int *runs, int max);
/* 1 when the named stage ("objects", "ocr", "clip"...) will run. */
int describer_stage_on(const describer *d, const char *name);

/* The "joint" stage alone on a description that already holds its
 * features (loaded from the catalogue): the joint embedding and the
 * tagger's words, without the image.  -1 + e when the stage is off or the
 * features are not the kind the model was trained on. */
int describe_joint(describer *d, description *ds, ierr *e);

void description_free(description *ds);
/* "image" "object" "face" "text" "segment"; "small" "medium" "large" (as in the JSON). */
const char *region_kind_name(int kind);
const char *region_size_name(int size);
/* The region's mask as text, for a terminal: rows of '#' (in) and '.'
 * (out), at most max_cols wide, the box's shape in an img_w x img_h image
 * kept for characters about twice as tall as wide; "" when the region has
 * no mask.  Caller frees. */
char *region_mask_text(const region *r, int img_w, int img_h, int max_cols);
/* JSON text of the description (schema documented in README); caller frees. */
char *description_to_json(const description *ds);

#endif
