/* sam_amg.c — automatic mask generation, as the SAM authors' generator
 * does it for one crop (the whole image):
 *
 *  1. a points_per_side^2 grid of single foreground points, cell centres
 *     of the original image, mapped into the model's input frame;
 *  2. each point decoded with multimask output (tokens 1..K-1), in
 *     batches of points_per_batch;
 *  3. masks whose predicted IoU is not above pred_iou_thresh dropped;
 *  4. the low-res logits upscaled bilinearly (half-pixel centres, no
 *     antialiasing) to the input side, cropped to the resized image and
 *     upscaled again to the original size;
 *  5. stability score = |logits > +offset| / |logits > -offset|, masks
 *     below stability_thresh dropped; the rest thresholded at 0;
 *  6. boxes from the masks, box NMS by predicted IoU (ties keep grid order);
 *  7. with min_region_area: holes then islands smaller than it removed
 *     (8-connected), boxes recomputed and NMS again preferring the masks
 *     that did not change.
 * Masks are kept as column-major RLE between steps, as the reference does.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/sam/sam_impl.h"

void sam_amg_defaults(sam_amg_opts *o)
{
    o->points_per_side = 32;
    o->points_per_batch = 64;
    o->pred_iou_thresh = 0.88f;
    o->stability_thresh = 0.95f;
    o->stability_offset = 1.0f;
    o->box_nms_thresh = 0.7f;
    o->min_region_area = 0;
}

/* PyTorch's bilinear source index for output i: scale (i + 0.5) - 0.5,
 * clamped at 0; the two taps and the weight of the second. */
typedef struct tap {
    int i0, i1;
    float l1;
} tap;

static tap *taps(int in, int out, float scale, int n)
{
    tap *t = xmalloc((size_t)n * sizeof *t);
    (void)out;
    for (int i = 0; i < n; i++) {
        float r = scale * ((float)i + 0.5f) - 0.5f;
        if (r < 0) r = 0;
        int i0 = (int)r;
        t[i].i0 = i0;
        t[i].i1 = i0 + (i0 < in - 1 ? 1 : 0);
        t[i].l1 = r - (float)i0;
    }
    return t;
}

/* out (oh x ow) = the top-left oh x ow of the bilinear resize of in
 * (ih x iw) to fh x fw. */
static void resize(const float *in, int ih, int iw, int fh, int fw, float *out, int oh, int ow)
{
    tap *ty = taps(ih, fh, (float)ih / (float)fh, oh), *tx = taps(iw, fw, (float)iw / (float)fw, ow);
    for (int y = 0; y < oh; y++) {
        const float *r0 = in + (size_t)ty[y].i0 * iw, *r1 = in + (size_t)ty[y].i1 * iw;
        float l1 = ty[y].l1, l0 = 1 - l1;
        float *o = out + (size_t)y * ow;
        for (int x = 0; x < ow; x++) {
            float a = tx[x].l1, b = 1 - a;
            o[x] = l0 * (b * r0[tx[x].i0] + a * r0[tx[x].i1]) + l1 * (b * r1[tx[x].i0] + a * r1[tx[x].i1]);
        }
    }
    free(ty);
    free(tx);
}

static uint32_t *rle_of(const uint8_t *m, int w, int h, int *n)
{
    int cap = 16, k = 0;
    uint32_t *c = xmalloc((size_t)cap * sizeof *c);
    uint8_t cur = 0;
    uint32_t run = 0;
    for (int x = 0; x < w; x++)
        for (int y = 0; y < h; y++) {
            uint8_t v = m[(size_t)y * w + x];
            if (v == cur) {
                run++;
                continue;
            }
            if (k == cap) c = xrealloc(c, (size_t)(cap *= 2) * sizeof *c);
            c[k++] = run;
            cur = v;
            run = 1;
        }
    if (k == cap) c = xrealloc(c, (size_t)(cap + 1) * sizeof *c);
    c[k++] = run;
    *n = k;
    return c;
}

uint8_t *sam_segment_mask(const sam_segment *s)
{
    size_t pos = 0, total = (size_t)s->w * s->h;
    uint8_t *m = xcalloc(total ? total : 1, 1);
    for (int i = 0; i < s->ncounts; i++) {
        for (uint32_t r = 0; r < s->counts[i] && pos < total; r++, pos++)
            if (i % 2) m[(pos % s->h) * s->w + pos / s->h] = 1;
    }
    return m;
}

