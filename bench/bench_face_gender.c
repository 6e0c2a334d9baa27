/* bench_face_gender.c — how often gear's gender agrees with the people in
 * the captions, and the calibration of its decision threshold.
 *
 * Photos whose five captions name only men/boys (or only women/girls) give
 * a label for the largest face the attribute models ran on.  gear leans
 * heavily to "male" on these small faces; a bias on its logit corrects
 * that.  The bias is chosen on the Flickr8k TRAIN split (the best balanced
 * accuracy, i.e. the mean of the male and the female agreement) and
 * measured on the DEV split next to the uncorrected model (the peer); the
 * value gear.c ships must be the one printed here.
 *
 *   IMGDEX_BENCH_N=3000   photos of each split to look at (whose captions
 *                         name one gender)
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "image/image.h"
#include "models/models.h"

typedef struct sample { float logit; int female; } sample;

/* All captions, sorted by file name for bsearch. */
typedef struct cap { char *name, *text; } cap;
static cap *caps;
static size_t ncaps;

static int by_name(const void *a, const void *b) { return strcmp(((const cap *)a)->name, ((const cap *)b)->name); }

static int load_captions(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[2048];
    size_t cap_n = 0;
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = 0;
        if (ncaps == cap_n) caps = xrealloc(caps, sizeof *caps * (cap_n = cap_n ? 2 * cap_n : 8192));
        caps[ncaps++] = (cap){strdup(line), strdup(tab + 1)};
    }
    fclose(f);
    qsort(caps, ncaps, sizeof *caps, by_name);
    return 0;
}

/* +1 when the captions name only men, -1 only women, 0 otherwise. */
static int caption_gender(const char *name)
{
    static const char *const male[] = {"man", "men", "boy", "boys", "guy", "guys", "gentleman", NULL};
    static const char *const female[] = {"woman", "women", "girl", "girls", "lady", "ladies", NULL};
    int m = 0, f = 0;
    cap key = {(char *)name, NULL};
    cap *c = bsearch(&key, caps, ncaps, sizeof *caps, by_name);
    if (!c) return 0;
    while (c > caps && !strcmp(c[-1].name, name)) c--;
    for (; c < caps + ncaps && !strcmp(c->name, name); c++)
        for (const char *p = c->text; *p;) {
            while (*p && !isalpha((unsigned char)*p)) p++;
            char w[32];
            size_t k = 0;
            while (isalpha((unsigned char)*p)) {
                if (k + 1 < sizeof w) w[k++] = (char)tolower((unsigned char)*p);
                p++;
            }
            w[k] = 0;
            for (int i = 0; male[i]; i++) m += !strcmp(w, male[i]);
            for (int i = 0; female[i]; i++) f += !strcmp(w, female[i]);
        }
    return m && !f ? 1 : f && !m ? -1 : 0;
}

/* Samples of one split: gear's female logit on the largest measured face. */
static int collect(face_model *fm, const char *data, const char *split, int want, sample **out)
{
    char list[1200];
    snprintf(list, sizeof list, "%s/flickr8k/%s", data, split);
    FILE *fl = fopen(list, "r");
    if (!fl) return -1;
    int n = 0, seen = 0;
    *out = xmalloc(sizeof **out * (size_t)want);
    char name[512];
    ierr e = {0};
    while (seen < want && fgets(name, sizeof name, fl)) {
        name[strcspn(name, "\r\n")] = 0;
        int g = caption_gender(name);
        if (!g) continue;
        seen++;
        char path[1800];
        snprintf(path, sizeof path, "%s/flickr8k/images/%s", data, name);
        img im;
        if (img_load(path, NULL, &im, NULL, &e) != 0) { err_clear(&e); continue; }
        det_box b[16];
        face_attrs a[16];
        int k = faces_run(fm, &im, 0.5f, b, a, 16, &e);
        img_free(&im);
        int best = -1;
        for (int i = 0; i < k; i++)
            if (a[i].gender[0] && (best < 0 || b[i].x1 - b[i].x0 > b[best].x1 - b[best].x0)) best = i;
        if (best < 0) continue;
        float pf = !strcmp(a[best].gender, "female") ? a[best].gender_score : 1 - a[best].gender_score;
        pf = fminf(fmaxf(pf, 1e-6f), 1 - 1e-6f);
        (*out)[n++] = (sample){logf(pf / (1 - pf)), g < 0};
    }
    fclose(fl);
    return n;
}

