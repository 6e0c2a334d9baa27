/* engine.h — process-wide knobs of the inference engine. */
#ifndef IMGDEX_ENGINE_H
#define IMGDEX_ENGINE_H

/* Threads used inside ops (convolutions, GEMM, elementwise).  0 = all
 * online CPUs (the default; $IMGDEX_THREADS overrides at first use).
 * Also sets OpenBLAS' own thread count so the two never oversubscribe. */
void engine_set_threads(int n);
int engine_threads(void);

/* on = 1: ops called from this thread run on this thread alone.  For
 * callers that already keep every core busy with one image per thread (the
 * indexer's workers): splitting each op over the shared pool as well would
 * only make those threads queue for it and wait for each other. */
void engine_thread_serial(int on);

#endif