/* Box and area of a binary mask; an empty mask has box 0,0,0,0. */
static int box_of(const uint8_t *m, int w, int h, int *box)
{
    int x0 = w, y0 = h, x1 = -1, y1 = -1, area = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (m[(size_t)y * w + x]) {
                area++;
                if (x < x0) x0 = x;
                if (x > x1) x1 = x;
                if (y < y0) y0 = y;
                if (y > y1) y1 = y;
            }
    if (!area) x0 = y0 = x1 = y1 = 0;
    box[0] = x0, box[1] = y0, box[2] = x1, box[3] = y1;
    return area;
}

/* torchvision's IoU of xyxy boxes in float: (x1 - x0) * (y1 - y0) areas. */
static float box_iou(const int *a, const int *b)
{
    float ix = (float)((a[2] < b[2] ? a[2] : b[2]) - (a[0] > b[0] ? a[0] : b[0]));
    float iy = (float)((a[3] < b[3] ? a[3] : b[3]) - (a[1] > b[1] ? a[1] : b[1]));
    if (ix < 0) ix = 0;
    if (iy < 0) iy = 0;
    float inter = ix * iy;
    float u = (float)(a[2] - a[0]) * (float)(a[3] - a[1]) + (float)(b[2] - b[0]) * (float)(b[3] - b[1]) - inter;
    return u > 0 ? inter / u : 0;
}

typedef struct scored {
    float score;
    int idx;
} scored;

static int by_score(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->idx - y->idx;     /* stable: ties keep their order */
}

int sam_box_nms(const int (*box)[4], const float *score, int n, float thresh, int *keep)
{
    scored *o = xmalloc((size_t)(n ? n : 1) * sizeof *o);
    for (int i = 0; i < n; i++) o[i] = (scored){score[i], i};
    qsort(o, (size_t)n, sizeof *o, by_score);
    uint8_t *dead = xcalloc((size_t)(n ? n : 1), 1);
    int k = 0;
    for (int a = 0; a < n; a++) {
        int i = o[a].idx;
        if (dead[i]) continue;
        keep[k++] = i;
        for (int b = a + 1; b < n; b++) {
            int j = o[b].idx;
            if (!dead[j] && box_iou(box[i], box[j]) > thresh) dead[j] = 1;
        }
    }
    free(o);
    free(dead);
    return k;
}

/* 8-connected components of the pixels equal to `val`, labelled 1.. in
 * raster order of their first pixel; sizes[label]. Returns the count + 1. */
static int components(const uint8_t *m, int w, int h, uint8_t val, int *lab, int **sizes)
{
    size_t n = (size_t)w * h;
    memset(lab, 0, n * sizeof *lab);
    int *stack = xmalloc(n * sizeof *stack), cap = 16, nl = 1;
    int *sz = xmalloc((size_t)cap * sizeof *sz);
    sz[0] = 0;
    for (size_t p = 0; p < n; p++) {
        if (m[p] != val || lab[p]) continue;
        if (nl == cap) sz = xrealloc(sz, (size_t)(cap *= 2) * sizeof *sz);
        int top = 0, cnt = 0;
        stack[top++] = (int)p;
        lab[p] = nl;
        while (top) {
            int q = stack[--top], y = q / w, x = q % w;
            cnt++;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int yy = y + dy, xx = x + dx;
                    if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                    size_t r = (size_t)yy * w + xx;
                    if (m[r] == val && !lab[r]) {
                        lab[r] = nl;
                        stack[top++] = (int)r;
                    }
                }
        }
        sz[nl++] = cnt;
    }
    free(stack);
    *sizes = sz;
    return nl;
}

