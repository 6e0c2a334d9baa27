/* stage_models.c — the stages backed by the embedded vision models:
 * objects (centernet), faces (blazeface + gear/emotion attributes), the
 * person mask (selfie) that refines person boxes, and merging overlapping
 * duplicates.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe/stages.h"

#define MAX_DETS 100
#define MAX_FACES 32
#define FACE_PERSON_MIN 40   /* pixels of person height */

/* ---- objects ------------------------------------------------------------ */

int stage_objects_open(describer *d, stage_state *st, ierr *why)
{
    (void)d;
    detector *det = detector_open(why);
    if (!det) { snprintf(st->model, sizeof st->model, "missing"); return -1; }
    st->h = det;
    snprintf(st->model, sizeof st->model, "centernet");
    return 0;
}

int stage_objects_run(dctx *c, stage_state *st, ierr *e)
{
    det_box b[MAX_DETS];
    int n = detector_run(st->h, c->im, c->d->o.min_score, b, MAX_DETS, e);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) {
        region *r = ctx_add_region(c);
        r->kind = REGION_OBJECT;
        snprintf(r->label, sizeof r->label, "%s", b[i].label ? b[i].label : coco_label(b[i].cls));
        r->score = b[i].score;
        r->x0 = b[i].x0; r->y0 = b[i].y0; r->x1 = b[i].x1; r->y1 = b[i].y1;
    }
    return 0;
}

void stage_objects_close(describer *d, stage_state *st)
{
    (void)d;
    detector_close(st->h);
    st->h = NULL;
}

/* ---- faces -------------------------------------------------------------- */

int stage_faces_open(describer *d, stage_state *st, ierr *why)
{
    (void)d;
    face_model *f = faces_open(why);
    if (!f) { snprintf(st->model, sizeof st->model, "missing"); return -1; }
    st->h = f;
    /* The attribute models are optional inside faces_open; the version names
     * those present so installing one later re-describes faces. */
    snprintf(st->model, sizeof st->model, "blazeface");
    static const char *const extra[] = {"gear", "emotion"};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        const model_info *m = models_find(extra[i]);
        if (m && models_installed(m, NULL)) {
            size_t len = strlen(st->model);
            snprintf(st->model + len, sizeof st->model - len, "+%s", extra[i]);
        }
    }
    return 0;
}

static const char *age_group(int age)
{
    return age < 13 ? "child" : age < 20 ? "teenager" : age < 36 ? "young" : age < 60 ? "adult" : "senior";
}

int stage_faces_run(dctx *c, stage_state *st, ierr *e)
{
    /* When the object detector ran and saw nobody, there is no face worth
     * the face models' time (they cost as much as the detector). */
    if (describer_stage_on(c->d, "objects")) {
        /* Nor when every person is too small to show a face the face
         * detector can find (a face is about a seventh of a person's
         * height, and it needs some 6 pixels). */
        int people = 0;
        for (int i = 1; i < c->ds->nregions; i++) {
            const region *r = &c->ds->regions[i];
            people += r->kind == REGION_OBJECT && !strcmp(r->label, "person") &&
                      (r->y1 - r->y0) * (float)c->im->h >= FACE_PERSON_MIN;
        }
        if (!people) return 0;
    }
    det_box b[MAX_FACES];
    face_attrs a[MAX_FACES];
    memset(a, 0, sizeof a);
    for (int i = 0; i < MAX_FACES; i++) a[i].age = -1;
    int n = faces_run(st->h, c->im, 0.5f, b, a, MAX_FACES, e);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) {
        region *r = ctx_add_region(c);
        r->kind = REGION_FACE;
        snprintf(r->label, sizeof r->label, "face");
        r->score = b[i].score;
        r->x0 = b[i].x0; r->y0 = b[i].y0; r->x1 = b[i].x1; r->y1 = b[i].y1;
        char *p = r->attrs;
        size_t left = sizeof r->attrs;
        int k;
        /* Only what the models said with some confidence. */
        if (a[i].age >= 0) {
            k = snprintf(p, left, "age=%d agegroup=%s", a[i].age, age_group(a[i].age));
            if (k > 0 && (size_t)k < left) { p += k; left -= (size_t)k; }
        }
        if (a[i].gender[0] && a[i].gender_score >= 0.6f) {
            k = snprintf(p, left, "%sgender=%s", p == r->attrs ? "" : " ", a[i].gender);
            if (k > 0 && (size_t)k < left) { p += k; left -= (size_t)k; }
        }
        if (a[i].emotion[0] && a[i].emotion_score >= 0.4f) {
            k = snprintf(p, left, "%semotion=%s", p == r->attrs ? "" : " ", a[i].emotion);
            if (k > 0 && (size_t)k < left) { p += k; left -= (size_t)k; }
        }
    }
    return 0;
}

