/* bench_dups.c — duplicate finding: accuracy on transformed Flickr8k copies,
 * speed at 100k fingerprints.
 *
 * 1. Accuracy.  scripts/gen-dups writes, for a split, originals with nine
 *    transformed copies each plus unrelated photos (train: 1000 + 2000,
 *    dev: 500 + 500, i.e. all 1000 dev photos).  Every file is decoded as
 *    the indexer does (shorter side >= 1024 when the file allows), and
 *    fingerprinted; the peer is the decode itself, timed on the same files.
 *    Pairs within each threshold are grouped (connected components) and we
 *    print, per threshold: copies grouped with their original (recall),
 *    precision over every pair inside the groups, and groups holding a
 *    photo from another original or an unrelated one.  The threshold is
 *    chosen on train (DUP_MAX_DIST in dups.h); dev is reported at it.
 *    The multi-index lookup is also compared with trying every pair.
 * 2. Scale.  100k fingerprints of real photos: Flickr8k train+dev decoded
 *    small, under the 8 EXIF orientations and as negatives (16 variants of
 *    each of 7000 photos).  duplicates over them (index build + all pairs)
 *    against every pair tried on a 10k subset, extrapolated (n^2); then
 *    the lookup of one new image in an index of the 100k, and peak memory.
 *
 *   IMGDEX_DUPS_DATA=DIR   where the generated sets live (default build/dups-data)
 *   IMGDEX_DUPS_RADIUS=1   bits probed per chunk
 * Times are this process's CPU seconds (see cpu_now).
 *   IMGDEX_DUPS_N=100000   fingerprints in part 2
 *   IMGDEX_DUPS_SCALE=0    skip part 2;  IMGDEX_DUPS_ACCURACY=0  skip part 1
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "bench_data.h"
#include "image/fingerprint.h"
#include "index/dups.h"
#include "index/fpindex.h"

#define MAXT 48

/* This process's CPU seconds: the machine these figures come from is
 * shared, and wall time there measures the neighbours.  Single-threaded
 * code, so on an idle machine CPU time is the wall time. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct item {
    char file[256], group[256], orig[256], tf[32];
} item;

static int read_manifest(const char *dir, item **out)
{
    char p[1200], line[1024];
    snprintf(p, sizeof p, "%s/manifest.tsv", dir);
    FILE *f = fopen(p, "r");
    if (!f) return -1;
    int n = 0, cap = 0;
    *out = NULL;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *a = strtok(line, "\t"), *b = strtok(NULL, "\t"), *c = strtok(NULL, "\t");
        if (!a || !b || !c) continue;
        if (n == cap) *out = realloc(*out, sizeof **out * (size_t)(cap = cap ? 2 * cap : 1024));
        snprintf((*out)[n].file, 256, "%s", a);
        /* The picture: the original's content hash (Flickr8k holds a few
         * byte-identical photos under two names); unrelated: its own. */
        char orig[1400], h[65];
        snprintf(orig, sizeof orig, "%s/%s", dir, strcmp(b, "-") ? b : a);
        ierr e = {0};
        snprintf((*out)[n].group, 256, "%s", file_sha256(orig, h, &e) == 0 ? h : orig);
        snprintf((*out)[n].orig, 256, "%s", strcmp(b, "-") ? b : a);
        snprintf((*out)[n].tf, 32, "%s", c);
        n++;
    }
    fclose(f);
    return n;
}

static int ensure_set(const char *root, const char *split, char *dir, size_t n)
{
    snprintf(dir, n, "%s/%s", root, split);
    char m[1200];
    snprintf(m, sizeof m, "%s/manifest.tsv", dir);
    struct stat sb;
    if (stat(m, &sb) == 0) return 0;
    char data[1024], cmd[4096];
    bench_data_dir(data, sizeof data);
    const char *src = getenv("IMGDEX_SRCDIR") ? getenv("IMGDEX_SRCDIR") : IMGDEX_SRCDIR;
    int train = !strcmp(split, "train");
    snprintf(cmd, sizeof cmd,
             "IMGDEX_FLICKR8K='%s/flickr8k' nice '%s/scripts/gen-dups' --split %s --count %d "
             "--unrelated %d --seed %d --out '%s'",
             data, src, split, train ? 1000 : 500, train ? 2000 : 500, train ? 1 : 2, dir);
    printf("generating %s (scripts/gen-dups) ...\n", dir);
    fflush(stdout);
    return system(cmd) == 0 ? 0 : -1;
}