static int remove_small(uint8_t *m, int w, int h, int area, int holes, int *lab)
{
    int *sz;
    int nl = components(m, w, h, holes ? 0 : 1, lab, &sz);
    uint8_t *small = xcalloc((size_t)nl, 1);
    int nsmall = 0, best = 0;
    for (int i = 1; i < nl; i++) {
        if (sz[i] < area) small[i] = 1, nsmall++;
        if (!best || sz[i] > sz[best]) best = i;
    }
    if (!nsmall) {
        free(small);
        free(sz);
        return 0;
    }
    size_t n = (size_t)w * h;
    if (holes) {
        for (size_t p = 0; p < n; p++)
            if (lab[p] && small[lab[p]]) m[p] = 1;
    } else {
        int all_small = nsmall == nl - 1;
        for (size_t p = 0; p < n; p++) {
            int l = lab[p];
            m[p] = l && (all_small ? l == best : !small[l]);
        }
    }
    free(small);
    free(sz);
    return 1;
}

int sam_remove_small(uint8_t *m, int w, int h, int area, int holes)
{
    int *lab = xmalloc((size_t)w * h * sizeof *lab);
    int r = remove_small(m, w, h, area, holes, lab);
    free(lab);
    return r;
}

/* Box NMS over segments. */
static int nms(const sam_segment *s, const float *score, int n, float thresh, int *keep)
{
    int (*box)[4] = xmalloc((size_t)(n ? n : 1) * sizeof *box);
    for (int i = 0; i < n; i++) memcpy(box[i], s[i].box, sizeof box[i]);
    int k = sam_box_nms((const int (*)[4])box, score, n, thresh, keep);
    free(box);
    return k;
}

void sam_segments_free(sam_segment *s, int n)
{
    for (int i = 0; i < n; i++) free(s[i].counts);
    free(s);
}

