/* bench_models.c — the vision pipelines as imgdex calls them, per image:
 * detector_run (letterbox + centernet + NMS), faces_run (blazeface + gear +
 * emotion per face) and person_mask_run (selfie), single thread and all
 * cores, next to the same models in TensorFlow.js' CPU backend
 * (tests/node/vision-ref.js time ...) in the same run.  Also the
 * pre-processing alone: our one-pass letterbox straight into the input
 * tensor against the obvious way (img_resize to a new image, then convert
 * to floats).
 *
 *   build/bench/bench_models [RUNS]     (IMGDEX_MODELS, IMGDEX_SRCDIR as in make bench)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "image/image.h"
#include "models/models.h"
#include "models/prep.h"

#define PHOTO "/usr/share/darknet/data/dog.jpg"

static const char *srcdir(void)
{
    const char *s = getenv("IMGDEX_SRCDIR");
    return s ? s : IMGDEX_SRCDIR;
}

/* ms per run of the bare model in tfjs-cpu, or -1. */
static double tfjs_ms(const char *model, const char *ppm, int runs)
{
    char cmd[2048], out[4096] = "";
    snprintf(cmd, sizeof cmd, "cd '%s/tests/node' && node vision-ref.js time %s '%s' %d 2>/dev/null", srcdir(),
             model, ppm, runs);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    pclose(p);
    const char *ms = strstr(out, "\"ms\":");
    return ms ? atof(ms + 5) : -1;
}

typedef struct ctx {
    detector *d;
    face_model *f;
    person_mask *p;
    img im;
} ctx;

static double run_det(ctx *c)
{
    det_box b[64];
    ierr e = {0};
    double t = now_seconds();
    if (detector_run(c->d, &c->im, 0.3f, b, 64, &e) < 0) { fprintf(stderr, "%s\n", e.msg); exit(2); }
    return now_seconds() - t;
}

static double run_faces(ctx *c)
{
    det_box b[16];
    face_attrs a[16];
    ierr e = {0};
    double t = now_seconds();
    if (faces_run(c->f, &c->im, 0.5f, b, a, 16, &e) < 0) { fprintf(stderr, "%s\n", e.msg); exit(2); }
    return now_seconds() - t;
}

static double run_mask(ctx *c)
{
    uint8_t *m;
    int w, h;
    ierr e = {0};
    double t = now_seconds();
    if (person_mask_run(c->p, &c->im, &m, &w, &h, &e) < 0) { fprintf(stderr, "%s\n", e.msg); exit(2); }
    t = now_seconds() - t;
    free(m);
    return t;
}

static double best_of(double (*fn)(ctx *), ctx *c, int runs)
{
    fn(c);   /* warm-up: buffers, caches */
    double best = 1e9;
    for (int i = 0; i < runs; i++) {
        double t = fn(c);
        if (t < best) best = t;
    }
    return best * 1e3;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    ctx c = {0};
    ierr e = {0};
    img_load_opts lo = {.min_side = 512};
    if (img_load(PHOTO, &lo, &c.im, NULL, &e) != 0) {
        printf("SKIP bench_models: %s\n", e.msg);
        return 0;
    }
    c.d = detector_open(&e);
    c.f = c.d ? faces_open(&e) : NULL;
    c.p = c.f ? person_mask_open(&e) : NULL;
    if (!c.p) {
        printf("SKIP bench_models: %s\n", e.msg);
        return 0;
    }
    /* The same pixels for tfjs. */
    char ppm[512];
    snprintf(ppm, sizeof ppm, "/tmp/imgdex-bench-models-%d.ppm", (int)getpid());
    FILE *f = fopen(ppm, "wb");
    fprintf(f, "P6\n%d %d\n255\n", c.im.w, c.im.h);
    fwrite(c.im.px, 1, (size_t)c.im.w * c.im.h * 3, f);
    fclose(f);

    printf("dog.jpg %dx%d, best of %d runs, ms per image\n", c.im.w, c.im.h, runs);
    printf("%-34s %9s %9s %9s %12s\n", "pipeline", "1 thread", "all", "tfjs-cpu", "tfjs/1thread");
    struct { const char *name, *model; double (*fn)(ctx *); } rows[] = {
        {"objects (centernet 512, +NMS)", "centernet", run_det},
        {"faces (blazeface 256 +attrs)", "blazeface", run_faces},
        {"person mask (selfie 256)", "selfie", run_mask},
    };
    for (int i = 0; i < 3; i++) {
        engine_set_threads(1);
        double one = best_of(rows[i].fn, &c, runs);
        engine_set_threads(0);
        double all = best_of(rows[i].fn, &c, runs);
        double js = tfjs_ms(rows[i].model, ppm, runs < 3 ? runs : 3);
        printf("%-34s %9.1f %9.1f %9.1f %11.1fx\n", rows[i].name, one, all, js, js > 0 ? js / one : 0);
    }
    printf("(tfjs-cpu column: the bare model; for faces, blazeface alone without the attribute models)\n\n");

    /* Pre-processing: one pass into the tensor vs resize-then-convert. */
    tensor *t = tensor_new4(1, 512, 512, 3);
    int reps = 50;
    letterbox lb;
    double t0 = now_seconds();
    for (int i = 0; i < reps; i++) vm_letterbox(&c.im, 512, t->f, 1.f, 0.f, &lb);
    double ours = (now_seconds() - t0) * 1e3 / reps;
    t0 = now_seconds();
    for (int i = 0; i < reps; i++) {
        img small;
        img_resize(&c.im, lb.nw, lb.nh, &small);
        memset(t->f, 0, t->n * sizeof(float));
        for (int y = 0; y < small.h; y++)
            for (int x = 0; x < small.w * 3; x++)
                t->f[((size_t)(y + lb.oy) * 512 + lb.ox) * 3 + x] = small.px[(size_t)y * small.w * 3 + x];
        img_free(&small);
    }
    double peer = (now_seconds() - t0) * 1e3 / reps;
    printf("letterbox %dx%d -> 512x512 float: %.2f ms one pass, %.2f ms img_resize+convert (%.1fx)\n", c.im.w,
           c.im.h, ours, peer, ours > 0 ? peer / ours : 0);
    tensor_free(t);
    remove(ppm);
    detector_close(c.d);
    faces_close(c.f);
    person_mask_close(c.p);
    img_free(&c.im);
    return 0;
}
