/* features.h — one fixed-length float vector per image, for the models
 * imgdex trains itself (src/models/joint.h, `imgdex train`) and for
 * similarity search.  Computed by the describe stage "features" from what
 * the other stages already have (the detector's inner maps, the person
 * mask, the faces, the pixels): it runs no network of its own.
 *
 * Layout of kind "features/2" (FEAT_DIM floats; offsets below; "picture"
 * is the image inside the detector's letterbox, padding excluded).  The
 * first 3235 are exactly "features/1"; version 2 appended the last four
 * blocks, which the caption probe (docs/describe.md) found to help:
 *   FEAT_DEEP_AVG   480  backbone's last layer (MobileNetV3 "extern1",
 *                        stride 32, hard-swish), mean over the picture
 *   FEAT_DEEP_MAX   480  the same, max over the picture
 *   FEAT_DEEP_GRID 1920  the same, mean over each cell of a 2×2 grid
 *                        (cells top-left, top-right, bottom-left,
 *                        bottom-right; 480 each)
 *   FEAT_HEAD_AVG   128  the detection head's features (stride 4), mean
 *   FEAT_HEAT        80  per COCO class (coco_label order), the peak of the
 *                        detector's heatmap over the picture, 0..1
 *   FEAT_COLOUR     110  palette-name shares (11 names in the palette's
 *                        order: red orange yellow green blue purple pink
 *                        brown black white grey), whole image, then each
 *                        cell of a 3×3 grid row by row; each 11 sum to 1
 *   FEAT_LIGHT       13  luma mean, luma sd, saturation mean, saturation
 *                        sd (0..1), then the luma mean of each 3×3 cell
 *   FEAT_TEXTURE     18  per 3×3 cell: mean |d/dx| and mean |d/dy| of luma
 *                        on a 96-pixel thumbnail (0..1 per pixel step)
 *   FEAT_PEOPLE       3  share of the image the person mask covers (0
 *                        when no mask ran), summed person box area (≤ 1),
 *                        log(1 + people)
 *   FEAT_FACES        3  log(1 + faces), largest face box area, summed
 *                        face box area (≤ 1)
 *   FEAT_WIDE_AVG   720  the last block's expansion (MobileNetV3
 *                        "expanded_conv_14/expand", stride 32, hard-swish),
 *                        mean over the picture
 *   FEAT_WIDE_MAX   720  the same, max
 *   FEAT_MID_AVG    528  the stride-16 blocks' last expansion
 *                        ("expanded_conv_12/expand", hard-swish), mean
 *   FEAT_MID_MAX    528  the same, max
 * A new layout is a new kind ("features/2"): models record the kind they
 * were trained on and refuse another.
 */
#ifndef IMGDEX_DESCRIBE_FEATURES_H
#define IMGDEX_DESCRIBE_FEATURES_H

#include "describe/describe.h"
#include "models/models.h"

#define FEAT_KIND "features/2"
/* Length of the "features/1" prefix (the layout before version 2). */
#define FEAT_DIM_V1 3235

enum {
    FEAT_DEEP_C = 480, FEAT_HEAD_C = 128, FEAT_WIDE_C = 720, FEAT_MID_C = 528, FEAT_NCLASSES = 80,
    FEAT_NCOLOURS = 11,
    FEAT_DEEP_AVG = 0,
    FEAT_DEEP_MAX = FEAT_DEEP_AVG + FEAT_DEEP_C,
    FEAT_DEEP_GRID = FEAT_DEEP_MAX + FEAT_DEEP_C,
    FEAT_HEAD_AVG = FEAT_DEEP_GRID + 4 * FEAT_DEEP_C,
    FEAT_HEAT = FEAT_HEAD_AVG + FEAT_HEAD_C,
    FEAT_COLOUR = FEAT_HEAT + FEAT_NCLASSES,
    FEAT_LIGHT = FEAT_COLOUR + 10 * FEAT_NCOLOURS,
    FEAT_TEXTURE = FEAT_LIGHT + 13,
    FEAT_PEOPLE = FEAT_TEXTURE + 18,
    FEAT_FACES = FEAT_PEOPLE + 3,
    FEAT_WIDE_AVG = FEAT_FACES + 3,
    FEAT_WIDE_MAX = FEAT_WIDE_AVG + FEAT_WIDE_C,
    FEAT_MID_AVG = FEAT_WIDE_MAX + FEAT_WIDE_C,
    FEAT_MID_MAX = FEAT_MID_AVG + FEAT_MID_C,
    FEAT_DIM = FEAT_MID_MAX + FEAT_MID_C,
};

/* The vector of one image into out[FEAT_DIM].  maps: the detector's maps
 * of this image (detector_maps); ds: its description so far (object and
 * face regions); pmask (pmw×pmh over the image, may be NULL): the person
 * mask.  -1 + e when the maps are not what the layout expects. */
int features_compute(const det_maps *maps, const img *im, const description *ds, const uint8_t *pmask,
                     int pmw, int pmh, float *out, ierr *e);

#endif
