/* bench_sam.c — SAM ViT-B image encoding (1024 x 1024 input, 64 x 64 x 256
 * embeddings): wall and CPU seconds per image on 1 and 2 threads, next to
 * the PyTorch reference (tests/sam_ref.py, float32, same weights, same
 * thread count) measured in the same run; GFLOP per CPU second against
 * this CPU's FP32 FMA peak per core (CPU time, because the machine may be
 * shared); peak memory.  Weights are random in the real shapes (93.7 M
 * parameters, 375 MB float32): speed does not depend on their values.
 * IMGDEX_SAM_BENCH_DIR reuses a checkpoint (e.g. the real one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "engine/ops_nn.h"
#include "models/sam/sam_impl.h"

#define PY "/usr/bin/python3"

static double encoder_flops(const sam_config *c)
{
    double D = c->vision.hidden, I = c->vision.mlp, g = c->vision.image / c->vision.patch, T = g * g;
    double f = 2 * T * 3 * c->vision.patch * c->vision.patch * D;      /* patch embedding */
    for (int i = 0; i < c->vision.layers; i++) {
        double w = c->vision.global[i] ? g : c->vision.window, nw = c->vision.global[i] ? 1 : (g + w - 1) / w;
        double n = w * w, R = nw * nw * n;
        f += 2 * R * D * 3 * D + 2 * R * D * D + 2 * 2 * T * D * I;    /* qkv, proj, MLP */
        f += nw * nw * 2 * 2 * n * n * D;                               /* QK^T and PV */
    }
    f += 2 * T * D * c->vision.out + 2 * T * 9 * c->vision.out * c->vision.out;   /* neck */
    return f;
}

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#if defined(__x86_64__)
#include <immintrin.h>
/* Ten independent FMA chains of 16 floats: the core's FP32 ceiling per
 * second of this thread's CPU time. */
__attribute__((target("avx512f"))) static double peak_avx512(void)
{
    __m512 m = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    __m512 a0 = _mm512_set1_ps(0), a1 = _mm512_set1_ps(1), a2 = _mm512_set1_ps(2), a3 = _mm512_set1_ps(3),
           a4 = _mm512_set1_ps(4), a5 = _mm512_set1_ps(5), a6 = _mm512_set1_ps(6), a7 = _mm512_set1_ps(7),
           a8 = _mm512_set1_ps(8), a9 = _mm512_set1_ps(9);
    long long it = 0;
    double t0 = thread_cpu(), el;
    do {
        for (int r = 0; r < 100000; r++) {
            a0 = _mm512_fmadd_ps(a0, m, b), a1 = _mm512_fmadd_ps(a1, m, b), a2 = _mm512_fmadd_ps(a2, m, b);
            a3 = _mm512_fmadd_ps(a3, m, b), a4 = _mm512_fmadd_ps(a4, m, b), a5 = _mm512_fmadd_ps(a5, m, b);
            a6 = _mm512_fmadd_ps(a6, m, b), a7 = _mm512_fmadd_ps(a7, m, b), a8 = _mm512_fmadd_ps(a8, m, b);
            a9 = _mm512_fmadd_ps(a9, m, b);
        }
        it += 100000;
    } while ((el = thread_cpu() - t0) < 0.5);
    __m512 t = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(_mm512_add_ps(a6, a7), _mm512_add_ps(a8, a9))));
    if (_mm512_reduce_add_ps(t) == 12345.0f) printf(" ");
    return it * 10.0 * 16 * 2 / el;
}
#endif

static double cpu_peak(void)
{
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) return peak_avx512();
#endif
    return 0;
}

static double process_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double torch_seconds(const char *dir, int threads, double *cpu)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, PY " '%s/tests/sam_ref.py' bench '%s' --threads %d --runs 1", IMGDEX_SRCDIR, dir,
             threads);
    FILE *p = popen(cmd, "r");
    double s = -1;
    *cpu = -1;
    if (p) {
        if (fscanf(p, "%lf %lf", &s, cpu) != 2) s = *cpu = -1;
        pclose(p);
    }
    return s;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    char dir[1024];
    const char *given = getenv("IMGDEX_SAM_BENCH_DIR");
    if (given && *given) {
        snprintf(dir, sizeof dir, "%s", given);
    } else {
        snprintf(dir, sizeof dir, "%s/imgdex-bench-sam-%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
        char cmd[4096];
        snprintf(cmd, sizeof cmd, PY " '%s/tests/sam_ref.py' gen '%s' --size base --seed 7", IMGDEX_SRCDIR, dir);
        if (system(cmd) != 0) {
            printf("SKIP bench_sam: /usr/bin/python3 with torch and numpy is needed to make the checkpoint\n");
            return 0;
        }
    }
    ierr e = {0};
    sam_model *m = sam_open(dir, &e);
    if (!m) {
        fprintf(stderr, "bench_sam: %s\n", e.msg);
        return 1;
    }
    int S = sam_image_size(m), g = sam_embed_size(m), C = sam_embed_dim(m);
    float *px = xmalloc((size_t)3 * S * S * sizeof *px), *emb = xmalloc((size_t)C * g * g * sizeof *emb);
    srand(1);
    for (size_t i = 0; i < (size_t)3 * S * S; i++) px[i] = (float)(rand() / (double)RAND_MAX * 4 - 2);
    double flops = encoder_flops(&m->cfg), peak = cpu_peak();
    printf("SAM image encoder %s: %d x %d input, %.0f GFLOP per image\n", sam_name(m), S, S, flops / 1e9);
    printf("%-8s %22s %22s %16s %26s\n", "threads", "imgdex wall / cpu s", "PyTorch wall / cpu s",
           "speedup wall/cpu", "GFLOP per CPU s (of peak)");
    for (int th = 1; th <= 2; th++) {
        nn_set_threads(th);
        if (th == 1) sam_embed_pixels(m, px, emb, &e);     /* warm-up: pages the weights in */
        double t0 = now_seconds(), c0 = process_cpu();
        sam_embed_pixels(m, px, emb, &e);
        double wall = now_seconds() - t0, cpu = process_cpu() - c0, pcpu;
        double pt = torch_seconds(dir, th, &pcpu), gf = flops / cpu / 1e9;
        char pk[32] = "";
        if (peak > 0) snprintf(pk, sizeof pk, " (%.0f%%)", 100 * gf * 1e9 / peak);
        printf("%-8d %10.2f / %9.2f %10.2f / %9.2f %7.2fx / %5.2fx %18.1f%s\n", th, wall, cpu, pt, pcpu,
               pt > 0 ? pt / wall : 0, pcpu > 0 ? pcpu / cpu : 0, gf, pk);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("FP32 peak (AVX-512 FMA loop): %.1f GFLOP/s per core\n", peak / 1e9);
    printf("peak memory (max RSS, weights mmapped): %.0f MB\n", ru.ru_maxrss / 1024.0);
    free(px);
    free(emb);
    sam_close(m);
    if (!given || !*given) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd)) {}
    }
    return 0;
}