static void accuracy(const char *root, const char *split, int radius)
{
    char dir[1100];
    item *it = NULL;
    int n;
    if (ensure_set(root, split, dir, sizeof dir) != 0 || (n = read_manifest(dir, &it)) <= 0) {
        printf("SKIP accuracy %s: no generated set in %s (scripts/gen-dups needs /usr/bin/python3 with PIL and "
               "the Flickr8k data)\n", split, dir);
        return;
    }
    img_fp *fps = calloc((size_t)n, sizeof *fps);
    double t_dec = 0, t_fp = 0;
    long long px = 0;
    int ok = 0;
    for (int i = 0; i < n; i++) {
        char p[1400];
        snprintf(p, sizeof p, "%s/%s", dir, it[i].file);
        img im;
        ierr e = {0};
        img_load_opts lo = {.min_side = 1024};
        double t0 = cpu_now();
        if (img_load(p, &lo, &im, NULL, &e) != 0) {
            printf("  %s\n", e.msg);
            continue;
        }
        double t1 = cpu_now();
        img_fingerprint(&im, &fps[i]);
        t_fp += cpu_now() - t1;
        t_dec += t1 - t0;
        px += (long long)im.w * im.h;
        ok++;
        img_free(&im);
    }
    printf("%s: %d files (%s)\n", split, n, dir);
    printf("  fingerprint %.3f ms/image, decode (peer) %.3f ms/image: fingerprint = %.1f%% of decoding "
           "(%.2f MP average)\n", 1e3 * t_fp / ok, 1e3 * t_dec / ok, 100 * t_fp / t_dec, (double)px / 1e6 / ok);

    double t0 = cpu_now();
    fpindex *x = fpi_build(fps, n, 0);
    fp_match *m;
    int nm = fpi_pairs(x, MAXT, radius, &m);
    double t_mih = cpu_now() - t0;
    /* Every pair, for the lookup's recall. */
    t0 = cpu_now();
    long long brute = 0, brute_in = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            int d = fp_distance(&fps[i], &fps[j], NULL);
            if (d <= DUP_MAX_DIST) brute++, brute_in += !strcmp(it[i].group, it[j].group);
        }
    double t_all = cpu_now() - t0;
    long long mih_at = 0;
    for (int k = 0; k < nm; k++) mih_at += m[k].dist <= DUP_MAX_DIST;
    printf("  lookup: %lld of the %lld pairs within %d bits found by the index (radius %d), %.3f s; every pair "
           "(peer): %.3f s\n", mih_at, brute, DUP_MAX_DIST, radius, t_mih, t_all);

    int *comp = malloc(sizeof *comp * (size_t)n);
    fp_match *sel = malloc(sizeof *sel * (size_t)(nm + 1));
    printf("  %4s %8s %10s %9s %10s\n", "dist", "recall", "precision", "groups", "mixed");
    for (int T = 4; T <= MAXT; T += 2) {
        int ns = 0;
        for (int k = 0; k < nm; k++)
            if (m[k].dist <= T) sel[ns++] = m[k];
        fp_components(n, sel, ns, comp);
        /* recall: copies in their original's component */
        int copies = 0, with = 0;
        for (int i = 0; i < n; i++) {
            if (!strcmp(it[i].tf, "original") || !strcmp(it[i].tf, "unrelated")) continue;
            copies++;
            for (int j = 0; j < n; j++)
                if (!strcmp(it[j].tf, "original") && !strcmp(it[j].file, it[i].orig)) {
                    with += comp[i] == comp[j];
                    break;
                }
        }
        /* pairs inside components */
        long long pairs = 0, good = 0;
        int groups = 0, mixed = 0;
        for (int r = 0; r < n; r++) {
            if (comp[r] != r) continue;
            int sz = 0, bad = 0;
            for (int i = r; i < n; i++) {
                if (comp[i] != r) continue;
                sz++;
                for (int j = i + 1; j < n; j++)
                    if (comp[j] == r) {
                        pairs++;
                        int same = !strcmp(it[i].group, it[j].group);
                        good += same;
                        bad |= !same;
                    }
            }
            if (sz > 1) groups++, mixed += bad;
        }
        printf("  %4d %7.2f%% %9.3f%% %9d %5d %.2f%%%s\n", T, 100.0 * with / copies,
               pairs ? 100.0 * good / pairs : 100.0, groups, mixed, groups ? 100.0 * mixed / groups : 0,
               T == DUP_MAX_DIST ? "   <- DUP_MAX_DIST" : "");
    }
    /* The pairs across groups at the threshold, to look at. */
    for (int k = 0; k < nm; k++)
        if (m[k].dist <= DUP_MAX_DIST && strcmp(it[m[k].i].group, it[m[k].j].group))
            printf("  across groups: %s %s, %d bits\n", it[m[k].i].file, it[m[k].j].file, m[k].dist);
    /* Per transform at the threshold. */
    int ns = 0;
    for (int k = 0; k < nm; k++)
        if (m[k].dist <= DUP_MAX_DIST) sel[ns++] = m[k];
    fp_components(n, sel, ns, comp);
    const char *tfs[] = {"resize50", "jpeg30", "crop90", "bright+20", "bright-20", "png", "webp", "exif6", "noise2"};
    printf("  at %d bits, per transform:", DUP_MAX_DIST);
    for (int t = 0; t < 9; t++) {
        int c = 0, w = 0;
        for (int i = 0; i < n; i++) {
            if (strcmp(it[i].tf, tfs[t])) continue;
            c++;
            for (int j = 0; j < n; j++)
                if (!strcmp(it[j].tf, "original") && !strcmp(it[j].file, it[i].orig)) {
                    w += comp[i] == comp[j];
                    break;
                }
        }
        printf(" %s %.1f%%", tfs[t], c ? 100.0 * w / c : 0);
    }
    printf("\n");
    free(sel);
    free(comp);
    free(m);
    fpi_free(x);
    free(fps);
    free(it);
}

