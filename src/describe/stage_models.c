/* stage_models.c — the stages backed by the embedded vision models:
 * objects (centernet), faces (blazeface + attributes), the person mask
 * (selfie), and merging overlapping duplicates.
 *
 * First version: the vision models are not built yet, so these stages say
 * "missing" and the rest of the pipeline runs without them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe/stages.h"

int stage_objects_open(describer *d, stage_state *st, ierr *why)
{
    (void)d;
    snprintf(st->model, sizeof st->model, "missing");
    err_set(why, "object detector not available");
    return -1;
}
int stage_objects_run(dctx *c, stage_state *st, ierr *e) { (void)c; (void)st; (void)e; return 0; }
void stage_objects_close(describer *d, stage_state *st) { (void)d; (void)st; }

int stage_faces_open(describer *d, stage_state *st, ierr *why)
{
    (void)d;
    snprintf(st->model, sizeof st->model, "missing");
    err_set(why, "face detector not available");
    return -1;
}
int stage_faces_run(dctx *c, stage_state *st, ierr *e) { (void)c; (void)st; (void)e; return 0; }
void stage_faces_close(describer *d, stage_state *st) { (void)d; (void)st; }

int stage_pmask_open(describer *d, stage_state *st, ierr *why)
{
    (void)d;
    snprintf(st->model, sizeof st->model, "missing");
    err_set(why, "person mask not available");
    return -1;
}
int stage_pmask_run(dctx *c, stage_state *st, ierr *e) { (void)c; (void)st; (void)e; return 0; }
void stage_pmask_close(describer *d, stage_state *st) { (void)d; (void)st; }

/* Overlapping duplicates: two object boxes of the same label that overlap
 * heavily are one thing seen twice; keep the more confident. */
int stage_merge_run(dctx *c, stage_state *st, ierr *e)
{
    (void)st; (void)e;
    description *ds = c->ds;
    int n = ds->nregions;
    for (int i = 1; i < n; i++) {
        region *a = &ds->regions[i];
        if (a->kind != REGION_OBJECT && a->kind != REGION_FACE) continue;
        for (int j = i + 1; j < n; j++) {
            region *b = &ds->regions[j];
            if (b->kind != a->kind || strcmp(a->label, b->label)) continue;
            box ba = {a->x0, a->y0, a->x1, a->y1}, bb = {b->x0, b->y0, b->x1, b->y1};
            if (box_iou(ba, bb) < 0.6f && box_cover(ba, bb) < 0.9f && box_cover(bb, ba) < 0.9f) continue;
            region *drop = a->score >= b->score ? b : a;
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
    return 0;
}
