/* test_ocr_signs.c — a word read on a sign finds its photo.
 *
 * Sign photos come from bench/gen_signs.sh (Flickr8k dev images with a
 * rendered sign, the words beside them); each is described with OCR on and
 * stored in a catalogue that already holds 1000 synthetic images
 * (bench/gen_catalogue.h: COCO-like objects, colours, faces, and OCR words
 * on some).  A query for a sign word that was read must rank its photo
 * first.  Words the synthetic images can also carry ("coffee", "taxi") are
 * not asked: there the photo would only tie.  Most sign words must be read
 * at all (the recall figure itself is bench_ocr's).
 */
#include "test.h"

#include <sys/stat.h>

#include "../bench/gen_catalogue.h"
#include "describe/describe.h"
#include "image/image.h"
#include "query/query.h"

enum { SIGNS = 8, OTHERS = 1000 };

static describer *dsc;

/* Rank (1-based) of path in the results of q, 0 when absent. */
static int rank_of(catalogue *c, const char *q, const char *path)
{
    search_opts o = {.k = 20};
    search_results r;
    ierr e = {0};
    if (search_run(cat_db(c), q, &o, &r, &e) != 0) {
        fprintf(stderr, "search %s: %s\n", q, e.msg);
        return -1;
    }
    int rank = 0;
    for (int i = 0; i < r.n && !rank; i++)
        if (!strcmp(r.hits[i].path, path)) rank = i + 1;
    search_results_free(&r);
    return rank;
}

/* How many lines of truth.tsv (f, rewound) carry the word w. */
static int photos_with(FILE *f, const char *w)
{
    long at = ftell(f);
    rewind(f);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char *file = strtok(line, "\t"), *want = strtok(NULL, "\t"), *save = NULL;
        if (!file || !want) continue;
        int has = 0;
        for (char *t = strtok_r(want, " ", &save); t; t = strtok_r(NULL, " ", &save)) has |= !strcasecmp(t, w);
        n += has;
    }
    fseek(f, at, SEEK_SET);
    return n;
}

static int synthetic_word(const char *w)
{
    for (size_t i = 0; i < sizeof gen_ocr_words / sizeof gen_ocr_words[0]; i++)
        if (!strcasecmp(gen_ocr_words[i], w)) return 1;
    return 0;
}

TEST(sign_word_finds_its_photo_among_1000)
{
    if (!dsc || !describer_stage_on(dsc, "ocr")) SKIP("Tesseract English data not installed");
    char list[1100], dir[1100], cmd[4096], dbp[1200];
    snprintf(list, sizeof list, "%s/flickr8k/dev.txt", test_datadir());
    if (access(list, R_OK) != 0) SKIP("%s: no Flickr8k data", list);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s", test_tmpdir("ocr-signs"));   /* made afresh on each call */
    snprintf(dir, sizeof dir, "%s/signs", tmp);
    snprintf(cmd, sizeof cmd, "'%s/bench/gen_signs.sh' '%s' dev.txt %d 7 '%s' 2>&1", test_srcdir(), test_datadir(),
             SIGNS, dir);
    if (system(cmd) != 0) SKIP("bench/gen_signs.sh failed (ImageMagick, fonts-dejavu-core)");

    snprintf(dbp, sizeof dbp, "%s/cat.db", tmp);
    gen_stats st;
    ierr e = {0};
    CHECKF(gen_catalogue(dbp, OTHERS, 11, &st, &e) == 0, "%s", e.msg);
    catalogue *c = cat_open(dbp, 0, &e);
    CHECKF(c, "%s", e.msg);
    if (!c) return;

    char truth[1200], line[1024];
    snprintf(truth, sizeof truth, "%s/truth.tsv", dir);
    FILE *f = fopen(truth, "r");
    CHECKF(f, "%s", truth);
    if (!f) { cat_close(c); return; }
    int words = 0, read = 0, asked = 0;
    while (fgets(line, sizeof line, f)) {
        char *file = strtok(line, "\t"), *want = strtok(NULL, "\t");
        if (!file || !want) continue;
        char path[1300];
        snprintf(path, sizeof path, "%s/%s", dir, file);
        img im;
        img_meta meta;
        CHECKF(img_load(path, NULL, &im, &meta, &e) == 0, "%s", e.msg);
        description ds;
        CHECKF(describe_image(dsc, &im, &meta, &ds, &e) == 0, "%s", e.msg);
        img_free(&im);
        cat_file cf = {.path = path, .size = 1, .mtime_ns = 1, .hash = "0", .meta = &meta,
                       .describer = describer_version(dsc)};
        CHECKF(cat_put(c, &cf, &ds, &e) > 0, "%s", e.msg);
        char *save = NULL;
        for (char *w = strtok_r(want, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
            words++;
            int got = 0;
            for (int i = 0; i < ds.nwords; i++) got |= !strcasecmp(ds.words[i].text, w);
            read += got;
            if (!got) printf("# %s: \"%s\" not read\n", file, w);
            if (!got || synthetic_word(w)) continue;
            /* Two sign photos with one word ("Church", "ROUTE CHURCH"): both
             * rightly match, and either may come first. */
            if (photos_with(f, w) > 1) {
                printf("# %s: \"%s\" is on another sign photo too: not asked\n", file, w);
                continue;
            }
            char q[160];
            snprintf(q, sizeof q, "\"%s\"", w);
            int r1 = rank_of(c, q, path);
            snprintf(q, sizeof q, "text:%s", w);
            int r2 = rank_of(c, q, path);
            CHECKF(r1 == 1 && r2 == 1, "%s: \"%s\" ranks %d, text:%s ranks %d", file, w, r1, w, r2);
            asked++;
        }
        description_free(&ds);
    }
    fclose(f);
    cat_close(c);
    printf("# %d of %d sign words read; %d asked among %d other images\n", read, words, asked, OTHERS);
    CHECKF(read * 4 >= words * 3, "only %d of %d sign words read", read, words);
    CHECK(asked >= 3);
}

int main(void)
{
    (void)gen_replicate;   /* bench_query's; the header is shared */
    setenv("IMGDEX_QUIET", "1", 0);
    describe_opts o;
    describe_opts_default(&o);
    o.clip = 0;
    ierr e = {0};
    dsc = describer_open(&o, &e);
    RUN(sign_word_finds_its_photo_among_1000);
    describer_close(dsc);
    return test_summary();
}
