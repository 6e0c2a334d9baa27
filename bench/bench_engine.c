/* bench_engine.c — the centernet detector at 512x512 through the C graph
 * runner, single thread and all cores, next to TensorFlow.js' CPU backend
 * (tests/node/tfjs-oracle.js) on the same input in the same run.
 *
 *   build/bench/bench_engine [RUNS]      (IMGDEX_MODELS, IMGDEX_SRCDIR as in make bench)
 *
 * Also prints the GFLOP/s achieved inside the convolution/matmul nodes and
 * this CPU's FP32 peak estimate (FMA width from the CPU flags x 2 FMA units
 * x 2 flops x clock), so the figure can be judged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/tfjs.h"

static const char *srcdir(void)
{
    const char *s = getenv("IMGDEX_SRCDIR");
    return s ? s : IMGDEX_SRCDIR;
}

/* MHz from /proc/cpuinfo (first "cpu MHz"), 0 when unknown */
static double cpu_mhz(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[4096];
    double mhz = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "cpu MHz", 7) && strchr(line, ':')) { mhz = atof(strchr(line, ':') + 1); break; }
    if (f) fclose(f);
    return mhz;
}

static int cpu_flag(const char *flag)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[8192];
    int found = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "flags", 5)) {
            char pat[64];
            snprintf(pat, sizeof pat, " %s ", flag);
            strcat(line, " ");
            for (char *p = line; *p; p++) if (*p == '\n') *p = ' ';
            found = strstr(line, pat) != NULL;
            break;
        }
    if (f) fclose(f);
    return found;
}

