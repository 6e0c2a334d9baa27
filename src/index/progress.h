/* progress.h — internal to src/index: the indexing progress bar on stderr. */
#ifndef IMGDEX_PROGRESS_H
#define IMGDEX_PROGRESS_H

typedef struct progress {
    int on;                  /* draw at all (stderr is a terminal and asked for) */
    int total, done;
    double t0, last;
    int drawn;               /* a bar is on screen and must be cleared before other output */
} progress;

void progress_start(progress *p, int on, int total);
/* Redraws at most ten times a second. */
void progress_set(progress *p, int done);
/* A one-line warning that does not get mixed into the bar. */
void progress_warn(progress *p, const char *msg);
void progress_end(progress *p);

#endif
