/* test_models_ref.c — the C vision pipelines against the tfjs reference
 * (tests/node/vision-ref.js: TensorFlow.js CPU backend, its own resize,
 * anchors and NMS) on the same pixels: final boxes, scores, labels, face
 * attributes and the person mask must agree. */
#include <cjson/cJSON.h>

#include "test.h"

#include "models/models.h"
#include "models_util.h"

#define DARKNET "/usr/share/darknet/data"
#define FACE_PHOTO "flickr8k/images/1079274291_9aaf896cc1.jpg"

static char ppm_person[600], ppm_face[600];
static img person, face;

/* Runs vision-ref.js; returns parsed JSON or NULL (why in *why). */
static cJSON *js_ref(const char *args, char *why, size_t n)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s/tests/node' && node vision-ref.js %s 2>&1", test_srcdir(), args);
    FILE *p = popen(cmd, "r");
    if (!p) {
        snprintf(why, n, "cannot run node");
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t r;
    while ((r = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += r;
        if (len + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    buf[len] = 0;
    int rc = pclose(p);
    /* The JSON is the last line (tfjs prints a banner first). */
    char *line = buf;
    for (char *q = buf; *q; q++)
        if (*q == '\n' && q[1] == '{') line = q + 1;
    cJSON *j = rc == 0 ? cJSON_Parse(line) : NULL;
    if (!j) snprintf(why, n, "vision-ref.js %s failed: %.300s", args, buf);
    free(buf);
    return j;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Under the sanitizers the heavy comparisons are left to the plain pass:
 * tfjs takes the same seconds either way and test_models_detect already
 * runs the same C code sanitized. */
static int sanitized(void)
{
    const char *s = getenv("IMGDEX_SAN");
    return s && *s == '1';
}

static int have_node(void)
{
    char p[600];
    snprintf(p, sizeof p, "%s/tests/node/node_modules/@tensorflow/tfjs-converter/package.json", test_srcdir());
    return mu_exists(p) && system("node --version >/dev/null 2>&1") == 0;
}

/* Boxes agree when label, score (±0.01) and corners (±0.01 of the image)
 * do.  Only boxes clearly above the threshold must appear on both sides:
 * a score a hair from it may fall either way. */
#define MIN_SCORE 0.3f
#define MARGIN 0.02f

TEST(centernet_matches_tfjs)
{
    if (!have_node()) SKIP("node or tests/node/node_modules missing (scripts/setup)");
    if (!person.px) SKIP("no " DARKNET "/person.jpg (Debian package darknet)");
    if (sanitized()) SKIP("tfjs comparison runs in the plain pass (slow under sanitizers)");
    ierr e = {0};
    detector *d = detector_open(&e);
    CHECKF(d != NULL, "%s", e.msg);
    det_box b[64];
    int n = detector_run(d, &person, MIN_SCORE, b, 64, &e);
    detector_close(d);
    CHECKF(n > 0, "%s", e.msg);
    char args[700], why[512];
    snprintf(args, sizeof args, "centernet '%s' --min %g", ppm_person, (double)MIN_SCORE);
    cJSON *j = js_ref(args, why, sizeof why);
    CHECKF(j, "%s", why);
    const cJSON *boxes = cJSON_GetObjectItemCaseSensitive(j, "boxes"), *jb;
    int matched = 0, fail = 0;
    char msg[300] = "";
    cJSON_ArrayForEach(jb, boxes) {
        if (num(jb, "score") < MIN_SCORE + MARGIN) continue;
        int found = 0;
        for (int i = 0; i < n && !found; i++)
            found = !strcmp(b[i].label, str(jb, "label")) && fabs(b[i].score - num(jb, "score")) < 0.01 &&
                    fabs(b[i].x0 - num(jb, "x0")) < 0.01 && fabs(b[i].y0 - num(jb, "y0")) < 0.01 &&
                    fabs(b[i].x1 - num(jb, "x1")) < 0.01 && fabs(b[i].y1 - num(jb, "y1")) < 0.01;
        if (found) matched++;
        else if (!fail++)
            snprintf(msg, sizeof msg, "tfjs %s %.3f [%.3f %.3f %.3f %.3f] has no C match", str(jb, "label"),
                     num(jb, "score"), num(jb, "x0"), num(jb, "y0"), num(jb, "x1"), num(jb, "y1"));
    }
    int cstrong = 0;
    for (int i = 0; i < n; i++) cstrong += b[i].score >= MIN_SCORE + MARGIN;
    printf("# person.jpg: %d C boxes, %d tfjs boxes matched, %d C boxes above %.2f\n", n, matched, cstrong,
           (double)(MIN_SCORE + MARGIN));
    cJSON_Delete(j);
    CHECKF(!fail, "%s", msg);
    CHECKF(matched >= 3 && cstrong <= matched + 0, "matched %d, C strong %d", matched, cstrong);
}

TEST(faces_match_tfjs)
{
    if (!have_node()) SKIP("node or tests/node/node_modules missing (scripts/setup)");
    if (!face.px) SKIP("no %s/" FACE_PHOTO " (shared Flickr8k data)", test_datadir());
    if (sanitized()) SKIP("tfjs comparison runs in the plain pass (slow under sanitizers)");
    ierr e = {0};
    face_model *f = faces_open(&e);
    CHECKF(f != NULL, "%s", e.msg);
    faces_set_gender_bias(f, 0);   /* the model as tfjs runs it, without our calibration */
    det_box b[16];
    face_attrs a[16];
    int n = faces_run(f, &face, 0.5f, b, a, 16, &e);
    faces_close(f);
    CHECKF(n > 0, "%d faces: %s", n, e.msg);
    char args[700], why[512];
    /* Attributes of the best face only: gear takes seconds per face in tfjs. */
    snprintf(args, sizeof args, "faces '%s' --min 0.5 --attrs 1", ppm_face);
    cJSON *j = js_ref(args, why, sizeof why);
    CHECKF(j, "%s", why);
    const cJSON *boxes = cJSON_GetObjectItemCaseSensitive(j, "boxes");
    int nj = cJSON_GetArraySize(boxes);
    char msg[300] = "";
    int bad = nj != n;
    if (bad) snprintf(msg, sizeof msg, "C %d faces, tfjs %d", n, nj);
    for (int i = 0; i < n && !bad; i++) {
        const cJSON *jb = cJSON_GetArrayItem(boxes, i);
        bad = !(fabs(b[i].score - num(jb, "score")) < 0.01 && fabs(b[i].x0 - num(jb, "x0")) < 0.01 &&
                fabs(b[i].y0 - num(jb, "y0")) < 0.01 && fabs(b[i].x1 - num(jb, "x1")) < 0.01 &&
                fabs(b[i].y1 - num(jb, "y1")) < 0.01 && (i > 0 || !strcmp(a[i].gender, str(jb, "gender"))) &&
                (i > 0 || (fabs(a[i].gender_score - num(jb, "gender_score")) < 0.02 &&
                            abs(a[i].age - (int)num(jb, "age")) <= 1 && !strcmp(a[i].emotion, str(jb, "emotion")) &&
                            !strcmp(a[i].race, str(jb, "race")))));
        if (bad)
            snprintf(msg, sizeof msg, "face %d: C %.3f [%.3f %.3f %.3f %.3f] %s %d %s; tfjs %.3f [%.3f %.3f %.3f %.3f] %s %d %s",
                     i, b[i].score, b[i].x0, b[i].y0, b[i].x1, b[i].y1, a[i].gender, a[i].age, a[i].emotion,
                     num(jb, "score"), num(jb, "x0"), num(jb, "y0"), num(jb, "x1"), num(jb, "y1"),
                     str(jb, "gender"), (int)num(jb, "age"), str(jb, "emotion"));
    }
    cJSON_Delete(j);
    CHECKF(!bad, "%s", msg);
}

TEST(person_mask_matches_tfjs)
{
    if (!have_node()) SKIP("node or tests/node/node_modules missing (scripts/setup)");
    if (!person.px) SKIP("no " DARKNET "/person.jpg (Debian package darknet)");
    ierr e = {0};
    person_mask *p = person_mask_open(&e);
    CHECKF(p != NULL, "%s", e.msg);
    uint8_t *m = NULL;
    int mw, mh;
    int rc = person_mask_run(p, &person, &m, &mw, &mh, &e);
    person_mask_close(p);
    CHECKF(rc == 0, "%s", e.msg);
    char args[700], why[512], pgm[700];
    snprintf(pgm, sizeof pgm, "%s/js-mask.pgm", test_tmpdir_once());
    snprintf(args, sizeof args, "selfie '%s' --pgm '%s'", ppm_person, pgm);
    cJSON *j = js_ref(args, why, sizeof why);
    if (!j) free(m);
    CHECKF(j, "%s", why);
    cJSON_Delete(j);
    FILE *f = fopen(pgm, "rb");
    int w = 0, h = 0, mx = 0, ok = f && fscanf(f, "P5 %d %d %d", &w, &h, &mx) == 3 && fgetc(f) != EOF;
    uint8_t *js = malloc((size_t)mw * mh);
    ok = ok && w == mw && h == mh && fread(js, 1, (size_t)w * h, f) == (size_t)w * h;
    if (f) fclose(f);
    int worst = 0;
    for (int i = 0; ok && i < mw * mh; i++) {
        int d = abs(js[i] - m[i]);
        if (d > worst) worst = d;
    }
    free(js);
    free(m);
    CHECKF(ok, "cannot read %s", pgm);
    printf("# selfie mask: worst pixel difference %d/255\n", worst);
    CHECKF(worst <= 3, "mask pixels differ by up to %d/255", worst);
}

int main(void)
{
    snprintf(ppm_person, sizeof ppm_person, "%s/person.ppm", test_tmpdir_once());
    snprintf(ppm_face, sizeof ppm_face, "%s/face.ppm", test_tmpdir_once());
    char fp[600];
    snprintf(fp, sizeof fp, "%s/" FACE_PHOTO, test_datadir());
    if (mu_exists(DARKNET "/person.jpg") && mu_load_jpeg(DARKNET "/person.jpg", ppm_person, &person) != 0)
        person.px = NULL;
    if (mu_exists(fp) && mu_load_jpeg(fp, ppm_face, &face) != 0) face.px = NULL;
    RUN(centernet_matches_tfjs);
    RUN(faces_match_tfjs);
    RUN(person_mask_matches_tfjs);
    img_free_px(&person);
    img_free_px(&face);
    return test_summary();
}
