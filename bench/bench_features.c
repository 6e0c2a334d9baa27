/* bench_features.c — what the features stage (describe/features.h) costs,
 * and the raw material for choosing its layout.
 *
 * Bench (default): describes Flickr8k dev images on one thread with the
 * embedded models (no OCR, no CLIP) and prints the features stage's time
 * per image next to its peer, the whole description pass measured in the
 * same run, as a share (the budget is 10 %).
 *
 *   IMGDEX_BENCH_N=200   images of dev.txt to use
 *
 * Dump (IMGDEX_FEATURES_DUMP=FILE): runs the detector once per image of the
 * lists in IMGDEX_FEATURES_LISTS (default "train.txt dev.txt", at most
 * IMGDEX_BENCH_N of each when set) and writes, for each of several inner
 * layers, the mean, the max, the 2×2 grid means and the 3×3 grid means over
 * the picture, as half floats: FILE (rows) plus FILE.json (image names and
 * blocks).  scripts/feature_probe.py --dump FILE compares layouts built from
 * them without re-indexing anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/half.h"
#include "describe/describe.h"
#include "engine/engine.h"
#include "models/prep.h"

#include "bench_data.h"

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- bench --------------------------------------------------------------- */

static int bench(const char *data, int n)
{
    eval_set s;
    char **text;
    ierr e = {0};
    if (bench_split(data, "dev.txt", n, &s, &text, &e) != 0) {
        printf("SKIP bench_features: %s\n", e.msg);
        return 0;
    }
    describe_opts o;
    describe_opts_default(&o);
    o.ocr = 0;
    o.clip = 0;
    engine_thread_serial(1);
    describer *d = describer_open(&o, &e);
    if (!d || !describer_stage_on(d, "features")) {
        printf("SKIP bench_features: the features stage is off (no detector installed)\n");
        describer_close(d);
        bench_split_free(&s, text);
        return 0;
    }
    int done = 0;
    double cpu = 0;
    for (int i = 0; i < s.nimages; i++) {
        img im;
        img_meta meta;
        char path[1400];
        snprintf(path, sizeof path, "%s/flickr8k/images/%s", data, s.images[i]);
        if (img_load(path, NULL, &im, &meta, &e) != 0) { err_clear(&e); continue; }
        description ds;
        double c0 = thread_cpu();
        int rc = describe_image(d, &im, &meta, &ds, &e);
        cpu += thread_cpu() - c0;
        img_free(&im);
        if (rc) { fprintf(stderr, "%s\n", e.msg); err_clear(&e); continue; }
        description_free(&ds);
        done++;
    }
    const char *names[32];
    double sec[32], total = 0, feat = 0, objects = 0;
    int runs[32];
    int ns = describer_stage_times(d, names, sec, runs, 32);
    for (int i = 0; i < ns; i++) {
        total += sec[i];
        if (!strcmp(names[i], "features")) feat = sec[i];
        if (!strcmp(names[i], "objects")) objects = sec[i];
    }
    printf("%d Flickr8k dev images, 1 thread, no OCR/CLIP: describe %.1f ms/image (CPU %.1f)\n", done,
           1e3 * total / (done ? done : 1), 1e3 * cpu / (done ? done : 1));
    printf("  features stage %.2f ms/image = %.2f %% of describe (budget 10 %%); detector %.1f ms/image\n",
           1e3 * feat / (done ? done : 1), total > 0 ? 100 * feat / total : 0, 1e3 * objects / (done ? done : 1));
    describer_close(d);
    bench_split_free(&s, text);
    return 0;
}

/* ---- dump ---------------------------------------------------------------- */

static const struct { const char *name, *node; } layers[] = {
    {"extern1", "tower_0/extern1/hard_swish/mul_1"},                                   /* 480, stride 32 */
    {"c14_expand", "tower_0/MobilenetV3/expanded_conv_14/expand/hard_swish/mul_1"},    /* 720, stride 32 */
    {"c14_se", "tower_0/MobilenetV3/expanded_conv_14/squeeze_excite/mul"},             /* 720, stride 32 */
    {"c12_expand", "tower_0/MobilenetV3/expanded_conv_12/expand/hard_swish/mul_1"},    /* 528, stride 16 */
    {"head16", "tower_0/CenternetHead/Relu"},                                          /* stride 16 */
    {"head4", "tower_0/CenternetHead/mul"},                                            /* 128, stride 4 */
};
#define NLAYERS (int)(sizeof layers / sizeof layers[0])

/* Mean over rows y0..y1, cols x0..x1 of t (NHWC, batch 1) into out[c]; max too when mx. */
static void pool(const tensor *t, int y0, int y1, int x0, int x1, float *avg, float *mx)
{
    int w = t->shape[2], c = t->shape[3];
    for (int k = 0; k < c; k++) { avg[k] = 0; if (mx) mx[k] = -1e30f; }
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            const float *v = t->f + ((size_t)y * w + x) * c;
            for (int k = 0; k < c; k++) {
                avg[k] += v[k];
                if (mx && v[k] > mx[k]) mx[k] = v[k];
            }
        }
    float n = (float)((y1 - y0) * (x1 - x0));
    for (int k = 0; k < c; k++) avg[k] /= n;
}

/* Cells [a, b) of g equal parts of [lo, hi), each at least one cell. */
static void part(int lo, int hi, int g, int i, int *a, int *b)
{
    int n = hi - lo;
    *a = lo + n * i / g;
    *b = lo + (n * (i + 1) + g - 1) / g;
    if (*b <= *a) *b = *a + 1;
    if (*b > hi) { *b = hi; if (*a >= *b) *a = *b - 1; }
}

