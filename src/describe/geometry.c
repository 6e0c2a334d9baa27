/* geometry.c — where regions are, and how they stand to each other.
 *
 * Relations are graded 0..1 rather than decided, because language is vague:
 * a dog below-left of a person is "left of" it fairly well and "below" it
 * somewhat.  Every grade is a product of smooth factors of the two boxes
 * (normalised coordinates, y down), so queries can weigh them.  Depth comes
 * from the ground-plane cue: on a photo of things standing on the ground, the
 * one whose bottom edge is lower in the frame is nearer the camera.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "describe/internal.h"

const char *const rel_names[REL_N] = {
    "left_of", "right_of", "above", "below", "next_to", "on",
    "in_front", "behind", "inside", "near", "far",
};
enum { R_LEFT, R_RIGHT, R_ABOVE, R_BELOW, R_NEXT, R_ON, R_FRONT, R_BEHIND, R_INSIDE, R_NEAR, R_FAR };

static float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }
/* 0 at t<=0, 1 at t>=1, smooth in between. */
static float smooth(float t) { t = clampf(t, 0, 1); return t * t * (3 - 2 * t); }

void region_geometry(region *r)
{
    r->x0 = clampf(r->x0, 0, 1); r->y0 = clampf(r->y0, 0, 1);
    r->x1 = clampf(r->x1, r->x0, 1); r->y1 = clampf(r->y1, r->y0, 1);
    r->cx = (r->x0 + r->x1) / 2;
    r->cy = (r->y0 + r->y1) / 2;
    r->area = (r->x1 - r->x0) * (r->y1 - r->y0);
    /* A small object covers under ~1/20 of the frame (a cup on a table),
     * a large one over a quarter (a portrait's person). */
    r->size = r->area < 0.05f ? SIZE_SMALL : r->area < 0.25f ? SIZE_MEDIUM : SIZE_LARGE;
    const char *v = r->cy < 1.0f / 3 ? "top" : r->cy > 2.0f / 3 ? "bottom" : "middle";
    const char *h = r->cx < 1.0f / 3 ? "left" : r->cx > 2.0f / 3 ? "right" : "centre";
    snprintf(r->position, sizeof r->position, "%s %s", v, h);
}

static float area(box a) { return fmaxf(0, a.x1 - a.x0) * fmaxf(0, a.y1 - a.y0); }

static float inter(box a, box b)
{
    float w = fminf(a.x1, b.x1) - fmaxf(a.x0, b.x0);
    float h = fminf(a.y1, b.y1) - fmaxf(a.y0, b.y0);
    return w > 0 && h > 0 ? w * h : 0;
}

float box_iou(box a, box b)
{
    float i = inter(a, b), u = area(a) + area(b) - i;
    return u > 0 ? i / u : 0;
}

float box_cover(box a, box b)
{
    float aa = area(a);
    return aa > 0 ? inter(a, b) / aa : 0;
}

/* Grade of "a is on b": a's bottom edge rests in b's upper part, a's top is
 * above b's top, and b spans a horizontally (supports it). */
static float grade_on(box a, box b)
{
    float wa = a.x1 - a.x0, ha = a.y1 - a.y0, hb = b.y1 - b.y0;
    if (wa <= 0 || ha <= 0 || hb <= 0) return 0;
    float ox = fmaxf(0, fminf(a.x1, b.x1) - fmaxf(a.x0, b.x0)) / wa;
    float d = (a.y1 - b.y0) / hb;             /* where a's bottom falls in b */
    float contact = d < -0.05f ? smooth(1 + (d + 0.05f) / 0.15f)       /* a gap above b */
                  : d > 0.6f ? smooth(1 - (d - 0.6f) / 0.3f) : 1;       /* sunk too deep */
    float higher = smooth((b.y0 - a.y0) / (0.3f * ha));
    /* A support is not much narrower than what it carries. */
    float wide = smooth(((b.x1 - b.x0) / wa - 0.3f) / 0.5f);
    /* Most of a must be over b: a car at the far kerb is not on a bicycle
     * whose box corner it touches. */
    return smooth((ox - 0.4f) / 0.5f) * contact * higher * wide;
}

