/* test_tfjs_oracle.c — the C graph runner against TensorFlow.js itself.
 *
 * For each embedded tfjs model, tests/node/tfjs-oracle.js runs the model
 * with @tensorflow/tfjs-converter on the pure-JS CPU backend and writes its
 * deterministic input and every output; we feed the same input to
 * tfjs_run and require max |c - js| <= 1e-3 * max(1, |js|).  Centernet's
 * detections come from a top-k over near-equal scores, so those rows are
 * matched as a set (same class, score, box) rather than by position. */
#include "test.h"
#include "engine/tfjs.h"

typedef struct rec {
    char name[256];
    int kind, dtype, ndim, shape[8];
    size_t n;
    float *f;
    int32_t *i;
} rec;

static uint32_t rd32(FILE *f)
{
    unsigned char b[4] = {0};
    if (fread(b, 1, 4, f) != 4) return 0xffffffffu;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static int read_oracle(const char *path, rec *r, int max)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char magic[8];
    int cnt = -1;
    if (fread(magic, 1, 8, f) == 8 && !memcmp(magic, "TFJSORCL", 8)) {
        cnt = (int)rd32(f);
        if (cnt > max) cnt = -1;
        for (int k = 0; k < cnt; k++) {
            uint32_t len = rd32(f);
            if (len >= sizeof r[k].name || fread(r[k].name, 1, len, f) != len) { cnt = -1; break; }
            r[k].name[len] = 0;
            r[k].kind = (int)rd32(f);
            r[k].dtype = (int)rd32(f);
            r[k].ndim = (int)rd32(f);
            if (r[k].ndim > 6) { cnt = -1; break; }
            r[k].n = 1;
            for (int d = 0; d < r[k].ndim; d++) { r[k].shape[d] = (int)rd32(f); r[k].n *= (size_t)r[k].shape[d]; }
            void *buf = malloc(r[k].n * 4 + 4);
            if (fread(buf, 4, r[k].n, f) != r[k].n) { free(buf); cnt = -1; break; }
            if (r[k].dtype == 1) r[k].i = buf; else r[k].f = buf;
        }
    }
    fclose(f);
    return cnt;
}

static int have_node(void)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "node -e 'require(\"%s/tests/node/node_modules/@tensorflow/tfjs-converter\")' >/dev/null 2>&1",
             test_srcdir());
    return system(cmd) == 0;
}

static const char *models_dir(void)
{
    const char *s = getenv("IMGDEX_MODELS");
    static char buf[600];
    if (s) return s;
    snprintf(buf, sizeof buf, "%s/models", test_srcdir());
    return buf;
}

/* tolerance check for one output; returns max scaled error */
static double compare(const tensor *c, const rec *r, double *maxabs)
{
    double worst = 0;
    *maxabs = 0;
    for (size_t k = 0; k < r->n; k++) {
        double js = r->dtype == 1 ? r->i[k] : r->f[k];
        double cv = c->dtype == DT_I32 ? c->i[k] : c->f[k];
        double d = fabs(cv - js);
        if (isnan(js) != isnan(cv)) d = INFINITY;
        if (d > *maxabs) *maxabs = d;
        double s = d / (fabs(js) > 1 ? fabs(js) : 1);
        if (s > worst) worst = s;
    }
    return worst;
}

/* centernet detections [1,K,6] = x1,y1,x2,y2,score,class: match as sets */
static double compare_dets(const tensor *c, const rec *r, int *unmatched)
{
    int rows = r->shape[1];
    char *used = calloc((size_t)rows, 1);
    double worst = 0;
    *unmatched = 0;
    for (int a = 0; a < rows; a++) {
        const float *js = r->f + a * 6;
        int best = -1;
        double bestd = INFINITY;
        for (int b = 0; b < rows; b++) {
            if (used[b]) continue;
            const float *cv = c->f + b * 6;
            if (cv[5] != js[5]) continue;
            double d = 0;
            for (int q = 0; q < 5; q++) {
                double x = fabs(cv[q] - js[q]) / (fabs(js[q]) > 1 ? fabs(js[q]) : 1);
                if (x > d) d = x;
            }
            if (d < bestd) { bestd = d; best = b; }
        }
        if (best < 0 || bestd > 1e-3) {
            /* rows whose score ties the k-th are legitimately swappable:
             * only count misses above the lowest score */
            if (js[4] > r->f[(rows - 1) * 6 + 4] + 1e-3) (*unmatched)++;
            continue;
        }
        used[best] = 1;
        if (bestd > worst) worst = bestd;
    }
    free(used);
    return worst;
}

static const struct { const char *name; double lo, hi; } MODELS[] = {
    {"centernet", 0, 255}, {"blazeface", -1, 1}, {"selfie", 0, 1}, {"gear", 0, 1}, {"emotion", 0, 1},
};
static const char *tmp;
static int node_ok;

/* All tfjs references at once, in parallel: node's CPU backend is the slow
 * half of this test.  Each writes TMP/<model>.bin and .rc. */