int sam_generate(sam_model *m, const img *im, const sam_amg_opts *o, sam_segment **out, int *nout, ierr *e)
{
    *out = NULL;
    *nout = 0;
    if (!im || im->w < 1 || im->h < 1 || !im->px) {
        err_set(e, "sam: the image is empty");
        return -1;
    }
    if (o->points_per_side < 1 || o->points_per_side > 1024 || o->points_per_batch < 1) {
        err_set(e, "sam: points per side must be 1..1024 and points per batch positive");
        return -1;
    }
    int S = sam_image_size(m), g = sam_embed_size(m), C = sam_embed_dim(m), K = sam_mask_tokens(m), G = 4 * g;
    int W = im->w, H = im->h, rw, rh;
    float *px = xmalloc((size_t)3 * S * S * sizeof *px);
    sam_preprocess(im, S, px, &rw, &rh);
    float *emb = xmalloc((size_t)C * g * g * sizeof *emb);
    int rc = sam_embed_pixels(m, px, emb, e);
    free(px);
    if (rc) {
        free(emb);
        return -1;
    }
    int pps = o->points_per_side, np = pps * pps, B = o->points_per_batch < np ? o->points_per_batch : np;
    float *masks = xmalloc((size_t)B * K * G * G * sizeof *masks), *iou = xmalloc((size_t)B * K * sizeof *iou);
    float *pts = xmalloc((size_t)B * 2 * sizeof *pts), *grid = xmalloc((size_t)np * 2 * sizeof *grid);
    int *ones = xmalloc((size_t)B * sizeof *ones);
    sam_prompt *pr = xmalloc((size_t)B * sizeof *pr);
    float *mid = xmalloc((size_t)rh * rw * sizeof *mid), *full = xmalloc((size_t)W * H * sizeof *full);
    uint8_t *bin = xmalloc((size_t)W * H);
    int cap = 64, n = 0;
    sam_segment *seg = xmalloc((size_t)cap * sizeof *seg);
    /* Cell centres: numpy.linspace(1/2n, 1 - 1/2n, n), x fastest. */
    double off = 1.0 / (2 * pps);
    for (int j = 0; j < pps; j++)
        for (int i = 0; i < pps; i++) {
            double step = pps > 1 ? (1 - 2 * off) / (pps - 1) : 0;
            double fx = i == pps - 1 && pps > 1 ? 1 - off : i * step + off;
            double fy = j == pps - 1 && pps > 1 ? 1 - off : j * step + off;
            grid[2 * (j * pps + i)] = (float)(fx * W);
            grid[2 * (j * pps + i) + 1] = (float)(fy * H);
        }
    for (int b0 = 0; b0 < np && rc == 0; b0 += B) {
        int nb = np - b0 < B ? np - b0 : B;
        for (int i = 0; i < nb; i++) {
            pts[2 * i] = (float)((double)grid[2 * (b0 + i)] * rw / W);
            pts[2 * i + 1] = (float)((double)grid[2 * (b0 + i) + 1] * rh / H);
            ones[i] = 1;
            pr[i] = (sam_prompt){1, pts + 2 * i, ones + i, 0, {0}};
        }
        if (sam_decode(m, emb, pr, nb, masks, iou, e)) {
            rc = -1;
            break;
        }
        for (int i = 0; i < nb; i++)
            for (int k = 1; k < K; k++) {
                float score = iou[i * K + k];
                if (o->pred_iou_thresh > 0 && !(score > o->pred_iou_thresh)) continue;
                resize(masks + ((size_t)i * K + k) * G * G, G, G, S, S, mid, rh, rw);
                resize(mid, rh, rw, H, W, full, H, W);
                long inter = 0, uni = 0;
                for (size_t p = 0; p < (size_t)W * H; p++) {
                    inter += full[p] > o->stability_offset;
                    uni += full[p] > -o->stability_offset;
                    bin[p] = full[p] > 0;
                }
                float stab = uni ? (float)((double)inter / uni) : NAN;
                if (o->stability_thresh > 0 && !(stab >= o->stability_thresh)) continue;
                if (n == cap) seg = xrealloc(seg, (size_t)(cap *= 2) * sizeof *seg);
                sam_segment *s = &seg[n++];
                s->w = W, s->h = H;
                s->area = box_of(bin, W, H, s->box);
                s->counts = rle_of(bin, W, H, &s->ncounts);
                s->iou = score;
                s->stability = stab;
                s->point[0] = grid[2 * (b0 + i)];
                s->point[1] = grid[2 * (b0 + i) + 1];
            }
    }
    free(masks);
    free(iou);
    free(pts);
    free(grid);
    free(ones);
    free(pr);
    free(mid);
    free(full);
    free(emb);
    if (rc) {
        free(bin);
        sam_segments_free(seg, n);
        return -1;
    }
    float *score = xmalloc((size_t)(n ? n : 1) * sizeof *score);
    int *keep = xmalloc((size_t)(n ? n : 1) * sizeof *keep);
    for (int i = 0; i < n; i++) score[i] = seg[i].iou;
    int nk = nms(seg, score, n, o->box_nms_thresh, keep);
    sam_segment *kept = xmalloc((size_t)(nk ? nk : 1) * sizeof *kept);
    uint8_t *used = xcalloc((size_t)(n ? n : 1), 1);
    for (int i = 0; i < nk; i++) kept[i] = seg[keep[i]], used[keep[i]] = 1;
    for (int i = 0; i < n; i++)
        if (!used[i]) free(seg[i].counts);
    free(seg);
    free(used);
    seg = kept;
    n = nk;

    if (o->min_region_area > 0 && n) {
        int *lab = xmalloc((size_t)W * H * sizeof *lab);
        for (int i = 0; i < n; i++) {
            uint8_t *mk = sam_segment_mask(&seg[i]);
            int ch = remove_small(mk, W, H, o->min_region_area, 1, lab);
            ch |= remove_small(mk, W, H, o->min_region_area, 0, lab);
            score[i] = ch ? 0.0f : 1.0f;
            if (ch) {
                free(seg[i].counts);
                seg[i].counts = rle_of(mk, W, H, &seg[i].ncounts);
                seg[i].area = box_of(mk, W, H, seg[i].box);
            }
            free(mk);
        }
        free(lab);
        nk = nms(seg, score, n, o->box_nms_thresh, keep);
        kept = xmalloc((size_t)(nk ? nk : 1) * sizeof *kept);
        used = xcalloc((size_t)n, 1);
        for (int i = 0; i < nk; i++) kept[i] = seg[keep[i]], used[keep[i]] = 1;
        for (int i = 0; i < n; i++)
            if (!used[i]) free(seg[i].counts);
        free(seg);
        free(used);
        seg = kept;
        n = nk;
    }
    free(score);
    free(keep);
    free(bin);
    *out = seg;
    *nout = n;
    return 0;
}
