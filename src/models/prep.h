/* prep.h — what the vision models share: opening a model file with a clear
 * error, turning pixels into an input tensor in one resampling pass, and
 * non-maximum suppression.  Internal to src/models/.
 */
#ifndef IMGDEX_MODELS_PREP_H
#define IMGDEX_MODELS_PREP_H

#include "engine/tfjs.h"
#include "models/models.h"

/* Loads models/<name>.json.  When a file the registry lists for `name` is
 * missing, fails with "<file>: model file missing in <dir> (run
 * scripts/setup or `imgdex models fetch <name>`)". */
tfjs_model *vm_load(const char *name, ierr *e);

/* Resample the region (sx,sy,sw,sh) of `im` to dw×dh RGB floats at dst
 * (row stride `stride` floats), each value v (0..255) written as v*mul+add.
 * Shrinking averages the source area each output pixel covers (no
 * aliasing); enlarging interpolates linearly between pixel centres.  The
 * region must lie inside the image. */
void vm_resample(const img *im, int sx, int sy, int sw, int sh,
                 float *dst, int dw, int dh, int stride, float mul, float add);

/* Fitting an image into a side×side square with its aspect ratio kept,
 * centred; the rest is padding. */
typedef struct letterbox {
    int side, ox, oy, nw, nh;
} letterbox;

/* Fill the [side,side,3] tensor data `dst` with the letterboxed image
 * (values v*mul+add, padding 0*mul+add) and describe the placement. */
void vm_letterbox(const img *im, int side, float *dst, float mul, float add, letterbox *lb);
/* Input-pixel coordinates back to 0..1 of the original image (clamped). */
float lb_x(const letterbox *lb, float px);
float lb_y(const letterbox *lb, float py);

/* Intersection over union of two boxes. */
float vm_iou(const det_box *a, const det_box *b);
/* Sort by score (highest first) and drop every box that overlaps a kept
 * box of the same class by more than `iou`.  Returns how many remain at
 * the front of b.  iou >= 1 keeps everything (only sorts). */
int vm_nms(det_box *b, int n, float iou);

#endif
