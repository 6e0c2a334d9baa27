/* bench_ocr.c — scene-text recall: photos with a rendered sign on them
 * (bench/gen_signs.sh on Flickr8k images, the truth beside them), and the
 * same number of photos made alike without a sign.
 *
 * Reports, for imgdex's OCR (ocr_run: text lines found, each read by
 * Tesseract as a line) and for the `tesseract --psm 11` command on the same
 * photos in the same run: recall of the sign words (exact word, case
 * ignored), precision of the words read on sign photos, the share of
 * sign-free photos that get any word, and CPU ms per photo.  Then the cost
 * on Flickr8k photos as they are (224×224, as `bench_describe` sees them):
 * ms per photo and the share with words.
 *
 *   IMGDEX_BENCH_N=100        sign photos (and as many plain ones)
 *   IMGDEX_OCR_SPLIT=dev.txt  the split the photos come from (train.txt to tune)
 *   IMGDEX_OCR_SEED=1         the generator's seed
 *   IMGDEX_OCR_PEER=0         skip the tesseract command
 *   IMGDEX_OCR_VERBOSE=1      list every miss and every stray word
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "describe/internal.h"
#include "image/image.h"

#include "bench_data.h"

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double children_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

typedef struct photo {
    char file[64];
    char truth[128];      /* space-separated words; "" on plain photos */
} photo;

/* Words read: up to 64, each trimmed of punctuation and lowercased. */
typedef struct wordset { char w[64][64]; int n; } wordset;

static void ws_add(wordset *ws, const char *word)
{
    char t[64];
    size_t k = 0;
    for (const char *p = word; *p && k + 1 < sizeof t; p++)
        if (isalnum((unsigned char)*p)) t[k++] = (char)tolower((unsigned char)*p);
        else if (k) break;   /* "COFFEE." -> "coffee" */
    t[k] = 0;
    if (k && ws->n < 64) snprintf(ws->w[ws->n++], sizeof ws->w[0], "%s", t);
}

static int ws_has(const wordset *ws, const char *w)
{
    for (int i = 0; i < ws->n; i++)
        if (!strcasecmp(ws->w[i], w)) return 1;
    return 0;
}

typedef struct score {
    int truth, found, read, right, plain, plain_with;
    double sign_s, plain_s;
} score;

static void tally(score *s, const photo *p, const wordset *got, int verbose, const char *who)
{
    wordset want = {.n = 0};
    char t[128];
    snprintf(t, sizeof t, "%s", p->truth);
    for (char *tok = strtok(t, " "); tok; tok = strtok(NULL, " ")) ws_add(&want, tok);
    if (!want.n) {
        s->plain++;
        s->plain_with += got->n > 0;
        if (verbose && got->n) {
            printf("    %s %s: stray", who, p->file);
            for (int i = 0; i < got->n; i++) printf(" %s", got->w[i]);
            printf("\n");
        }
        return;
    }
    s->truth += want.n;
    for (int i = 0; i < want.n; i++) s->found += ws_has(got, want.w[i]);
    s->read += got->n;
    for (int i = 0; i < got->n; i++) s->right += ws_has(&want, got->w[i]);
    if (verbose) {
        int miss = 0;
        for (int i = 0; i < want.n; i++) miss += !ws_has(got, want.w[i]);
        if (miss || got->n > want.n) {
            printf("    %s %s: want \"%s\" read", who, p->file, p->truth);
            for (int i = 0; i < got->n; i++) printf(" %s", got->w[i]);
            printf("\n");
        }
    }
}

