/* progress.c — "[#####.....]  123/300  4.2 img/s  ETA 0:43" on stderr.
 *
 * Drawn only when stderr is a terminal (the caller decides), redrawn in
 * place with \r, and erased before any warning so lines never interleave. */
#include "index/progress.h"

#include <stdio.h>

#include "base/base.h"

static void draw(progress *p)
{
    double el = now_seconds() - p->t0;
    double rate = el > 0 ? p->done / el : 0;
    char eta[32] = "--:--";
    if (rate > 0 && p->done < p->total) {
        long s = (long)((p->total - p->done) / rate + 0.5);
        if (s >= 3600)
            snprintf(eta, sizeof eta, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
        else
            snprintf(eta, sizeof eta, "%ld:%02ld", s / 60, s % 60);
    } else if (p->done >= p->total) {
        snprintf(eta, sizeof eta, "0:00");
    }
    char bar[31];
    int fill = p->total > 0 ? (int)(30.0 * p->done / p->total) : 30;
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    fprintf(stderr, "\r\033[K[%s] %d/%d  %.1f img/s  ETA %s", bar, p->done, p->total, rate, eta);
    fflush(stderr);
    p->drawn = 1;
    p->last = now_seconds();
}

void progress_start(progress *p, int on, int total)
{
    p->on = on && total > 0;
    p->total = total;
    p->done = 0;
    p->t0 = p->last = now_seconds();
    p->drawn = 0;
    if (p->on) draw(p);
}

void progress_set(progress *p, int done)
{
    p->done = done;
    if (p->on && (now_seconds() - p->last >= 0.1 || done >= p->total)) draw(p);
}

void progress_warn(progress *p, const char *msg)
{
    if (p->on && p->drawn) fprintf(stderr, "\r\033[K");
    log_warn("%s", msg);
    if (p->on) draw(p);
}

void progress_end(progress *p)
{
    if (p->on && p->drawn) {
        draw(p);
        fputc('\n', stderr);
    }
    p->drawn = 0;
}
