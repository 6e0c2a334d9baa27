/* ocr.c — text in the image (first version: not wired yet). */
#include <stdio.h>

#include "describe/stages.h"

int stage_ocr_open(describer *d, stage_state *st, ierr *why)
{
    (void)why;
    snprintf(st->model, sizeof st->model, "%s", d->o.ocr ? "missing" : "off");
    return -1;
}
int stage_ocr_run(dctx *c, stage_state *st, ierr *e) { (void)c; (void)st; (void)e; return 0; }
void stage_ocr_close(describer *d, stage_state *st) { (void)d; (void)st; }