/* Agreement with the captions for men and for women at this bias. */
static void agree(const sample *s, int n, float bias, double *men, double *women)
{
    int m = 0, mok = 0, w = 0, wok = 0;
    for (int i = 0; i < n; i++) {
        int says_female = s[i].logit + bias > 0;
        if (s[i].female) { w++; wok += says_female; }
        else { m++; mok += !says_female; }
    }
    *men = m ? (double)mok / m : 0;
    *women = w ? (double)wok / w : 0;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *src = getenv("IMGDEX_SRCDIR") ? getenv("IMGDEX_SRCDIR") : IMGDEX_SRCDIR;
    char data[1024], capf[1100];
    if (getenv("IMGDEX_DATA")) snprintf(data, sizeof data, "%s", getenv("IMGDEX_DATA"));
    else snprintf(data, sizeof data, "%s/../shared/data", src);
    snprintf(capf, sizeof capf, "%s/flickr8k/captions.tsv", data);
    int want = getenv("IMGDEX_BENCH_N") ? atoi(getenv("IMGDEX_BENCH_N")) : 3000;
    if (load_captions(capf) != 0) {
        printf("SKIP bench_face_gender: no Flickr8k captions at %s\n", capf);
        return 0;
    }
    ierr e = {0};
    face_model *fm = faces_open(&e);
    if (!fm) {
        printf("SKIP bench_face_gender: %s\n", e.msg);
        return 0;
    }
    /* The shipped correction off: the bench measures the raw model. */
    float shipped = faces_gender_bias(fm);
    faces_set_gender_bias(fm, 0);
    sample *tr = NULL, *dv = NULL;
    int ntr = collect(fm, data, "train.txt", want, &tr), ndv = collect(fm, data, "dev.txt", want, &dv);
    faces_close(fm);
    if (ntr < 20 || ndv < 20) {
        printf("SKIP bench_face_gender: too few photos with one gender in the captions and a face (%d, %d)\n", ntr,
               ndv);
        return 0;
    }
    float best = 0;
    double bestacc = -1;
    for (float b = -1; b <= 4.001f; b += 0.05f) {
        double m, w;
        agree(tr, ntr, b, &m, &w);
        if ((m + w) / 2 > bestacc + 1e-9) { bestacc = (m + w) / 2; best = b; }
    }
    double m0, w0, m1, w1, ms, ws;
    agree(dv, ndv, 0, &m0, &w0);
    agree(dv, ndv, best, &m1, &w1);
    agree(dv, ndv, shipped, &ms, &ws);
    printf("faces with a gender and one gender in the captions: %d train, %d dev photos\n", ntr, ndv);
    printf("bias chosen on train: %+.2f on gear's female logit (train balanced agreement %.1f%%)\n", best,
           100 * bestacc);
    printf("dev, raw gear (peer):  men %.1f%%  women %.1f%%  balanced %.1f%%\n", 100 * m0, 100 * w0,
           50 * (m0 + w0));
    printf("dev, bias %+.2f:       men %.1f%%  women %.1f%%  balanced %.1f%%\n", best, 100 * m1, 100 * w1,
           50 * (m1 + w1));
    printf("dev, shipped %+.2f:    men %.1f%%  women %.1f%%  balanced %.1f%%  (%.2fx the raw model)\n", shipped,
           100 * ms, 100 * ws, 50 * (ms + ws), (ms + ws) / (m0 + w0));
    free(tr);
    free(dv);
    for (size_t i = 0; i < ncaps; i++) { free(caps[i].name); free(caps[i].text); }
    free(caps);
    return 0;
}
