/* pool.c — a tiny fork-join thread pool.
 *
 * Workers sleep on a condition variable; pool_for publishes one job (a
 * function and a range), every worker takes its fixed slice, and the caller
 * takes slice 0 and waits for the rest.  The models run hundreds of small
 * ops per image, so the job hand-off is a generation counter rather than a
 * queue: nothing is allocated per call. */
#include <pthread.h>
#include <stdlib.h>

#include <cblas.h>

#include "base/base.h"
#include "engine/engine.h"
#include "engine/pool.h"

#define POOL_MAX 64

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER, done = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t run_mu = PTHREAD_MUTEX_INITIALIZER;  /* one pool_for at a time */
static int nthreads;            /* threads wanted, including the caller's */
static int nworkers;            /* started worker threads */
static unsigned long gen;       /* bumped for each job */
static int pending;             /* workers still busy with the job */
static pool_fn job_fn;
static void *job_ctx;
static long job_n;
static int job_parts;
static __thread int in_pool;    /* this thread is running a pool slice */
static __thread int serial;     /* engine_thread_serial */

static void slice(int part, int parts, long n, long *b, long *e)
{
    *b = n * part / parts;
    *e = n * (part + 1) / parts;
}

static void *worker(void *arg)
{
    int id = (int)(long)arg;    /* 1..nworkers */
    unsigned long seen = 0;
    in_pool = 1;
    pthread_mutex_lock(&mu);
    for (;;) {
        while (gen == seen) pthread_cond_wait(&wake, &mu);
        seen = gen;
        int parts = job_parts;
        pool_fn fn = job_fn;
        void *ctx = job_ctx;
        long n = job_n;
        pthread_mutex_unlock(&mu);
        if (id < parts) {
            long b, e;
            slice(id, parts, n, &b, &e);
            if (e > b) fn(ctx, b, e);
        }
        pthread_mutex_lock(&mu);
        if (id < parts && --pending == 0) pthread_cond_signal(&done);
    }
    return NULL;
}

static int env_threads(void)
{
    const char *s = getenv("IMGDEX_THREADS");
    int n = s ? atoi(s) : 0;
    return n > 0 ? n : cpu_count();
}

void engine_set_threads(int n)
{
    if (n <= 0) n = env_threads();
    if (n > POOL_MAX) n = POOL_MAX;
    pthread_mutex_lock(&run_mu);
    pthread_mutex_lock(&mu);
    nthreads = n;
    while (nworkers < n - 1) {
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &at, worker, (void *)(long)(nworkers + 1)) != 0) {
            pthread_attr_destroy(&at);
            nthreads = nworkers + 1;
            break;
        }
        pthread_attr_destroy(&at);
        nworkers++;
    }
    pthread_mutex_unlock(&mu);
    pthread_mutex_unlock(&run_mu);
    /* The engine splits work itself (each slice calls a single-threaded
     * GEMM); OpenBLAS' own threads on top would only oversubscribe. */
    openblas_set_num_threads(1);
}

void engine_thread_serial(int on) { serial = on != 0; }

int engine_threads(void)
{
    if (!nthreads) engine_set_threads(0);
    return nthreads;
}

void pool_for(long n, long min_per_thread, pool_fn fn, void *ctx)
{
    if (n <= 0) return;
    int parts = engine_threads();
    if (min_per_thread < 1) min_per_thread = 1;
    if (parts > n / min_per_thread) parts = (int)(n / min_per_thread);
    if (parts <= 1 || in_pool || serial) {
        fn(ctx, 0, n);
        return;
    }
    pthread_mutex_lock(&run_mu);
    pthread_mutex_lock(&mu);
    job_fn = fn;
    job_ctx = ctx;
    job_n = n;
    job_parts = parts;
    pending = parts - 1;
    gen++;
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&mu);

    long b, e;
    slice(0, parts, n, &b, &e);
    in_pool = 1;
    fn(ctx, b, e);
    in_pool = 0;

    pthread_mutex_lock(&mu);
    while (pending > 0) pthread_cond_wait(&done, &mu);
    pthread_mutex_unlock(&mu);
    pthread_mutex_unlock(&run_mu);
}
