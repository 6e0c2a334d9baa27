/* attrs.h — face attributes on a detected face (internal to src/models/):
 * gear (age bracket, gender, race) and emotion, each used when installed. */
#ifndef IMGDEX_MODELS_ATTRS_H
#define IMGDEX_MODELS_ATTRS_H

#include "models/prep.h"

typedef struct face_attr_models face_attr_models;

/* Never fails: a model whose files are missing is simply not used (its
 * attributes stay unknown).  *loaded gets "gear emotion"-style names. */
face_attr_models *attrs_open(char *loaded, size_t n);
/* Attributes of the face box `b` (normalised to im). */
int attrs_run(face_attr_models *a, const img *im, const det_box *b, face_attrs *out, ierr *e);
void attrs_close(face_attr_models *a);
/* Bias added to gear's female logit (calibration; see gear.c). */
void attrs_set_gender_bias(face_attr_models *a, float bias);
float attrs_gender_bias(const face_attr_models *a);

/* Pixel square the attribute models see around face box b: centred on the
 * box, side = longer box side × grow, clamped to the image. */
void face_crop_rect(const img *im, const det_box *b, float grow, int *x, int *y, int *w, int *h);

#endif