static void run_references(void)
{
    char cmd[8192];
    int k = snprintf(cmd, sizeof cmd, "cd '%s/tests/node' && (", test_srcdir());
    for (size_t i = 0; i < sizeof MODELS / sizeof MODELS[0]; i++) {
        char json[1024];
        snprintf(json, sizeof json, "%s/%s.json", models_dir(), MODELS[i].name);
        if (access(json, R_OK) != 0) continue;
        k += snprintf(cmd + k, sizeof cmd - (size_t)k,
                      "(node tfjs-oracle.js '%s' '%s/%s.bin' %g %g 2>'%s/%s.err' >/dev/null; echo $? >'%s/%s.rc') & ",
                      json, tmp, MODELS[i].name, MODELS[i].lo, MODELS[i].hi, tmp, MODELS[i].name, tmp,
                      MODELS[i].name);
    }
    snprintf(cmd + k, sizeof cmd - (size_t)k, "wait)");
    if (system(cmd) != 0) fprintf(stderr, "tfjs references: shell failed\n");
}

static void oracle(const char *model)
{
    char json[1024], out[1024], rcpath[1100];
    snprintf(json, sizeof json, "%s/%s.json", models_dir(), model);
    if (access(json, R_OK) != 0) SKIP("%s not installed (run scripts/setup)", json);
    if (!node_ok) SKIP("node or tests/node/node_modules (tfjs) missing");
    snprintf(out, sizeof out, "%s/%s.bin", tmp, model);
    snprintf(rcpath, sizeof rcpath, "%s/%s.rc", tmp, model);
    FILE *rf = fopen(rcpath, "r");
    int rc = -1;
    if (rf) { if (fscanf(rf, "%d", &rc) != 1) rc = -1; fclose(rf); }
    CHECKF(rc == 0, "tfjs oracle failed for %s (see %s.err)", model, out);
    rec r[16];
    memset(r, 0, sizeof r);
    int cnt = read_oracle(out, r, 16);
    CHECKF(cnt > 1, "cannot read %s", out);
    ierr e = {0};
    tfjs_model *m = tfjs_load(json, &e);
    CHECKF(m, "%s", e.msg);
    const tensor *in[4];
    tensor *owned[4];
    const char *names[16];
    int nin = 0, nout = 0, outidx[16];
    for (int k = 0; k < cnt; k++) {
        if (r[k].kind == 0 && nin < 4) {
            owned[nin] = tensor_wrap(DT_F32, r[k].ndim, r[k].shape, r[k].f);
            in[nin] = owned[nin];
            nin++;
        } else if (r[k].kind == 1) {
            outidx[nout] = k;
            names[nout++] = r[k].name;
        }
    }
    tensor *res[16] = {0};
    double t0 = now_seconds();
    rc = tfjs_run_named(m, in, nin, names, res, nout, &e);
    double ms = (now_seconds() - t0) * 1e3;
    int ok = rc == 0;
    char why[512] = "";
    if (!ok) snprintf(why, sizeof why, "%s", e.msg);
    for (int k = 0; ok && k < nout; k++) {
        const rec *rr = &r[outidx[k]];
        const tensor *c = res[k];
        int same = c->ndim == rr->ndim && c->n == rr->n;
        for (int d = 0; same && d < c->ndim; d++) same = c->shape[d] == rr->shape[d];
        if (!same) {
            char s[128];
            snprintf(why, sizeof why, "%s: output %s has shape %s, tfjs %d-D n=%zu", model, rr->name,
                     tensor_shape_str(c, s, sizeof s), rr->ndim, rr->n);
            ok = 0;
            break;
        }
        double maxabs, err;
        if (!strcmp(model, "centernet") && rr->ndim == 3 && rr->shape[2] == 6) {
            int miss;
            err = compare_dets(c, rr, &miss);
            printf("# %s %-40s rows matched as a set: max scaled err %.3g, %d unmatched\n", model, rr->name, err, miss);
            if (miss > 0) { snprintf(why, sizeof why, "%s: %d detections differ", model, miss); ok = 0; }
        } else {
            err = compare(c, rr, &maxabs);
            printf("# %s %-40s max abs err %.3g, max scaled err %.3g\n", model, rr->name, maxabs, err);
        }
        if (ok && err > 1e-3) {
            snprintf(why, sizeof why, "%s: output %s differs from tfjs by %.3g (scaled)", model, rr->name, err);
            ok = 0;
        }
    }
    printf("# %s: C runner %.1f ms\n", model, ms);
    for (int k = 0; k < nout; k++) tensor_free(res[k]);
    for (int k = 0; k < nin; k++) tensor_free(owned[k]);
    for (int k = 0; k < cnt; k++) { free(r[k].f); free(r[k].i); }
    tfjs_free(m);
    CHECKF(ok, "%s", why);
}

TEST(oracle_centernet) { oracle("centernet"); }
TEST(oracle_blazeface) { oracle("blazeface"); }
TEST(oracle_selfie) { oracle("selfie"); }
TEST(oracle_gear) { oracle("gear"); }
TEST(oracle_emotion) { oracle("emotion"); }

int main(void)
{
    tmp = test_tmpdir("oracle");
    node_ok = have_node();
    if (node_ok) run_references();
    RUN(oracle_centernet);
    RUN(oracle_blazeface);
    RUN(oracle_selfie);
    RUN(oracle_gear);
    RUN(oracle_emotion);
    return test_summary();
}