/* The generated set: made once per (split, n, seed) in $TMPDIR. */
static int load_set(const char *data, const char *split, int n, int seed, char *dir, size_t dn, photo **out)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, dn, "%s/imgdex-signs-%s-%d-%d", tmp, split, n, seed);
    char truth[1200];
    snprintf(truth, sizeof truth, "%s/truth.tsv", dir);
    struct stat st;
    if (stat(truth, &st) != 0 || st.st_size == 0) {
        const char *src = getenv("IMGDEX_SRCDIR") ? getenv("IMGDEX_SRCDIR") : IMGDEX_SRCDIR;
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "nice -n 19 '%s/bench/gen_signs.sh' '%s' '%s' %d %d '%s'", src, data, split, n, seed, dir);
        fprintf(stderr, "generating %d sign photos: %s\n", n, cmd);
        if (system(cmd) != 0) return -1;
    }
    FILE *f = fopen(truth, "r");
    if (!f) return -1;
    photo *p = calloc((size_t)n * 2, sizeof *p);
    int k = 0;
    char line[1024];
    while (k < n && fgets(line, sizeof line, f)) {
        char *file = strtok(line, "\t"), *words = strtok(NULL, "\t");
        if (!file || !words) continue;
        snprintf(p[2 * k].file, sizeof p->file, "%s", file);
        snprintf(p[2 * k].truth, sizeof p->truth, "%s", words);
        /* sign_NNN.jpg -> plain_NNN.jpg */
        snprintf(p[2 * k + 1].file, sizeof p->file, "plain_%s", file + 5);
        k++;
    }
    fclose(f);
    *out = p;
    return 2 * k;
}

static int ours(ocr_engine *o, const img *im, wordset *got, double *cpu)
{
    got->n = 0;
    ierr e = {0};
    ocr_word *w = NULL;
    double t0 = thread_cpu();
    int n = ocr_run(o, im, &w, &e);
    *cpu += thread_cpu() - t0;
    if (n < 0) { fprintf(stderr, "ocr: %s\n", e.msg); return -1; }
    for (int i = 0; i < n; i++) ws_add(got, w[i].text);
    free(w);
    return 0;
}

static int peer(const char *path, wordset *got, double *cpu)
{
    got->n = 0;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "OMP_THREAD_LIMIT=1 tesseract '%s' stdout --psm 11 2>/dev/null", path);
    double c0 = children_cpu();
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    char line[4096];
    while (fgets(line, sizeof line, f))
        for (char *tok = strtok(line, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
            /* leading punctuation off, like ocr.c's trimming */
            while (*tok && !isalnum((unsigned char)*tok)) tok++;
            if (*tok) ws_add(got, tok);
        }
    int rc = pclose(f);
    *cpu += children_cpu() - c0;
    return rc == 0 ? 0 : -1;
}

