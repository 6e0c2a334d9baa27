/* geom.c — how well two (or three) boxes satisfy a spatial relation, graded
 * 0..1 so that "a bit to the left" scores less than "clearly to the left".
 * Boxes are normalised to the image (0..1, y down).  These are recomputed
 * from the stored boxes at query time; the describer's stored relations are
 * used as a second opinion (the ranker takes the larger). */
#include <math.h>
#include <string.h>

#include "query/rank.h"

static float clamp01(float v) { return v < 0 ? 0 : v > 1 ? 1 : v; }
static float w(const q_box *b) { return b->x1 - b->x0; }
static float h(const q_box *b) { return b->y1 - b->y0; }
static float cx(const q_box *b) { return 0.5f * (b->x0 + b->x1); }
static float cy(const q_box *b) { return 0.5f * (b->y0 + b->y1); }

static float overlap1(float a0, float a1, float b0, float b1)
{
    float o = fminf(a1, b1) - fmaxf(a0, b0);
    return o > 0 ? o : 0;
}

/* Intersection over the area of a. */
static float inside_frac(const q_box *a, const q_box *b)
{
    float ia = overlap1(a->x0, a->x1, b->x0, b->x1) * overlap1(a->y0, a->y1, b->y0, b->y1);
    float aa = w(a) * h(a);
    return aa > 1e-6f ? ia / aa : 0;
}

/* Gap between the boxes (0 when they touch or overlap), in image units. */
static float gap(const q_box *a, const q_box *b)
{
    float gx = fmaxf(0, fmaxf(a->x0, b->x0) - fminf(a->x1, b->x1));
    float gy = fmaxf(0, fmaxf(a->y0, b->y0) - fminf(a->y1, b->y1));
    return sqrtf(gx * gx + gy * gy);
}

/* a's centre is `d` mean half-widths along the axis from b's centre: one
 * full mean size apart is a clear yes. */
static float directional(float da, float sa, float sb)
{
    float scale = fmaxf(0.05f, 0.5f * (sa + sb));
    return clamp01(da / scale);
}

float q_rel_geom(const char *rel, const q_box *a, const q_box *b, const q_box *c)
{
    if (!strcmp(rel, "left_of")) return directional(cx(b) - cx(a), w(a), w(b));
    if (!strcmp(rel, "right_of")) return directional(cx(a) - cx(b), w(a), w(b));
    if (!strcmp(rel, "above")) return directional(cy(b) - cy(a), h(a), h(b));
    if (!strcmp(rel, "below")) return directional(cy(a) - cy(b), h(a), h(b));
    if (!strcmp(rel, "on")) {
        /* a rests on b: a is higher, overlaps b horizontally, and a's bottom
         * edge is within b's vertical extent (or just above it). */
        float ox = overlap1(a->x0, a->x1, b->x0, b->x1) / fmaxf(1e-3f, fminf(w(a), w(b)));
        float contact = (a->y1 >= b->y0 - 0.05f && a->y1 <= b->y1 + 0.05f) ? 1.0f : 0.3f;
        float higher = cy(a) < cy(b) ? 1.0f : 0.3f;
        return clamp01(ox) * contact * higher;
    }
    if (!strcmp(rel, "next_to")) {
        /* side by side: small gap, comparable vertical placement, not one inside the other */
        float g = gap(a, b);
        float vo = overlap1(a->y0, a->y1, b->y0, b->y1) / fmaxf(1e-3f, fminf(h(a), h(b)));
        float contained = fmaxf(inside_frac(a, b), inside_frac(b, a));
        return clamp01(1 - g / 0.25f) * (0.5f + 0.5f * clamp01(vo)) * (1 - 0.6f * contained);
    }
    if (!strcmp(rel, "near")) {
        float g = gap(a, b);
        return clamp01(1 - g / 0.35f);
    }
    if (!strcmp(rel, "far")) {
        float dx = cx(a) - cx(b), dy = cy(a) - cy(b);
        return clamp01(sqrtf(dx * dx + dy * dy) / 0.6f);
    }
    if (!strcmp(rel, "inside")) return clamp01(inside_frac(a, b) / 0.8f);
    if (!strcmp(rel, "behind") || !strcmp(rel, "in_front")) {
        /* Occlusion cue: the nearer object overlaps the farther one and
         * reaches lower in the frame (closer to the camera on the ground). */
        const q_box *back = !strcmp(rel, "behind") ? a : b, *front = back == a ? b : a;
        float ov = overlap1(a->x0, a->x1, b->x0, b->x1) * overlap1(a->y0, a->y1, b->y0, b->y1);
        float minarea = fmaxf(1e-4f, fminf(w(a) * h(a), w(b) * h(b)));
        float overl = clamp01(ov / minarea * 3);
        float lower = front->y1 > back->y1 ? 1.0f : 0.35f;
        return (0.25f + 0.75f * overl) * lower;
    }
    if (!strcmp(rel, "between") && c) {
        float lo = fminf(cx(b), cx(c)), hi = fmaxf(cx(b), cx(c));
        if (hi - lo < 1e-3f) return 0;
        float t = (cx(a) - lo) / (hi - lo);
        /* 1 in the middle, 0 at or beyond either end */
        float s = clamp01(1 - fabsf(t - 0.5f) * 2);
        return clamp01(s * 1.5f);
    }
    return 0;
}

/* Agreement of a region's centre with a global position target. */
float q_position_score(float rx, float ry, float px, float py)
{
    if (px < 0) return 1;
    float dx = rx - px, dy = ry - py;
    /* "left" targets only x, "top" only y */
    if (fabsf(py - 0.5f) < 1e-3f && fabsf(px - 0.5f) > 1e-3f) dy = 0;
    if (fabsf(px - 0.5f) < 1e-3f && fabsf(py - 0.5f) > 1e-3f) dx = 0;
    return clamp01(1 - sqrtf(dx * dx + dy * dy) / 0.6f);
}