static void pattern(tensor *t)
{
    int h = t->shape[1], w = t->shape[2];
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                float u = (float)x / w, v = (float)y / h;
                float val = 0.5f + 0.4f * (u - 0.5f) * (c + 1) - 0.3f * (v - 0.5f);
                if ((x / 40 + y / 40) % 3 == 0) val = 1 - val;
                t->f[((size_t)y * w + x) * 3 + c] = 255 * val;
            }
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Best wall ms of `runs`; *cpu_ms = best process CPU ms (all threads). */
static double run_ms(tfjs_model *m, tensor *in, int runs, double *conv_gflops, double *cpu_ms)
{
    ierr e = {0};
    const tensor *ins[1] = {in};
    tensor *out[4] = {0};
    int nout = tfjs_num_outputs(m) < 4 ? tfjs_num_outputs(m) : 4;
    if (tfjs_run(m, ins, 1, out, nout, &e)) { fprintf(stderr, "bench: %s\n", e.msg); exit(2); }  /* warm-up */
    for (int k = 0; k < nout; k++) tensor_free(out[k]);
    double best = 1e30, flops = 0, cs = 0;
    *cpu_ms = 1e30;
    for (int r = 0; r < runs; r++) {
        double t0 = now_seconds(), c0 = cpu_now();
        if (tfjs_run(m, ins, 1, out, nout, &e)) { fprintf(stderr, "bench: %s\n", e.msg); exit(2); }
        double ms = (now_seconds() - t0) * 1e3, cms = (cpu_now() - c0) * 1e3;
        if (cms < *cpu_ms) *cpu_ms = cms;
        for (int k = 0; k < nout; k++) tensor_free(out[k]);
        if (ms < best) {
            best = ms;
            flops = tfjs_last_run_flops(m);
            cs = tfjs_last_run_conv_seconds(m);
        }
    }
    *conv_gflops = cs > 0 ? flops / cs / 1e9 : 0;
    return best;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    if (runs < 1) runs = 1;
    char dir[2048], json[4096];
    path_models_dir(dir, sizeof dir);
    snprintf(json, sizeof json, "%s/centernet.json", dir);
    if (access(json, R_OK) != 0) {
        printf("SKIP bench_engine: %s not installed\n", json);
        return 0;
    }
    ierr e = {0};
    tfjs_model *m = tfjs_load(json, &e);
    if (!m) { fprintf(stderr, "bench: %s\n", e.msg); return 2; }
    tensor *in = tensor_new4(1, 512, 512, 3);
    pattern(in);

    engine_set_threads(1);
    double g1, c1, ms1 = run_ms(m, in, runs, &g1, &c1);
    double flops = tfjs_last_run_flops(m);
    engine_set_threads(0);
    int nt = engine_threads();
    double gn, cn, msn = run_ms(m, in, runs, &gn, &cn);

    /* tfjs-cpu in node, same model, its own deterministic 0..255 input
     * (same size; the work does not depend on pixel values) */
    char cmd[8192], line[256];
    double tfjs_ms = 0, tfjs_cpu = 0;
    int tfjs_runs = runs < 3 ? runs : 3;
    snprintf(cmd, sizeof cmd, "cd '%s/tests/node' && node tfjs-oracle.js '%s' /dev/null 0 255 %d 2>/dev/null",
             srcdir(), json, tfjs_runs);
    FILE *p = popen(cmd, "r");
    while (p && fgets(line, sizeof line, p))
        if (!strncmp(line, "ms_per_run ", 11)) tfjs_ms = atof(line + 11);
        else if (!strncmp(line, "cpu_ms_per_run ", 15)) tfjs_cpu = atof(line + 15);
    if (p) pclose(p);

    double mhz = cpu_mhz();
    int avx512 = cpu_flag("avx512f"), fma = cpu_flag("fma");
    /* 2 FMA pipes x lanes x 2 flops x clock; the engine's kernels and
     * OpenBLAS' Haswell sgemm use 8-lane AVX2, so that is the relevant peak */
    double peak2 = mhz / 1e3 * 8 * (fma ? 2 : 1) * 2, peak512 = mhz / 1e3 * 16 * 2 * 2;
    double load[3] = {0};
    getloadavg(load, 3);

    printf("centernet 512x512, best of %d runs, %.2f GFLOP per image (load average %.1f on %d CPUs)\n",
           runs, flops / 1e9, load[0], cpu_count());
    printf("  C engine, 1 thread:   %7.1f ms wall  %7.1f ms CPU   conv+matmul %5.1f GFLOP/s (CPU time)\n",
           ms1, c1, g1);
    printf("  C engine, %d threads:  %7.1f ms wall  %7.1f ms CPU   conv+matmul %5.1f GFLOP/s (wall)\n",
           nt, msn, cn, gn);
    if (tfjs_ms > 0) {
        printf("  tfjs-cpu (node):      %7.1f ms wall  %7.1f ms CPU   (best of %d runs)\n", tfjs_ms,
               tfjs_cpu, tfjs_runs);
        printf("  speed-up vs tfjs-cpu: %.1fx wall / %.1fx CPU (1 thread), %.1fx wall (%d threads)\n",
               tfjs_ms / ms1, tfjs_cpu > 0 ? tfjs_cpu / c1 : 0, tfjs_ms / msn, nt);
    } else {
        printf("  tfjs-cpu (node):      unavailable (node or tests/node/node_modules missing)\n");
    }
    printf("  CPU FP32 peak per core at %.0f MHz: %.0f GFLOP/s AVX2+FMA (used), %.0f GFLOP/s AVX-512%s;\n"
           "  conv+matmul reach %.0f%% of the AVX2 peak on one core\n",
           mhz, peak2, peak512, avx512 ? "" : " (not on this CPU)", peak2 > 0 ? 100 * g1 / peak2 : 0);
    printf("  target <= 60 ms on one core: %s (CPU time %.1f ms, wall %.1f ms)\n",
           c1 <= 60 ? "met" : "NOT met", c1, ms1);
    printf("  target >= 10x tfjs-cpu: %s\n",
           tfjs_ms > 0 ? (tfjs_ms / ms1 >= 10 ? "met" : "NOT met") : "unknown");
    tensor_free(in);
    tfjs_free(m);
    return 0;
}