void stage_faces_close(describer *d, stage_state *st)
{
    (void)d;
    faces_close(st->h);
    st->h = NULL;
}

/* ---- person mask -------------------------------------------------------- */

int stage_pmask_open(describer *d, stage_state *st, ierr *why)
{
    (void)d;
    person_mask *p = person_mask_open(why);
    if (!p) { snprintf(st->model, sizeof st->model, "missing"); return -1; }
    st->h = p;
    snprintf(st->model, sizeof st->model, "selfie");
    return 0;
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Tighten a person box to the mask inside it, and keep the mask. */
static void refine_person(region *r, const uint8_t *m, int mw, int mh)
{
    /* Search a little outside the detector's box: boxes often clip limbs. */
    float ex = 0.05f * (r->x1 - r->x0), ey = 0.05f * (r->y1 - r->y0);
    int x0 = clampi((int)floorf((r->x0 - ex) * (float)mw), 0, mw - 1);
    int y0 = clampi((int)floorf((r->y0 - ey) * (float)mh), 0, mh - 1);
    int x1 = clampi((int)ceilf((r->x1 + ex) * (float)mw), x0 + 1, mw);
    int y1 = clampi((int)ceilf((r->y1 + ey) * (float)mh), y0 + 1, mh);
    /* A person a few mask cells across is below what the mask resolves. */
    if (x1 - x0 < 6 || y1 - y0 < 8) return;
    int bx0 = mw, by0 = mh, bx1 = -1, by1 = -1;
    long in = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            if (m[(size_t)y * mw + x] >= 128) {
                in++;
                if (x < bx0) bx0 = x;
                if (x > bx1) bx1 = x;
                if (y < by0) by0 = y;
                if (y > by1) by1 = y;
            }
    long cells = (long)(x1 - x0) * (y1 - y0);
    /* Too little mask: the selfie model missed this person (small, far,
     * back turned); keep the detector's box as it is. */
    if (in < 6 || in * 10 < cells) return;
    float nx0 = (float)bx0 / (float)mw, ny0 = (float)by0 / (float)mh;
    float nx1 = (float)(bx1 + 1) / (float)mw, ny1 = (float)(by1 + 1) / (float)mh;
    /* The mask also covers neighbours; only ever move an edge by a bounded
     * amount, so one person's box does not swallow the next. */
    float w = r->x1 - r->x0, h = r->y1 - r->y0;
    r->x0 = fmaxf(nx0, r->x0 - 0.1f * w); r->x1 = fminf(nx1, r->x1 + 0.1f * w);
    r->y0 = fmaxf(ny0, r->y0 - 0.1f * h); r->y1 = fminf(ny1, r->y1 + 0.1f * h);
    if (r->x1 <= r->x0 || r->y1 <= r->y0) return;
    /* Resample the mask over the refined box into at most 48 cells a side. */
    int gw = clampi((int)lroundf((r->x1 - r->x0) * (float)mw), 1, 48);
    int gh = clampi((int)lroundf((r->y1 - r->y0) * (float)mh), 1, 48);
    uint8_t *g = xmalloc((size_t)gw * (size_t)gh);
    for (int y = 0; y < gh; y++) {
        int my = clampi((int)((r->y0 + (r->y1 - r->y0) * ((float)y + 0.5f) / (float)gh) * (float)mh), 0, mh - 1);
        for (int x = 0; x < gw; x++) {
            int mx = clampi((int)((r->x0 + (r->x1 - r->x0) * ((float)x + 0.5f) / (float)gw) * (float)mw), 0, mw - 1);
            g[y * gw + x] = m[(size_t)my * mw + mx];
        }
    }
    free(r->mask_rle);
    r->mask_rle = mask_rle_encode(g, gw, gh, &r->mask_len);
    free(g);
}

int stage_pmask_run(dctx *c, stage_state *st, ierr *e)
{
    int people = 0;
    for (int i = 1; i < c->ds->nregions; i++)
        people += c->ds->regions[i].kind == REGION_OBJECT && !strcmp(c->ds->regions[i].label, "person");
    if (!people) return 0;   /* the mask only refines people the detector found */
    uint8_t *m = NULL;
    int mw = 0, mh = 0;
    if (person_mask_run(st->h, c->im, &m, &mw, &mh, e) != 0) return -1;
    if (!m || mw <= 0 || mh <= 0) { free(m); return 0; }
    for (int i = 1; i < c->ds->nregions; i++) {
        region *r = &c->ds->regions[i];
        if (r->kind == REGION_OBJECT && !strcmp(r->label, "person")) refine_person(r, m, mw, mh);
    }
    free(c->pmask);
    c->pmask = m;
    c->pmw = mw;
    c->pmh = mh;
    return 0;
}

void stage_pmask_close(describer *d, stage_state *st)
{
    (void)d;
    person_mask_close(st->h);
    st->h = NULL;
}

/* ---- merging duplicates ------------------------------------------------- */

static int is_animal(const char *l)
{
    static const char *const a[] = {"bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear",
                                    "zebra", "giraffe", "teddy bear"};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        if (!strcmp(l, a[i])) return 1;
    return 0;
}

/* The face detector also fires on animals' faces.  When the object detector
 * ran, a face that no person box holds is kept only when it is confident and
 * not on an animal. */
static void drop_animal_faces(description *ds)
{
    for (int i = 1; i < ds->nregions; i++) {
        region *f = &ds->regions[i];
        if (f->kind != REGION_FACE) continue;
        box bf = {f->x0, f->y0, f->x1, f->y1};
        float in_person = 0, in_animal = 0;
        for (int j = 1; j < ds->nregions; j++) {
            const region *o = &ds->regions[j];
            if (o->kind != REGION_OBJECT) continue;
            box bo = {o->x0, o->y0, o->x1, o->y1};
            float c = box_cover(bf, bo);
            if (!strcmp(o->label, "person")) in_person = fmaxf(in_person, c);
            else if (is_animal(o->label)) in_animal = fmaxf(in_animal, c);
        }
        if (in_person < 0.5f && (in_animal >= 0.5f || f->score < 0.75f)) f->kind = -1;
    }
}

static void add_alt(region *r, const char *label)
{
    char *alt = strstr(r->attrs, "alt=");
    size_t len = strlen(r->attrs);
    if (!alt) snprintf(r->attrs + len, sizeof r->attrs - len, "%salt=%s", len ? " " : "", label);
    else if (!alt[4 + strcspn(alt + 4, " ")] && len + strlen(label) + 2 < sizeof r->attrs)
        snprintf(r->attrs + len, sizeof r->attrs - len, ",%s", label);   /* alt= is last: extend it */
}

/* Two boxes of the same label that overlap heavily are one thing seen
 * twice: keep the more confident.  Different labels on nearly the same box
 * (car / truck) are one thing the detector was unsure about: keep the more
 * confident label and remember the other in attrs. */
int stage_merge_run(dctx *c, stage_state *st, ierr *e)
{
    (void)st; (void)e;
    description *ds = c->ds;
    if (describer_stage_on(c->d, "objects")) drop_animal_faces(ds);
    int n = ds->nregions;
    for (int i = 1; i < n; i++) {
        region *a = &ds->regions[i];
        if (a->kind < 0) continue;
        if (a->kind != REGION_OBJECT && a->kind != REGION_FACE) continue;
        for (int j = i + 1; j < n; j++) {
            region *b = &ds->regions[j];
            if (b->kind != a->kind) continue;
            box ba = {a->x0, a->y0, a->x1, a->y1}, bb = {b->x0, b->y0, b->x1, b->y1};
            float iou = box_iou(ba, bb);
            int same = !strcmp(a->label, b->label);
            if (same ? (iou < 0.6f && box_cover(ba, bb) < 0.9f && box_cover(bb, ba) < 0.9f) : iou < 0.85f)
                continue;
            region *keep = a->score >= b->score ? a : b, *drop = keep == a ? b : a;
            /* Close runners-up on the same box are kept as alternatives
             * ("alt=cow,horse"): the detector could not tell, so neither
             * should the description pretend to. */
            if (!same && drop->score >= 0.6f * keep->score) add_alt(keep, drop->label);
            drop->kind = -1;   /* marked, removed below */
            if (drop == a) break;
        }
    }
    int k = 1;
    for (int i = 1; i < n; i++) {
        if (ds->regions[i].kind < 0) {
            free(ds->regions[i].mask_rle);
            free(ds->regions[i].embedding);
            continue;
        }
        ds->regions[k++] = ds->regions[i];
    }
    ds->nregions = k;
    /* Most confident first within each kind, objects before faces: stable
     * region numbers for the same image, and captions name the sure things. */
    for (int i = 2; i < k; i++)
        for (int j = i; j > 1; j--) {
            region *p = &ds->regions[j - 1], *q = &ds->regions[j];
            if (p->kind < q->kind || (p->kind == q->kind && p->score >= q->score)) break;
            region t = *p; *p = *q; *q = t;
        }
    return 0;
}
