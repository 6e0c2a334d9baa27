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

#include "bench_data.h"

typedef struct sample { float logit; int female; } sample;

/* Counts of the men and the women the captions name. */
typedef struct who { int m, f; } who;

static void count_gender(const char *w, void *arg)
{
    static const char *const male[] = {"man", "men", "boy", "boys", "guy", "guys", "gentleman", NULL};
    static const char *const female[] = {"woman", "women", "girl", "girls", "lady", "ladies", NULL};
    who *g = arg;
    for (int i = 0; male[i]; i++) g->m += !strcmp(w, male[i]);
    for (int i = 0; female[i]; i++) g->f += !strcmp(w, female[i]);
}

/* Samples of one split: gear's female logit on the largest measured face
 * of the photos (at most `want`) whose captions name only one gender. */
static int collect(face_model *fm, const char *data, const char *split, int want, sample **out)
{
    eval_set set;
    char **text;
    ierr e = {0};
    if (bench_split(data, split, 0, &set, &text, &e) != 0) return -1;
    int n = 0, seen = 0;
    *out = xmalloc(sizeof **out * (size_t)(want > 0 ? want : 1));
    for (int i = 0; i < set.nimages && seen < want; i++) {
        who g = {0, 0};
        bench_words(text[i], count_gender, &g);
        if (!g.m == !g.f) continue;   /* neither, or both */
        seen++;
        char path[1800];
        snprintf(path, sizeof path, "%s/flickr8k/images/%s", data, set.images[i]);
        img im;
        if (img_load(path, NULL, &im, NULL, &e) != 0) { err_clear(&e); continue; }
        det_box b[16];
        face_attrs a[16];
        int k = faces_run(fm, &im, 0.5f, b, a, 16, &e);
        img_free(&im);
        int best = -1;
        for (int j = 0; j < k; j++)
            if (a[j].gender[0] && (best < 0 || b[j].x1 - b[j].x0 > b[best].x1 - b[best].x0)) best = j;
        if (best < 0) continue;
        float pf = !strcmp(a[best].gender, "female") ? a[best].gender_score : 1 - a[best].gender_score;
        pf = fminf(fmaxf(pf, 1e-6f), 1 - 1e-6f);
        (*out)[n++] = (sample){logf(pf / (1 - pf)), g.f > 0};
    }
    bench_split_free(&set, text);
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
    char data[1024];
    bench_data_dir(data, sizeof data);
    int want = getenv("IMGDEX_BENCH_N") ? atoi(getenv("IMGDEX_BENCH_N")) : 3000;
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
    if (ntr < 0 || ndv < 0) {
        printf("SKIP bench_face_gender: no Flickr8k data under %s\n", data);
        return 0;
    }
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
    return 0;
}