/* The 100k fingerprints take minutes to make: kept next to the generated
 * sets, named by FP_VERSION. */
static int cache_io(const char *root, img_fp *fps, int n, int write)
{
    char p[1300];
    snprintf(p, sizeof p, "%s/scale-%d-v%d.fp", root, n, FP_VERSION);
    FILE *f = fopen(p, write ? "wb" : "rb");
    if (!f) return -1;
    unsigned char b[FP_BYTES];
    int ok = 1;
    for (int i = 0; i < n && ok; i++) {
        if (write) {
            fp_pack(&fps[i], b);
            ok = fwrite(b, FP_BYTES, 1, f) == 1;
        } else {
            ok = fread(b, FP_BYTES, 1, f) == 1 && fp_unpack(b, FP_BYTES, &fps[i]) == 0;
        }
    }
    return fclose(f) == 0 && ok ? 0 : -1;
}

static void scale(const char *root, int radius)
{
    char data[1024], list[1200], line[512];
    bench_data_dir(data, sizeof data);
    int want = getenv("IMGDEX_DUPS_N") ? atoi(getenv("IMGDEX_DUPS_N")) : 100000, n = 0;
    img_fp *fps = calloc((size_t)want, sizeof *fps);
    const char *splits[] = {"train.txt", "dev.txt"};
    double t0 = cpu_now();
    if (cache_io(root, fps, want, 0) == 0) n = want;
    for (int s = 0; s < 2 && n < want; s++) {
        snprintf(list, sizeof list, "%s/flickr8k/%s", data, splits[s]);
        FILE *f = fopen(list, "r");
        if (!f) break;
        while (n < want && fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = 0;
            char p[1800];
            snprintf(p, sizeof p, "%s/flickr8k/images/%s", data, line);
            img im;
            ierr e = {0};
            img_load_opts lo = {.min_side = 64};
            if (img_load(p, &lo, &im, NULL, &e) != 0) continue;
            for (int neg = 0; neg < 2 && n < want; neg++) {
                if (neg)
                    for (size_t k = 0; k < (size_t)im.w * im.h * 3; k++) im.px[k] = (uint8_t)(255 - im.px[k]);
                for (int o = 1; o <= 8 && n < want; o++) {
                    img r;
                    if (img_rotate(&im, o, &r) != 0) continue;
                    img_fingerprint(&r, &fps[n++]);
                    img_free(&r);
                }
            }
            img_free(&im);
        }
        fclose(f);
    }
    if (n < want) {
        printf("SKIP scale: only %d fingerprints (Flickr8k not found under %s)\n", n, data);
        free(fps);
        return;
    }
    printf("scale: %d fingerprints made (or read from the cache) in %.1f s\n", n, cpu_now() - t0);
    cache_io(root, fps, n, 1);
    t0 = cpu_now();
    fpindex *x = fpi_build(fps, n, 0);
    double tb = cpu_now() - t0;
    fp_match *m;
    int nm = fpi_pairs(x, DUP_MAX_DIST, radius, &m);
    int *comp = malloc(sizeof *comp * (size_t)n);
    fp_components(n, m, nm, comp);
    double tall = cpu_now() - t0;
    int groups = 0;
    for (int i = 0; i < n; i++) groups += comp[i] == i;
    printf("  duplicates at %d: %.2f s (index %.2f s, %.0f MB; pairs %d; %d groups incl. singles)\n", n, tall, tb,
           fpi_bytes(x) / 1e6, nm, groups);
    free(comp);
    free(m);
    fpi_free(x);
    /* Peer: every pair, on a 10k subset, scaled by n^2. */
    int sub = n < 10000 ? n : 10000;
    t0 = cpu_now();
    long long hits = 0;
    for (int i = 0; i < sub; i++)
        for (int j = i + 1; j < sub; j++) hits += fp_distance(&fps[i], &fps[j], NULL) <= DUP_MAX_DIST;
    double tb10 = cpu_now() - t0;
    double extra = tb10 * ((double)n / sub) * ((double)n / sub);
    printf("  every pair (peer): %.2f s for %d (%lld pairs within reach), so ~%.0f s for %d: index is %.0fx faster\n",
           tb10, sub, hits, extra, n, extra / tall);
    /* One new image: lookup in an index that also buckets windows. */
    t0 = cpu_now();
    x = fpi_build(fps, n - 1000, 1);
    double tbw = cpu_now() - t0;
    double worst = 0, sum = 0;
    for (int q = n - 1000; q < n; q++) {
        double t1 = cpu_now();
        int k = fpi_query(x, &fps[q], -1, DUP_MAX_DIST, radius, &m);
        double dt = cpu_now() - t1;
        (void)k;
        free(m);
        sum += dt;
        if (dt > worst) worst = dt;
    }
    printf("  one new image against %d: %.3f ms mean, %.3f ms worst of 1000 (index with windows: %.2f s, %.0f MB)\n",
           n - 1000, 1e3 * sum / 1000, 1e3 * worst, tbw, fpi_bytes(x) / 1e6);
    fpi_free(x);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("  peak memory of this process: %.0f MB (fingerprints %.0f MB)\n", ru.ru_maxrss / 1024.0,
           (double)n * sizeof *fps / 1e6);
    free(fps);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *src = getenv("IMGDEX_SRCDIR") ? getenv("IMGDEX_SRCDIR") : IMGDEX_SRCDIR;
    const char *b = getenv("IMGDEX_BUILD") ? getenv("IMGDEX_BUILD") : "build";
    char root[1200];
    if (getenv("IMGDEX_DUPS_DATA"))
        snprintf(root, sizeof root, "%s", getenv("IMGDEX_DUPS_DATA"));
    else
        snprintf(root, sizeof root, "%s/%s/dups-data", src, b);
    int radius = getenv("IMGDEX_DUPS_RADIUS") ? atoi(getenv("IMGDEX_DUPS_RADIUS")) : DUP_RADIUS;
    if (!getenv("IMGDEX_DUPS_ACCURACY") || atoi(getenv("IMGDEX_DUPS_ACCURACY"))) {
        accuracy(root, "train", radius);
        accuracy(root, "dev", radius);
    }
    if (!getenv("IMGDEX_DUPS_SCALE") || atoi(getenv("IMGDEX_DUPS_SCALE"))) scale(root, radius);
    return 0;
}
