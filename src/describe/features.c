/* features.c — the image's feature vector (layout in features.h) and the
 * describe stage that stores it.
 *
 * Everything here is pooling over what other stages computed: the
 * detector's maps are kept from its one run (detector_keep_maps), the
 * pixels are sampled on a coarse grid.  The stage costs a few milliseconds
 * against the detector's few hundred.
 */
#include "describe/features.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe/stages.h"

/* Cells of map m (h×w) whose centres lie in the picture [f0, f1) of one
 * axis: [*a, *b), never empty. */
static void span(float f0, float f1, int n, int *a, int *b)
{
    int lo = (int)ceilf(f0 * (float)n - 0.5f), hi = (int)ceilf(f1 * (float)n - 0.5f);
    if (lo < 0) lo = 0;
    if (hi > n) hi = n;
    if (hi <= lo) {
        lo = (int)floorf((f0 + f1) * 0.5f * (float)n);
        if (lo >= n) lo = n - 1;
        if (lo < 0) lo = 0;
        hi = lo + 1;
    }
    *a = lo;
    *b = hi;
}

/* Mean (and max when mx) of the channels of m over rows y0..y1, cols x0..x1. */
static void pool(const det_map *m, int y0, int y1, int x0, int x1, float *avg, float *mx)
{
    int c = m->c;
    double *acc = xcalloc((size_t)c, sizeof *acc);
    if (mx)
        for (int k = 0; k < c; k++) mx[k] = -INFINITY;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            const float *v = m->v + ((size_t)y * m->w + x) * c;
            for (int k = 0; k < c; k++) acc[k] += v[k];
            if (mx)
                for (int k = 0; k < c; k++)
                    if (v[k] > mx[k]) mx[k] = v[k];
        }
    double n = (double)(y1 - y0) * (x1 - x0);
    if (avg)
        for (int k = 0; k < c; k++) avg[k] = (float)(acc[k] / n);
    free(acc);
}

/* Luma, saturation and palette colour of a sampled grid of pixels, and
 * luma gradients on a box-averaged thumbnail. */
#define SAMPLES 96
#define THUMB 96

