/* pool.h — the engine's thread pool: split a range of work items over the
 * engine's threads and wait for all of them.
 *
 * One pool per process, started lazily.  Calls may not nest: a function
 * running inside pool_for runs the inner range itself (serially), so ops can
 * call each other without deadlock. */
#ifndef IMGDEX_POOL_H
#define IMGDEX_POOL_H

#include <stddef.h>

/* fn(ctx, begin, end) over [0, n) in contiguous chunks, at most one chunk
 * per thread (the caller's thread takes one).  Items are split evenly;
 * when n < min_per_thread * 2 everything runs on the calling thread. */
typedef void (*pool_fn)(void *ctx, long begin, long end);
void pool_for(long n, long min_per_thread, pool_fn fn, void *ctx);

#endif
