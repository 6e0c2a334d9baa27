/* bench_detector_sides.c — what the object detector's input size costs and
 * buys on small photos: CPU time per image and how well the labels agree
 * with the human captions, at input sides 256..512, on Flickr8k dev photos
 * (224×224).  The peer is the model's declared 512×512 input.
 *
 * Agreement is a proxy for accuracy: for a few COCO labels that captions
 * name plainly (person: man, woman, girl, people…; dog: dog, puppy; …), a
 * detection at score >= 0.3 is right when one of the image's five captions
 * names it, and a caption naming it with no detection is a miss.  Captions
 * leave out things, so precision is underestimated; the comparison between
 * sizes is what counts.
 *
 *   IMGDEX_BENCH_N=400   images of dev.txt to use
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "image/image.h"
#include "models/models.h"

#include "bench_data.h"

static const struct {
    const char *label, *words;   /* words: space-separated, matched as whole caption words */
} named[] = {
    {"person", "man men woman women boy boys girl girls child children kid kids people person player players "
               "biker bikers skier surfer rider climber guy guys lady baby toddler crowd adult dancer "
               "snowboarder skateboarder swimmer runner cyclist hiker"},
    {"dog", "dog dogs puppy puppies"},
    {"horse", "horse horses"},
    {"bicycle", "bike bikes bicycle bicycles"},
    {"car", "car cars"},
    {"sports ball", "ball balls football soccer basketball"},
    {"frisbee", "frisbee frisbees"},
    {"bird", "bird birds"},
    {"boat", "boat boats kayak canoe"},
    {"surfboard", "surfboard surfboards"},
    {"skateboard", "skateboard skateboards"},
    {"motorcycle", "motorcycle motorcycles motorbike"},
    {"cat", "cat cats"},
    {"umbrella", "umbrella umbrellas"},
    {"bench", "bench benches"},
    {"kite", "kite kites"},
};
#define NNAMED (int)(sizeof named / sizeof named[0])

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* 1 when the space-separated list holds word w. */
static int in_list(const char *list, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, " ");
        if (k == n && !strncmp(p, w, n)) return 1;
        p += k;
        while (*p == ' ') p++;
    }
    return 0;
}

/* Which named labels a caption word names: bits of named[]. */
static void mention(const char *w, void *arg)
{
    unsigned *m = arg;
    for (int i = 0; i < NNAMED; i++)
        if (in_list(named[i].words, w)) *m |= 1u << i;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    char data[1024];
    bench_data_dir(data, sizeof data);
    int want = getenv("IMGDEX_BENCH_N") ? atoi(getenv("IMGDEX_BENCH_N")) : 400;
    eval_set set;
    char **text;
    ierr le = {0};
    if (bench_split(data, "dev.txt", want, &set, &text, &le) != 0) {
        printf("SKIP bench_detector_sides: no Flickr8k data: %s\n", le.msg);
        return 0;
    }
    ierr e = {0};
    detector *d = detector_open(&e);
    if (!d) {
        printf("SKIP bench_detector_sides: %s\n", e.msg);
        return 0;
    }
    engine_thread_serial(1);
    static const int sides[] = {256, 320, 352, 384, 448, 512};
    enum { NS = sizeof sides / sizeof sides[0] };
    double cpu[NS] = {0};
    int tp[NS] = {0}, fp[NS] = {0}, fn[NS] = {0}, n = 0;
    for (int i = 0; i < set.nimages; i++) {
        const char *name = set.images[i];
        char path[1700];
        snprintf(path, sizeof path, "%s/flickr8k/images/%s", data, name);
        img im;
        if (img_load(path, NULL, &im, NULL, &e) != 0) {
            fprintf(stderr, "%s\n", e.msg);
            err_clear(&e);
            continue;
        }
        unsigned said = 0;
        bench_words(text[i], mention, &said);
        for (int s = 0; s < NS; s++) {
            detector_set_side(d, sides[s]);
            det_box b[100];
            double t0 = thread_cpu();
            int k = detector_run(d, &im, 0.3f, b, 100, &e);
            cpu[s] += thread_cpu() - t0;
            if (k < 0) {
                fprintf(stderr, "%s: %s\n", name, e.msg);
                return 1;
            }
            unsigned seen = 0;
            for (int j = 0; j < k; j++)
                for (int i = 0; i < NNAMED; i++)
                    if (!strcmp(b[j].label, named[i].label)) seen |= 1u << i;
            for (int i = 0; i < NNAMED; i++) {
                int a = (seen >> i) & 1, c = (said >> i) & 1;
                tp[s] += a && c;
                fp[s] += a && !c;
                fn[s] += !a && c;
            }
        }
        img_free(&im);
        n++;
    }
    bench_split_free(&set, text);
    detector_set_side(d, 0);
    int used = detector_side_for(d, 224, 224), ui = NS - 1;
    detector_close(d);
    if (!n) {
        printf("SKIP bench_detector_sides: no images read\n");
        return 0;
    }
    printf("centernet on %d Flickr8k dev photos (224x224), one thread, labels vs the captions\n", n);
    printf("%6s %12s %10s %10s %8s %12s\n", "side", "CPU ms/img", "precision", "recall", "F1", "F1 vs 512");
    double f512 = 2.0 * tp[NS - 1] / (2 * tp[NS - 1] + fp[NS - 1] + fn[NS - 1]);
    for (int s = 0; s < NS; s++) {
        double p = tp[s] ? (double)tp[s] / (tp[s] + fp[s]) : 0, r = tp[s] ? (double)tp[s] / (tp[s] + fn[s]) : 0;
        double f1 = 2.0 * tp[s] / (2 * tp[s] + fp[s] + fn[s]);
        printf("%6d %12.1f %10.3f %10.3f %8.3f %11.3fx   %s\n", sides[s], cpu[s] * 1e3 / n, p, r, f1, f1 / f512,
               sides[s] == used ? "<- used for 224x224" : "");
        if (sides[s] == used) ui = s;
    }
    printf("=> the side used for 224x224 photos (%d) takes %.2fx the time of 512 for %.3fx its F1\n", used,
           cpu[ui] / cpu[NS - 1], (2.0 * tp[ui] / (2 * tp[ui] + fp[ui] + fn[ui])) / f512);
    return 0;
}