static void pixel_stats(const img *im, float *out_colour, float *out_light, float *out_texture)
{
    float hist[10][FEAT_NCOLOURS];
    double lsum[10] = {0}, n[10] = {0};
    memset(hist, 0, sizeof hist);
    double l1 = 0, l2 = 0, s1 = 0, s2 = 0;
    int sw = im->w < SAMPLES ? im->w : SAMPLES, sh = im->h < SAMPLES ? im->h : SAMPLES;
    for (int j = 0; j < sh; j++) {
        int y = (int)(((double)j + 0.5) * im->h / sh);
        int cy = j * 3 / sh;
        for (int i = 0; i < sw; i++) {
            int x = (int)(((double)i + 0.5) * im->w / sw);
            int cx = i * 3 / sw, cell = 1 + cy * 3 + cx;
            const uint8_t *p = im->px + ((size_t)y * im->w + x) * 3;
            int mxv = p[0] > p[1] ? p[0] : p[1], mnv = p[0] < p[1] ? p[0] : p[1];
            if (p[2] > mxv) mxv = p[2];
            if (p[2] < mnv) mnv = p[2];
            double l = (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]) / 255.0;
            double s = mxv ? (double)(mxv - mnv) / mxv : 0;
            int col = rgb_colour_name(p[0], p[1], p[2]);
            l1 += l; l2 += l * l; s1 += s; s2 += s * s;
            for (int k = 0; k < 2; k++) {
                int cc = k ? cell : 0;
                if (col >= 0 && col < FEAT_NCOLOURS) hist[cc][col] += 1;
                lsum[cc] += l;
                n[cc] += 1;
            }
        }
    }
    for (int cc = 0; cc < 10; cc++)
        for (int k = 0; k < FEAT_NCOLOURS; k++)
            out_colour[cc * FEAT_NCOLOURS + k] = n[cc] > 0 ? (float)(hist[cc][k] / n[cc]) : 0;
    double tot = n[0] > 0 ? n[0] : 1;
    double lm = l1 / tot, sm = s1 / tot;
    out_light[0] = (float)lm;
    out_light[1] = (float)sqrt(fmax(0, l2 / tot - lm * lm));
    out_light[2] = (float)sm;
    out_light[3] = (float)sqrt(fmax(0, s2 / tot - sm * sm));
    for (int cc = 1; cc < 10; cc++) out_light[3 + cc] = n[cc] > 0 ? (float)(lsum[cc] / n[cc]) : 0;

    /* Texture: the thumbnail averages boxes of the image, so the gradients
     * measure structure at about a hundredth of the frame, whatever the
     * resolution. */
    int tw = im->w < THUMB ? im->w : THUMB, th = im->h < THUMB ? im->h : THUMB;
    float *t = xcalloc((size_t)tw * th, sizeof *t);
    float *cnt = xcalloc((size_t)tw * th, sizeof *cnt);
    for (int y = 0; y < im->h; y++) {
        int ty = (int)((long)y * th / im->h);
        const uint8_t *row = im->px + (size_t)y * im->w * 3;
        for (int x = 0; x < im->w; x++) {
            int tx = (int)((long)x * tw / im->w);
            const uint8_t *p = row + (size_t)x * 3;
            t[ty * tw + tx] += (float)(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]) / 255.f;
            cnt[ty * tw + tx] += 1;
        }
    }
    for (int i = 0; i < tw * th; i++) t[i] = cnt[i] > 0 ? t[i] / cnt[i] : 0;
    double gx[9] = {0}, gy[9] = {0}, gn[9] = {0};
    for (int y = 0; y + 1 < th; y++)
        for (int x = 0; x + 1 < tw; x++) {
            int cell = (y * 3 / th) * 3 + x * 3 / tw;
            float v = t[y * tw + x];
            gx[cell] += fabsf(t[y * tw + x + 1] - v);
            gy[cell] += fabsf(t[(y + 1) * tw + x] - v);
            gn[cell] += 1;
        }
    for (int cc = 0; cc < 9; cc++) {
        out_texture[2 * cc] = gn[cc] > 0 ? (float)(gx[cc] / gn[cc]) : 0;
        out_texture[2 * cc + 1] = gn[cc] > 0 ? (float)(gy[cc] / gn[cc]) : 0;
    }
    free(t);
    free(cnt);
}

static int check_map(const det_map *m, int c, const char *what, ierr *e)
{
    if (m->v && m->h > 0 && m->w > 0 && (c <= 0 || m->c == c)) return 0;
    err_set(e, "features: the detector's %s map is %dx%dx%d, expected %d channels", what, m->h, m->w, m->c, c);
    return -1;
}

