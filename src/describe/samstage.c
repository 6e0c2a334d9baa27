/* samstage.c — the thesis's parts: when a SAM model is installed
 * (models/sam/sam.h), its automatic mask generator cuts the image into
 * segments and the larger ones become regions of kind "segment", each
 * with its mask.
 *
 * A segment is named after the detector box holding at least half of its
 * pixels (sam_segment_box), with that box's label and the detector's score
 * times the share; the rest stay unlabelled here and the CLIP stage, when
 * installed, names them zero-shot (clipstage.c).  The geometry, colour and
 * relation stages then treat segments as they treat boxes, except that a
 * segment's colours are counted over its mask.  The BLIP stage captions
 * the largest segments' crops (blipstage.c).
 *
 * Cost: the generator runs a 16 x 16 point grid rather than the authors'
 * 32 x 32 — one decoder pass per point, so this keeps the decoders' cost
 * near that of the image encoder (docs/sam.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe/stages.h"
#include "models/sam/sam.h"

#define POINTS_PER_SIDE 16
#define MIN_REGION_AREA 100  /* pixels: holes and islands below are noise */
#define MAX_SEGMENTS 8       /* the largest ones become regions */
#define MIN_AREA 0.01f       /* of the image: smaller parts say little */
#define MIN_SHARE 0.5f       /* of the segment inside a box to take its label */
#define MASK_CELLS 64        /* stored mask: at most this many cells a side */
#define COLOUR_SIDE 128      /* colour mask: at most this many cells a side */

/* One model per process, shared: it is read-only and its calls thread-safe. */
static shared_model shared_sam = SHARED_MODEL_INIT;
static void *open_sam(ierr *why) { return sam_open_default(why); }
static void close_sam(void *m) { sam_close(m); }

int stage_sam_open(describer *d, stage_state *st, ierr *why)
{
    (void)d;
    sam_model *m = shared_model_get(&shared_sam, open_sam, why);
    if (!m) {
        snprintf(st->model, sizeof st->model, "missing");
        return -1;
    }
    st->h = m;
    snprintf(st->model, sizeof st->model, "%s", sam_name(m));
    return 0;
}

void stage_sam_close(describer *d, stage_state *st)
{
    (void)d;
    if (st->h) shared_model_put(&shared_sam, close_sam);
    st->h = NULL;
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The mask (w x h, 0/1) over the box b (inclusive pixels) as at most
 * MASK_CELLS cells a side, a cell "in" when most of its pixels are. */
static uint8_t *box_grid(const uint8_t *m, int w, const int b[4], int *gw, int *gh)
{
    int bw = b[2] - b[0] + 1, bh = b[3] - b[1] + 1;
    *gw = bw < MASK_CELLS ? bw : MASK_CELLS;
    *gh = bh < MASK_CELLS ? bh : MASK_CELLS;
    uint8_t *g = xmalloc((size_t)*gw * (size_t)*gh);
    for (int gy = 0; gy < *gh; gy++) {
        int y0 = b[1] + gy * bh / *gh, y1 = b[1] + (gy + 1) * bh / *gh;
        for (int gx = 0; gx < *gw; gx++) {
            int x0 = b[0] + gx * bw / *gw, x1 = b[0] + (gx + 1) * bw / *gw;
            long in = 0, all = 0;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++) { in += m[(size_t)y * w + x]; all++; }
            g[gy * *gw + gx] = 2 * in >= all && in ? 255 : 0;
        }
    }
    return g;
}

/* The mask over the whole image at a smaller size, for the colour stage
 * (which samples a whole-image mask at each pixel's place). */
static uint8_t *image_grid(const uint8_t *m, int w, int h, int sw, int sh)
{
    uint8_t *g = xmalloc((size_t)sw * (size_t)sh);
    for (int y = 0; y < sh; y++) {
        int my = clampi((int)(((float)y + 0.5f) * (float)h / (float)sh), 0, h - 1);
        for (int x = 0; x < sw; x++) {
            int mx = clampi((int)(((float)x + 0.5f) * (float)w / (float)sw), 0, w - 1);
            g[y * sw + x] = m[(size_t)my * w + mx] ? 255 : 0;
        }
    }
    return g;
}