static int dump(const char *data, const char *out, int limit)
{
    ierr e = {0};
    tfjs_model *m = vm_load("centernet", &e);
    if (!m) { fprintf(stderr, "%s\n", e.msg); return 1; }
    const char *lists = getenv("IMGDEX_FEATURES_LISTS") ? getenv("IMGDEX_FEATURES_LISTS") : "train.txt dev.txt";
    char path[1200];
    snprintf(path, sizeof path, "%s.json", out);
    FILE *fo = fopen(out, "wb"), *fj = fopen(path, "w");
    if (!fo || !fj) { perror(out); return 1; }
    fprintf(fj, "{\"images\": [");
    engine_thread_serial(1);
    int side = 0, rows = 0, chans[NLAYERS] = {0};
    tensor *in = NULL;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", lists);
    double t0 = now_seconds();
    for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
        eval_set s;
        char **text;
        if (bench_split(data, tok, limit, &s, &text, &e) != 0) { fprintf(stderr, "%s\n", e.msg); return 1; }
        for (int i = 0; i < s.nimages; i++) {
            img im;
            char ipath[1400];
            snprintf(ipath, sizeof ipath, "%s/flickr8k/images/%s", data, s.images[i]);
            if (img_load(ipath, NULL, &im, NULL, &e) != 0) { fprintf(stderr, "%s\n", e.msg); return 1; }
            int sd = ((im.w > im.h ? im.w : im.h) + 31) / 32 * 32;
            sd = sd < 352 ? 352 : sd > 512 ? 512 : sd;   /* as detector_side_for */
            if (sd != side) {
                if (tfjs_set_input_size(m, sd, sd, &e) != 0) { fprintf(stderr, "%s\n", e.msg); return 1; }
                tensor_free(in);
                in = tensor_new4(1, sd, sd, 3);
                side = sd;
            }
            letterbox lb;
            vm_letterbox(&im, side, in->f, 1.f, 0.f, &lb);
            img_free(&im);
            const tensor *ins[1] = {in};
            const char *names[NLAYERS];
            tensor *o[NLAYERS];
            for (int k = 0; k < NLAYERS; k++) names[k] = layers[k].node;
            if (tfjs_run_named(m, ins, 1, names, o, NLAYERS, &e) != 0) { fprintf(stderr, "%s\n", e.msg); return 1; }
            for (int k = 0; k < NLAYERS; k++) {
                const tensor *t = o[k];
                int h = t->shape[1], w = t->shape[2], c = t->shape[3];
                chans[k] = c;
                /* the picture's cells (centres inside it) */
                int y0 = (int)((float)lb.oy / side * h + 0.5f), y1 = (int)((float)(lb.oy + lb.nh) / side * h + 0.5f);
                int x0 = (int)((float)lb.ox / side * w + 0.5f), x1 = (int)((float)(lb.ox + lb.nw) / side * w + 0.5f);
                if (y1 <= y0) y1 = y0 + 1;
                if (x1 <= x0) x1 = x0 + 1;
                float *v = malloc(sizeof(float) * (size_t)c * 15);
                pool(t, y0, y1, x0, x1, v, v + c);
                for (int g = 2, at = 2; g <= 3; at += g * g, g++)
                    for (int gy = 0; gy < g; gy++)
                        for (int gx = 0; gx < g; gx++) {
                            int a, b, cc, dd;
                            part(y0, y1, g, gy, &a, &b);
                            part(x0, x1, g, gx, &cc, &dd);
                            pool(t, a, b, cc, dd, v + (size_t)(at + gy * g + gx) * c, NULL);
                        }
                unsigned char *hb = malloc((size_t)c * 15 * 2);
                half_pack_le(v, (size_t)c * 15, hb);
                fwrite(hb, 2, (size_t)c * 15, fo);
                free(hb);
                free(v);
                tensor_free(o[k]);
            }
            fprintf(fj, "%s\"%s\"", rows ? ", " : "", s.images[i]);
            rows++;
            if (rows % 500 == 0) fprintf(stderr, "%d images, %.0f s\n", rows, now_seconds() - t0);
        }
        bench_split_free(&s, text);
    }
    fprintf(fj, "],\n \"pools\": [\"avg\", \"max\", \"g2\", \"g2\", \"g2\", \"g2\", \"g3\", \"g3\", \"g3\", \"g3\", "
                "\"g3\", \"g3\", \"g3\", \"g3\", \"g3\"],\n \"layers\": [");
    for (int k = 0; k < NLAYERS; k++)
        fprintf(fj, "%s{\"name\": \"%s\", \"node\": \"%s\", \"c\": %d}", k ? ", " : "", layers[k].name, layers[k].node,
                chans[k]);
    fprintf(fj, "]}\n");
    fclose(fo);
    fclose(fj);
    tensor_free(in);
    tfjs_free(m);
    fprintf(stderr, "%d images in %.0f s -> %s\n", rows, now_seconds() - t0, out);
    return 0;
}

int main(void)
{
    char data[1024];
    bench_data_dir(data, sizeof data);
    const char *n = getenv("IMGDEX_BENCH_N");
    if (getenv("IMGDEX_FEATURES_DUMP")) return dump(data, getenv("IMGDEX_FEATURES_DUMP"), n ? atoi(n) : 0);
    return bench(data, n ? atoi(n) : 200);
}