int features_compute(const det_maps *maps, const img *im, const description *ds, const uint8_t *pmask,
                     int pmw, int pmh, float *out, ierr *e)
{
    if (!im || !im->px || im->w < 1 || im->h < 1) {
        err_set(e, "features: empty image");
        return -1;
    }
    if (check_map(&maps->deep, FEAT_DEEP_C, "backbone", e) || check_map(&maps->head, FEAT_HEAD_C, "head", e) ||
        check_map(&maps->heat, FEAT_NCLASSES, "heat", e) || check_map(&maps->wide, FEAT_WIDE_C, "wide", e) ||
        check_map(&maps->mid, FEAT_MID_C, "mid", e))
        return -1;
    memset(out, 0, sizeof(float) * FEAT_DIM);

    int y0, y1, x0, x1;
    const det_map *d = &maps->deep;
    span(maps->fy0, maps->fy1, d->h, &y0, &y1);
    span(maps->fx0, maps->fx1, d->w, &x0, &x1);
    pool(d, y0, y1, x0, x1, out + FEAT_DEEP_AVG, out + FEAT_DEEP_MAX);
    /* 2×2 grid: halves of the picture's cells (an odd middle row or
     * column goes to both halves, so no cell is empty). */
    int hy = (y1 - y0 + 1) / 2, hx = (x1 - x0 + 1) / 2;
    int ya[2][2] = {{y0, y0 + hy}, {y1 - hy, y1}}, xa[2][2] = {{x0, x0 + hx}, {x1 - hx, x1}};
    for (int gy = 0; gy < 2; gy++)
        for (int gx = 0; gx < 2; gx++)
            pool(d, ya[gy][0], ya[gy][1], xa[gx][0], xa[gx][1], out + FEAT_DEEP_GRID + (gy * 2 + gx) * FEAT_DEEP_C,
                 NULL);

    const det_map *h = &maps->head;
    span(maps->fy0, maps->fy1, h->h, &y0, &y1);
    span(maps->fx0, maps->fx1, h->w, &x0, &x1);
    pool(h, y0, y1, x0, x1, out + FEAT_HEAD_AVG, NULL);

    const det_map *k = &maps->heat;
    span(maps->fy0, maps->fy1, k->h, &y0, &y1);
    span(maps->fx0, maps->fx1, k->w, &x0, &x1);
    float *heat_avg = xmalloc(sizeof(float) * FEAT_NCLASSES);
    pool(k, y0, y1, x0, x1, heat_avg, out + FEAT_HEAT);
    free(heat_avg);

    const det_map *wide[2] = {&maps->wide, &maps->mid};
    const int at[2] = {FEAT_WIDE_AVG, FEAT_MID_AVG}, chans[2] = {FEAT_WIDE_C, FEAT_MID_C};
    for (int i = 0; i < 2; i++) {
        span(maps->fy0, maps->fy1, wide[i]->h, &y0, &y1);
        span(maps->fx0, maps->fx1, wide[i]->w, &x0, &x1);
        pool(wide[i], y0, y1, x0, x1, out + at[i], out + at[i] + chans[i]);
    }

    pixel_stats(im, out + FEAT_COLOUR, out + FEAT_LIGHT, out + FEAT_TEXTURE);

    if (pmask && pmw > 0 && pmh > 0) {
        double s = 0;
        for (long i = 0; i < (long)pmw * pmh; i++) s += pmask[i];
        out[FEAT_PEOPLE] = (float)(s / 255.0 / ((double)pmw * pmh));
    }
    int people = 0, faces = 0;
    float parea = 0, farea = 0, fmax = 0;
    for (int i = 1; i < ds->nregions; i++) {
        const region *r = &ds->regions[i];
        float a = (r->x1 - r->x0) * (r->y1 - r->y0);
        if (!(a > 0)) a = 0;
        if (r->kind == REGION_OBJECT && !strcmp(r->label, "person")) { people++; parea += a; }
        if (r->kind == REGION_FACE) { faces++; farea += a; if (a > fmax) fmax = a; }
    }
    out[FEAT_PEOPLE + 1] = parea < 1 ? parea : 1;
    out[FEAT_PEOPLE + 2] = logf(1.f + (float)people);
    out[FEAT_FACES] = logf(1.f + (float)faces);
    out[FEAT_FACES + 1] = fmax;
    out[FEAT_FACES + 2] = farea < 1 ? farea : 1;
    for (int i = 0; i < FEAT_DIM; i++)
        if (!isfinite(out[i])) out[i] = 0;   /* never store a NaN the models would spread */
    return 0;
}

/* ---- the stage ----------------------------------------------------------- */

int stage_features_open(describer *d, stage_state *st, ierr *why)
{
    for (int i = 0; i < NSTAGES; i++)
        if (!strcmp(stage_table[i].name, "objects")) {
            if (!d->st[i].on || !d->st[i].h) break;
            st->h = d->st[i].h;   /* borrowed: the objects stage owns the detector */
            detector_keep_maps(st->h, 1);
            snprintf(st->model, sizeof st->model, "%s", FEAT_KIND);
            return 0;
        }
    err_set(why, "the object detector is not installed");
    return -1;
}

int stage_features_run(dctx *c, stage_state *st, ierr *e)
{
    det_maps m;
    if (detector_maps(st->h, &m) != 0) {
        err_set(e, "features: the detector kept no maps of this image");
        return -1;
    }
    float *v = xmalloc(sizeof(float) * FEAT_DIM);
    if (features_compute(&m, c->im, c->ds, c->pmask, c->pmw, c->pmh, v, e) != 0) {
        free(v);
        return -1;
    }
    description *ds = c->ds;
    free(ds->features);
    ds->features = v;
    ds->nfeatures = FEAT_DIM;
    snprintf(ds->features_kind, sizeof ds->features_kind, "%s", FEAT_KIND);
    return 0;
}