void relation_grades(box a, box b, float out[REL_N])
{
    float wa = fmaxf(a.x1 - a.x0, 1e-4f), ha = fmaxf(a.y1 - a.y0, 1e-4f);
    float wb = fmaxf(b.x1 - b.x0, 1e-4f), hb = fmaxf(b.y1 - b.y0, 1e-4f);
    float dx = (b.x0 + b.x1 - a.x0 - a.x1) / 2;  /* centre offset b - a */
    float dy = (b.y0 + b.y1 - a.y0 - a.y1) / 2;
    float len = sqrtf(dx * dx + dy * dy) + 1e-6f;
    /* Separation of the centres in units of the half-extents: 1 when the
     * boxes just touch side by side, 0 when the centres line up. */
    float sepx = dx / (0.5f * (wa + wb)), sepy = dy / (0.5f * (ha + hb));
    /* How much the offset points along the axis: diagonal placement still
     * counts, less. */
    float fx = 0.4f + 0.6f * fabsf(dx) / len, fy = 0.4f + 0.6f * fabsf(dy) / len;
    /* A narrower thing over one side of a wider one (a dog before the left
     * half of a bicycle) is to that side of it too, if less clearly: where
     * a's centre falls across b's extent. */
    float ux = wa < wb ? ((a.x0 + a.x1) / 2 - b.x0) / wb : 0.5f;
    float uy = ha < hb ? ((a.y0 + a.y1) / 2 - b.y0) / hb : 0.5f;
    out[R_LEFT] = fmaxf(smooth(sepx), 0.7f * smooth((0.5f - ux) / 0.35f)) * fx;
    out[R_RIGHT] = fmaxf(smooth(-sepx), 0.7f * smooth((ux - 0.5f) / 0.35f)) * fx;
    out[R_ABOVE] = fmaxf(smooth(sepy), 0.7f * smooth((0.5f - uy) / 0.35f)) * fy;
    out[R_BELOW] = fmaxf(smooth(-sepy), 0.7f * smooth((uy - 0.5f) / 0.35f)) * fy;

    float gx = fmaxf(0, fmaxf(a.x0, b.x0) - fminf(a.x1, b.x1));
    float gy = fmaxf(0, fmaxf(a.y0, b.y0) - fminf(a.y1, b.y1));
    float vo = fmaxf(0, fminf(a.y1, b.y1) - fmaxf(a.y0, b.y0)) / fminf(ha, hb);
    float scale = 0.5f * (sqrtf(wa * wa + ha * ha) + sqrtf(wb * wb + hb * hb));
    float gap = sqrtf(gx * gx + gy * gy) / scale;   /* 0 when touching or overlapping */
    /* Beside: side by side at the same height, close, not stacked. */
    out[R_NEXT] = sqrtf(clampf(vo, 0, 1)) * expf(-1.5f * gx / (0.5f * (wa + wb))) *
                  smooth(fabsf(sepx) / 0.7f);
    out[R_NEAR] = expf(-2.0f * gap);
    out[R_FAR] = 1 - expf(-0.7f * gap);

    float on_ab = grade_on(a, b), on_ba = grade_on(b, a);
    out[R_ON] = on_ab;
    float ia = area(a), ib = area(b), i = inter(a, b);
    float contained = ia > 0 ? i / ia : 0;
    /* Depth: a lower bottom edge is nearer; overlap makes the ordering
     * visible (occlusion), distance in the frame makes it weaker.  A rider on
     * a horse is not "behind" it, so "on" cancels the depth reading. */
    float ov = fminf(ia, ib) > 0 ? i / fminf(ia, ib) : 0;
    float depth = (a.y1 - b.y1) / 0.2f;
    float vis = 0.5f + 0.5f * smooth(ov / 0.2f);
    out[R_FRONT] = smooth(depth) * vis * (1 - on_ba);
    out[R_BEHIND] = smooth(-depth) * vis * (1 - on_ab);
    /* Inside: a's box within b's; not when a stands out in front of b (a dog
     * before a bicycle has its box within the bicycle's, but is not in it). */
    out[R_INSIDE] = ia < ib ? smooth((contained - 0.5f) / 0.45f) * (1 - smooth(depth)) : 0;
}

int relations_compute(const region *regs, int n, float min_weight, relation **out)
{
    *out = NULL;
    int cap = 0, cnt = 0;
    relation *rs = NULL;
    /* Relations between detected things (and named segments) only: the
     * whole image and text lines have no useful "left of".  In a crowd only the first (most
     * confident) things take part, so the count stays bounded. */
    int use[RELATION_MAX_REGIONS], nu = 0;
    for (int i = 1; i < n && nu < RELATION_MAX_REGIONS; i++)
        if (regs[i].kind == REGION_OBJECT || regs[i].kind == REGION_FACE ||
            (regs[i].kind == REGION_SEGMENT && regs[i].label[0]))
            use[nu++] = i;
    for (int ii = 0; ii < nu; ii++) {
        int i = use[ii];
        for (int jj = 0; jj < nu; jj++) {
            int j = use[jj];
            if (i == j) continue;
            box a = {regs[i].x0, regs[i].y0, regs[i].x1, regs[i].y1};
            box b = {regs[j].x0, regs[j].y0, regs[j].x1, regs[j].y1};
            /* A segment named after a box is (part of) that thing: "the dog
             * inside the dog" says nothing. */
            if ((regs[i].kind == REGION_SEGMENT || regs[j].kind == REGION_SEGMENT) &&
                !strcmp(regs[i].label, regs[j].label) && (box_cover(a, b) >= 0.5f || box_cover(b, a) >= 0.5f))
                continue;
            float g[REL_N];
            relation_grades(a, b, g);
            for (int k = 0; k < REL_N; k++) {
                /* "far" holds for most pairs in a wide shot; only the clear
                 * cases are worth storing (a query can read a missing "near"
                 * as far). */
                if (g[k] < (k == R_FAR ? fmaxf(min_weight, 0.7f) : min_weight)) continue;
                if (cnt == cap) { cap = cap ? cap * 2 : 32; rs = xrealloc(rs, (size_t)cap * sizeof *rs); }
                relation *r = &rs[cnt++];
                r->a = i; r->b = j;
                snprintf(r->rel, sizeof r->rel, "%s", rel_names[k]);
                r->weight = g[k];
            }
        }
    }
    *out = rs;
    return cnt;
}