/* Segments, largest first, that are large enough: their indices. */
static int pick(const sam_segment *s, int n, long pixels, int *out)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        if ((float)s[i].area >= MIN_AREA * (float)pixels) out[k++] = i;
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0 && s[out[j]].area > s[out[j - 1]].area; j--) {
            int t = out[j]; out[j] = out[j - 1]; out[j - 1] = t;
        }
    return k < MAX_SEGMENTS ? k : MAX_SEGMENTS;
}

int stage_sam_run(dctx *c, stage_state *st, ierr *e)
{
    sam_amg_opts o;
    sam_amg_defaults(&o);
    o.points_per_side = POINTS_PER_SIDE;
    o.min_region_area = MIN_REGION_AREA;
    sam_segment *segs = NULL;
    int n = 0;
    if (sam_generate(st->h, c->im, &o, &segs, &n, e) != 0) return -1;
    int *order = xmalloc((size_t)(n + 1) * sizeof *order);
    int k = pick(segs, n, (long)c->im->w * c->im->h, order);

    /* The detector's boxes as they stand after merging. */
    description *ds = c->ds;
    det_box *boxes = xmalloc((size_t)(ds->nregions + 1) * sizeof *boxes);
    int *from = xmalloc((size_t)(ds->nregions + 1) * sizeof *from), nb = 0;
    for (int i = 1; i < ds->nregions; i++) {
        const region *r = &ds->regions[i];
        if (r->kind != REGION_OBJECT) continue;
        boxes[nb] = (det_box){r->x0, r->y0, r->x1, r->y1, r->score, 0, NULL};
        from[nb++] = i;
    }

    int sw = c->im->w, sh = c->im->h;
    float f = (float)COLOUR_SIDE / (float)(sw > sh ? sw : sh);
    if (f < 1) { sw = clampi((int)lroundf((float)sw * f), 1, COLOUR_SIDE); sh = clampi((int)lroundf((float)sh * f), 1, COLOUR_SIDE); }
    c->smask = xcalloc((size_t)k + 1, sizeof *c->smask);
    c->sreg = xcalloc((size_t)k + 1, sizeof *c->sreg);
    c->smw = sw;
    c->smh = sh;
    for (int j = 0; j < k; j++) {
        const sam_segment *s = &segs[order[j]];
        uint8_t *m = sam_segment_mask(s);
        if (!m) continue;
        float share = 0;
        int b = sam_segment_box(s, boxes, nb, MIN_SHARE, &share);
        region *r = ctx_add_region(c);   /* may move ds->regions: no region pointers kept above */
        r->kind = REGION_SEGMENT;
        if (b >= 0) {
            snprintf(r->label, sizeof r->label, "%s", ds->regions[from[b]].label);
            r->score = boxes[b].score * share;
        } else {
            r->score = s->iou < 1 ? s->iou : 1;
        }
        r->x0 = (float)s->box[0] / (float)s->w;
        r->y0 = (float)s->box[1] / (float)s->h;
        r->x1 = (float)(s->box[2] + 1) / (float)s->w;
        r->y1 = (float)(s->box[3] + 1) / (float)s->h;
        int gw, gh;
        uint8_t *g = box_grid(m, s->w, s->box, &gw, &gh);
        r->mask_rle = mask_rle_encode(g, gw, gh, &r->mask_len);
        free(g);
        c->smask[c->nsmask] = image_grid(m, s->w, s->h, sw, sh);
        c->sreg[c->nsmask++] = ds->nregions - 1;
        free(m);
    }
    free(boxes);
    free(from);
    free(order);
    sam_segments_free(segs, n);
    return 0;
}