int main(void)
{
    char data[1024];
    bench_data_dir(data, sizeof data);
    int n = getenv("IMGDEX_BENCH_N") ? atoi(getenv("IMGDEX_BENCH_N")) : 100;
    const char *split = getenv("IMGDEX_OCR_SPLIT") ? getenv("IMGDEX_OCR_SPLIT") : "dev.txt";
    int seed = getenv("IMGDEX_OCR_SEED") ? atoi(getenv("IMGDEX_OCR_SEED")) : 1;
    int run_peer = !getenv("IMGDEX_OCR_PEER") || atoi(getenv("IMGDEX_OCR_PEER"));
    int verbose = getenv("IMGDEX_OCR_VERBOSE") && atoi(getenv("IMGDEX_OCR_VERBOSE"));
    ierr e = {0};
    ocr_engine *o = ocr_open(&e);
    if (!o) { printf("SKIP bench_ocr: %s\n", e.msg); return 0; }
    text_scratch *scratch = text_scratch_new();
    char dir[1100];
    photo *ph = NULL;
    int np = load_set(data, split, n, seed, dir, sizeof dir, &ph);
    if (np <= 0) { printf("SKIP bench_ocr: cannot generate sign photos (ImageMagick, fonts-dejavu-core, %s)\n", data); return 0; }
    printf("%d sign photos and %d plain photos from flickr8k/%s (seed %d) in %s\n", np / 2, np / 2, split, seed, dir);

    score us = {0}, them = {0};
    int sign_n = 0, plain_lines = 0;
    double plain_find_s = 0;
    for (int i = 0; i < np; i++) {
        char path[1300];
        snprintf(path, sizeof path, "%s/%s", dir, ph[i].file);
        img im;
        if (img_load(path, NULL, &im, NULL, &e) != 0) { fprintf(stderr, "%s\n", e.msg); err_clear(&e); continue; }
        int sign = ph[i].truth[0] != 0;
        sign_n += sign;
        wordset got;
        if (!sign) {
            text_line ls[48];
            double t0 = thread_cpu();
            plain_lines += ocr_find_lines(scratch, &im, ls, 48, NULL);
            plain_find_s += thread_cpu() - t0;
        }
        if (ours(o, &im, &got, sign ? &us.sign_s : &us.plain_s) == 0) tally(&us, &ph[i], &got, verbose, "imgdex");
        img_free(&im);
        if (run_peer && peer(path, &got, sign ? &them.sign_s : &them.plain_s) == 0)
            tally(&them, &ph[i], &got, verbose, "tesseract");
    }
    printf("%-26s recall %5.1f %% (%d/%d words)  precision %5.1f %% (%d/%d)  plain photos with words %4.1f %% (%d/%d)\n",
           "imgdex ocr", 100.0 * us.found / (us.truth ? us.truth : 1), us.found, us.truth,
           100.0 * us.right / (us.read ? us.read : 1), us.right, us.read,
           100.0 * us.plain_with / (us.plain ? us.plain : 1), us.plain_with, us.plain);
    printf("%-26s CPU %.1f ms per sign photo, %.1f ms per plain photo (finding lines %.1f ms, %.2f lines a photo)\n", "",
           us.sign_s * 1e3 / (sign_n ? sign_n : 1), us.plain_s * 1e3 / (us.plain ? us.plain : 1),
           plain_find_s * 1e3 / (us.plain ? us.plain : 1), (double)plain_lines / (us.plain ? us.plain : 1));
    if (run_peer) {
        printf("%-26s recall %5.1f %% (%d/%d words)  precision %5.1f %% (%d/%d)  plain photos with words %4.1f %% (%d/%d)\n",
               "tesseract --psm 11", 100.0 * them.found / (them.truth ? them.truth : 1), them.found, them.truth,
               100.0 * them.right / (them.read ? them.read : 1), them.right, them.read,
               100.0 * them.plain_with / (them.plain ? them.plain : 1), them.plain_with, them.plain);
        printf("%-26s CPU %.1f ms per sign photo, %.1f ms per plain photo (whole process)\n", "",
               them.sign_s * 1e3 / (sign_n ? sign_n : 1), them.plain_s * 1e3 / (them.plain ? them.plain : 1));
        printf("ratio: recall %.2fx the command's, at %.2fx its CPU per sign photo\n",
               (double)us.found / (them.found ? them.found : 1), us.sign_s / (them.sign_s > 0 ? them.sign_s : 1));
    }
    free(ph);

    /* Photos as the indexer sees them: most have no text, and what OCR costs
     * there is the price of the feature. */
    int m = getenv("IMGDEX_OCR_PLAIN_N") ? atoi(getenv("IMGDEX_OCR_PLAIN_N")) : 1000;
    eval_set es;
    char **text = NULL;
    err_clear(&e);
    if (m > 0 && bench_split(data, split, m, &es, &text, &e) != 0) printf("flickr8k/%s: %s\n", split, e.msg);
    else if (m > 0) {
        double find_s = 0, run_s = 0;
        int with = 0, lines = 0, loaded = 0, gated = 0;
        for (int i = 0; i < es.nimages; i++) {
            img im;
            char path[1300];
            snprintf(path, sizeof path, "%s/flickr8k/images/%s", data, es.images[i]);
            if (img_load(path, NULL, &im, NULL, &e) != 0) { err_clear(&e); continue; }
            loaded++;
            text_line ls[48];
            double t0 = thread_cpu();
            int nl = ocr_find_lines(scratch, &im, ls, 48, NULL);
            find_s += thread_cpu() - t0;
            lines += nl;
            gated += nl > 0;
            wordset got;
            ours(o, &im, &got, &run_s);
            with += got.n > 0;
            if (verbose && got.n) {
                printf("    flickr8k %s:", es.images[i]);
                for (int k = 0; k < got.n; k++) printf(" %s", got.w[k]);
                printf("\n");
            }
            img_free(&im);
        }
        printf("flickr8k/%s as they are, %d photos: finding lines %.2f ms/photo; whole OCR %.2f ms/photo; "
               "%.1f %% have a line (%.2f lines/photo), %.1f %% get words (some do show text)\n",
               split, loaded, find_s * 1e3 / loaded, run_s * 1e3 / loaded, 100.0 * gated / loaded,
               (double)lines / loaded, 100.0 * with / loaded);
        bench_split_free(&es, text);
    }
    text_scratch_free(scratch);
    ocr_close(o);
    return 0;
}
