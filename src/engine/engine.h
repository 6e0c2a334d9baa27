/* engine.h — process-wide knobs of the inference engine. */
#ifndef IMGDEX_ENGINE_H
#define IMGDEX_ENGINE_H

/* Threads used inside ops (convolutions, GEMM, elementwise).  0 = all
 * online CPUs (the default; $IMGDEX_THREADS overrides at first use).
 * Also sets OpenBLAS' own thread count so the two never oversubscribe. */
void engine_set_threads(int n);
int engine_threads(void);

#endif
