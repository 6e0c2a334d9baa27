/* test_describe_photos.c — whole descriptions of real photos with the
 * embedded models: Debian darknet's sample photos (what is where, what
 * colour, how things stand to each other), text the test renders with
 * ImageMagick read back by OCR, and a sample of Flickr8k dev images
 * described without error (all 1000, with per-stage times, in
 * bench/bench_describe.c).  Expectations are what a person sees in the
 * photos, not values read back from the code. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <strings.h>
#include <sys/stat.h>

#include "test.h"

#include "describe/internal.h"

#define DARKNET "/usr/share/darknet/data"

static describer *dsc;        /* objects/faces/mask, no OCR, no CLIP */
static describer *dsc_ocr;    /* + OCR */

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static int describe_file(describer *d, const char *path, description *ds)
{
    img im;
    img_meta meta;
    ierr e = {0};
    if (img_load(path, NULL, &im, &meta, &e) != 0) { fprintf(stderr, "%s\n", e.msg); return -1; }
    int rc = describe_image(d, &im, &meta, ds, &e);
    if (rc) fprintf(stderr, "%s\n", e.msg);
    img_free(&im);
    return rc;
}

/* First region with this label (or with it among the detector's close
 * alternatives, "alt=cow,horse"), -1 when none. */
static int find_region(const description *ds, const char *label)
{
    for (int i = 1; i < ds->nregions; i++)
        if (!strcmp(ds->regions[i].label, label)) return i;
    for (int i = 1; i < ds->nregions; i++) {
        const char *alt = strstr(ds->regions[i].attrs, "alt=");
        if (!alt) continue;
        char list[128];
        snprintf(list, sizeof list, ",%.*s,", (int)strcspn(alt + 4, " "), alt + 4);
        char want[64];
        snprintf(want, sizeof want, ",%s,", label);
        if (strstr(list, want)) return i;
    }
    return -1;
}

static float rel_weight(const description *ds, int a, const char *rel, int b)
{
    for (int i = 0; i < ds->nrelations; i++)
        if (ds->relations[i].a == a && ds->relations[i].b == b && !strcmp(ds->relations[i].rel, rel))
            return ds->relations[i].weight;
    return 0;
}

static int has_colour(const region *r, const char *c)
{
    for (int i = 0; i < r->ncolours; i++)
        if (!strcmp(r->colours[i].name, c)) return 1;
    return 0;
}

static int need_models(void)
{
    return dsc && describer_stage_on(dsc, "objects");
}

TEST(dog_photo_red_bicycle_dog_left_vehicle_above)
{
    if (!exists(DARKNET "/dog.jpg")) SKIP("Debian darknet photos not installed");
    if (!need_models()) SKIP("object detector model not installed (scripts/setup)");
    description ds;
    CHECK(describe_file(dsc, DARKNET "/dog.jpg", &ds) == 0);
    int bike = find_region(&ds, "bicycle"), dog = find_region(&ds, "dog");
    int car = find_region(&ds, "car");
    if (car < 0) car = find_region(&ds, "truck");
    CHECKF(bike > 0 && dog > 0 && car > 0, "caption: %s", ds.caption);
    CHECKF(has_colour(&ds.regions[bike], "red"), "bicycle colours: %s %s %s", ds.regions[bike].colours[0].name,
           ds.regions[bike].colours[1].name, ds.regions[bike].colours[2].name);
    CHECKF(rel_weight(&ds, dog, "left_of", bike) >= 0.3f, "dog left_of bicycle %.2f",
           rel_weight(&ds, dog, "left_of", bike));
    CHECK(rel_weight(&ds, bike, "left_of", dog) == 0);
    float up = rel_weight(&ds, car, "above", dog), back = rel_weight(&ds, car, "behind", dog);
    CHECKF(up >= 0.5f || back >= 0.5f, "vehicle above %.2f behind %.2f the dog", up, back);
    CHECK(rel_weight(&ds, car, "above", bike) >= 0.5f);
    CHECK(!strcmp(ds.regions[dog].position + strlen(ds.regions[dog].position) - 4, "left"));
    /* the dog's face is not a person's face */
    for (int i = 1; i < ds.nregions; i++) CHECK(ds.regions[i].kind != REGION_FACE);
    CHECKF(strstr(ds.caption, "red bicycle"), "caption: %s", ds.caption);
    CHECKF(strstr(ds.scene, "landscape"), "scene: %s", ds.scene);
    description_free(&ds);
}

TEST(person_photo_dog_person_white_horse)
{
    if (!exists(DARKNET "/person.jpg")) SKIP("Debian darknet photos not installed");
    if (!need_models()) SKIP("object detector model not installed (scripts/setup)");
    description ds;
    CHECK(describe_file(dsc, DARKNET "/person.jpg", &ds) == 0);
    int person = find_region(&ds, "person"), dog = find_region(&ds, "dog"), horse = find_region(&ds, "horse");
    CHECKF(person > 0 && dog > 0 && horse > 0, "caption: %s", ds.caption);
    CHECK(rel_weight(&ds, person, "left_of", horse) >= 0.5f);
    CHECK(rel_weight(&ds, dog, "left_of", person) >= 0.5f);
    CHECK(rel_weight(&ds, horse, "right_of", dog) >= 0.5f);
    CHECKF(!strcmp(ds.regions[horse].colours[0].name, "white"), "horse is %s", ds.regions[horse].colours[0].name);
    CHECK(has_colour(&ds.regions[person], "blue"));   /* the blue jacket */
    /* ... worn on top, with black trousers below */
    CHECKF(strstr(ds.regions[person].attrs, "top=blue:") && strstr(ds.regions[person].attrs, "bottom=black:"),
           "person attrs: %s", ds.regions[person].attrs);
    /* the person mask, when installed, refines the person and is stored */
    if (describer_stage_on(dsc, "person_mask")) {
        const region *p = &ds.regions[person];
        CHECK(p->mask_rle != NULL);
        int w, h;
        uint8_t *m = mask_rle_decode(p->mask_rle, p->mask_len, &w, &h);
        CHECK(m);
        long in = 0;
        for (int i = 0; i < w * h; i++) in += m[i] != 0;
        free(m);
        CHECKF(in > w * h / 5 && in < w * h * 19 / 20, "mask fill %ld of %d", in, w * h);
        /* the standing person is taller than wide */
        CHECK((p->y1 - p->y0) * (float)ds.height > 2 * (p->x1 - p->x0) * (float)ds.width);
    }
    char *js = description_to_json(&ds);
    cJSON *root = cJSON_Parse(js);
    free(js);
    CHECK(root);
    cJSON *rels = cJSON_GetObjectItem(root, "relations");
    CHECK(cJSON_GetArraySize(rels) == ds.nrelations && ds.nrelations > 0);
    cJSON_Delete(root);
    description_free(&ds);
}

TEST(other_darknet_photos)
{
    if (!exists(DARKNET "/horses.jpg")) SKIP("Debian darknet photos not installed");
    if (!need_models()) SKIP("object detector model not installed (scripts/setup)");
    description ds;
    CHECK(describe_file(dsc, DARKNET "/horses.jpg", &ds) == 0);
    int horses = 0;
    for (int i = 1; i < ds.nregions; i++) horses += !strcmp(ds.regions[i].label, "horse");
    CHECK(horses >= 2);
    CHECKF(strstr(ds.caption, "horses"), "caption: %s", ds.caption);
    description_free(&ds);
    CHECK(describe_file(dsc, DARKNET "/giraffe.jpg", &ds) == 0);
    int g = find_region(&ds, "giraffe"), z = find_region(&ds, "zebra");
    CHECK(g > 0 && z > 0);
    CHECK(has_colour(&ds.regions[g], "brown") || has_colour(&ds.regions[g], "orange"));
    CHECK(strstr(ds.scene, "green") != NULL);   /* all that foliage */
    description_free(&ds);
}

/* Render text with ImageMagick; NULL when convert or the font is missing. */
static const char *render(const char *dir, const char *name, const char *args)
{
    static char path[700];
    char cmd[1600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(cmd, sizeof cmd, "convert %s '%s' 2>/dev/null", args, path);
    return system(cmd) == 0 && exists(path) ? path : NULL;
}

static int has_word(const description *ds, const char *w)
{
    for (int i = 0; i < ds->nwords; i++)
        if (!strcasecmp(ds->words[i].text, w)) return 1;
    return 0;
}

#define FONT "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

TEST(ocr_reads_rendered_text)
{
    if (!dsc_ocr || !describer_stage_on(dsc_ocr, "ocr")) SKIP("Tesseract English data not installed");
    if (!exists(FONT)) SKIP("font %s missing (Debian fonts-dejavu-core)", FONT);
    const char *dir = test_tmpdir("describe-ocr");
    /* A sign: dark letters on a light panel inside a darker, noisy scene. */
    const char *p = render(dir, "sign.png",
                           "-size 480x320 plasma:green-blue -blur 0x2 -fill '#f2f0e6' -draw 'rectangle 60,90 420,230' "
                           "-font " FONT " -pointsize 44 -fill '#202020' -annotate +95+150 'FRESH' "
                           "-annotate +95+210 'COFFEE'");
    if (!p) SKIP("ImageMagick convert could not render text");
    description ds;
    CHECK(describe_file(dsc_ocr, p, &ds) == 0);
    CHECKF(has_word(&ds, "FRESH") && has_word(&ds, "COFFEE"), "read %d words: %s", ds.nwords,
           ds.nwords ? ds.words[0].text : "");
    int i = 0;
    while (i < ds.nwords && strcasecmp(ds.words[i].text, "COFFEE")) i++;
    const ocr_word *w = &ds.words[i];
    CHECK(w->conf >= 0.7f && w->conf <= 1);
    /* where the word is: x 95..~290 of 480, baseline 210 of 320 */
    CHECKF(w->x0 > 0.15f && w->x0 < 0.25f && w->y1 > 0.6f && w->y1 < 0.72f, "box %.2f %.2f %.2f %.2f", w->x0,
           w->y0, w->x1, w->y1);
    CHECKF(strstr(ds.caption, "text: 'FRESH COFFEE'"), "caption: %s", ds.caption);
    description_free(&ds);

    /* Light on dark, small, in a small image (read at twice the size). */
    p = render(dir, "small.png", "-size 224x160 xc:'#1d2a50' -font " FONT " -pointsize 16 -fill white "
                                 "-annotate +20+80 'PLATFORM 9'");
    CHECK(p);
    CHECK(describe_file(dsc_ocr, p, &ds) == 0);
    CHECKF(has_word(&ds, "PLATFORM"), "read %d words: %s", ds.nwords, ds.nwords ? ds.words[0].text : "");
    description_free(&ds);
}

/* The sign of ocr_reads_rendered_text turned a quarter either way (a
 * vertical banner, a book spine): the text test sees columns, not rows,
 * and OCR reads the turned copy and puts the boxes back where the words
 * are in the photo. */
TEST(ocr_reads_turned_text)
{
    if (!dsc_ocr || !describer_stage_on(dsc_ocr, "ocr")) SKIP("Tesseract English data not installed");
    if (!exists(FONT)) SKIP("font %s missing (Debian fonts-dejavu-core)", FONT);
    const char *dir = test_tmpdir("describe-ocr-turned");
    static const struct { const char *name, *rotate; float cx, cy; } turns[] = {
        /* COFFEE sits at x 0.2..0.6, baseline y 0.66 of the upright sign */
        {"down.png", "90", 0.39f, 0.40f},    /* turned clockwise: reads downwards */
        {"up.png", "-90", 0.61f, 0.60f},     /* anticlockwise: reads upwards */
    };
    for (int k = 0; k < 2; k++) {
        char args[1200];
        snprintf(args, sizeof args,
                 "-size 480x320 plasma:green-blue -blur 0x2 -fill '#f2f0e6' -draw 'rectangle 60,90 420,230' "
                 "-font " FONT " -pointsize 44 -fill '#202020' -annotate +95+150 'FRESH' "
                 "-annotate +95+210 'COFFEE' -rotate %s", turns[k].rotate);
        const char *p = render(dir, turns[k].name, args);
        if (!p) SKIP("ImageMagick convert could not render text");
        img im;
        ierr e = {0};
        CHECKF(img_load(p, NULL, &im, NULL, &e) == 0, "%s", e.msg);
        int layout = ocr_text_layout(&im);
        img_free(&im);
        CHECKF(layout == OCR_COLUMNS, "%s: layout %d", turns[k].name, layout);
        description ds;
        CHECK(describe_file(dsc_ocr, p, &ds) == 0);
        CHECKF(has_word(&ds, "COFFEE"), "%s: read %d words: %s", turns[k].name, ds.nwords,
               ds.nwords ? ds.words[0].text : "");
        for (int i = 0; i < ds.nwords; i++) {
            if (strcasecmp(ds.words[i].text, "COFFEE")) continue;
            const ocr_word *w = &ds.words[i];
            float cx = (w->x0 + w->x1) / 2, cy = (w->y0 + w->y1) / 2;
            CHECKF(fabsf(cx - turns[k].cx) < 0.1f && fabsf(cy - turns[k].cy) < 0.12f && w->y1 - w->y0 > w->x1 - w->x0,
                   "%s: COFFEE at %.2f,%.2f (%.2f..%.2f x %.2f..%.2f)", turns[k].name, cx, cy, w->x0, w->x1, w->y0,
                   w->y1);
        }
        description_free(&ds);
    }
}

TEST(text_test_is_cheap_and_selective)
{
    /* flat, gradient and noise images have no text */
    img im = {320, 240, malloc(320 * 240 * 3)};
    for (int i = 0; i < 320 * 240 * 3; i++) im.px[i] = 128;
    CHECK(!ocr_text_likely(&im));
    for (int y = 0; y < 240; y++)
        for (int x = 0; x < 320; x++) memset(im.px + (y * 320 + x) * 3, (x + y) * 255 / 560, 3);
    CHECK(!ocr_text_likely(&im));
    uint32_t s = 12345;
    for (int i = 0; i < 320 * 240 * 3; i++) { s = s * 1103515245 + 12345; im.px[i] = (uint8_t)(s >> 24); }
    CHECK(!ocr_text_likely(&im));
    free(im.px);
    if (!exists(FONT)) SKIP("font %s missing (Debian fonts-dejavu-core)", FONT);
    const char *dir = test_tmpdir("describe-textlike");
    const char *p = render(dir, "t.png", "-size 400x200 xc:white -font " FONT " -pointsize 30 -fill black "
                                         "-annotate +20+100 'Hello there world'");
    if (!p) SKIP("ImageMagick convert could not render text");
    ierr e = {0};
    CHECK(img_load(p, NULL, &im, NULL, &e) == 0);
    double t0 = now_seconds();
    CHECK(ocr_text_likely(&im));
    double dt = now_seconds() - t0;
    CHECK_EQ_INT(ocr_text_layout(&im), OCR_ROWS);
    CHECKF(dt < 0.25, "text test took %.0f ms", dt * 1e3);   /* vs ~1 s for Tesseract */
    img_free(&im);
}

TEST(words_filter)
{
    CHECK(ocr_word_plausible("COFFEE", 0.8f));
    CHECK(ocr_word_plausible("1915", 0.8f));
    CHECK(ocr_word_plausible("STOP", 0.75f));
    CHECK(ocr_word_plausible("THE", 0.92f));
    /* what Tesseract "reads" in foliage and water */
    CHECK(!ocr_word_plausible("ay", 0.83f));
    CHECK(!ocr_word_plausible("Gs", 0.86f));
    CHECK(!ocr_word_plausible("PAK", 0.74f));
    CHECK(!ocr_word_plausible("nal", 0.78f));
    CHECK(!ocr_word_plausible("-~.", 0.9f));
    CHECK(!ocr_word_plausible("rtkl", 0.9f));
    CHECK(!ocr_word_plausible("IIIII", 0.9f));
}

TEST(flickr8k_sample_without_error)
{
    char list[700];
    snprintf(list, sizeof list, "%s/flickr8k/dev.txt", test_datadir());
    FILE *f = fopen(list, "r");
    if (!f) SKIP("no Flickr8k at %s", list);
    /* Every 40th of the 1000 dev images (every 200th under the sanitizers);
     * the full set runs in bench/bench_describe.c. */
    int every = getenv("IMGDEX_SAN") ? 200 : 40;
    char name[256], path[1024];
    int n = 0, i = 0, with_regions = 0;
    while (fgets(name, sizeof name, f)) {
        name[strcspn(name, "\r\n")] = 0;
        if (!name[0] || i++ % every) continue;
        snprintf(path, sizeof path, "%s/flickr8k/images/%s", test_datadir(), name);
        description ds;
        CHECKF(describe_file(dsc_ocr ? dsc_ocr : dsc, path, &ds) == 0, "%s", path);
        CHECK(ds.nregions >= 1 && ds.caption[0] && ds.scene[0]);
        with_regions += ds.nregions > 1;
        for (int k = 0; k < ds.nrelations; k++) CHECK(ds.relations[k].weight >= 0 && ds.relations[k].weight <= 1);
        description_free(&ds);
        n++;
    }
    fclose(f);
    CHECK(n > 0);
    if (need_models()) CHECKF(with_regions * 2 > n, "%d of %d with any object", with_regions, n);
    const char *names[32];
    double secs[32];
    int runs[32];
    int ns = describer_stage_times(dsc_ocr ? dsc_ocr : dsc, names, secs, runs, 32);
    printf("# per-stage time over %d Flickr8k images (and the photos above):", n);
    for (int k = 0; k < ns; k++)
        if (runs[k]) printf(" %s %.1f ms", names[k], secs[k] * 1e3 / runs[k]);
    printf("\n");
}

int main(void)
{
    setenv("IMGDEX_QUIET", "1", 0);
    describe_opts o;
    describe_opts_default(&o);
    o.ocr = 0;
    o.clip = 0;
    ierr e = {0};
    dsc = describer_open(&o, &e);
    o.ocr = 1;
    dsc_ocr = describer_open(&o, &e);
    RUN(dog_photo_red_bicycle_dog_left_vehicle_above);
    RUN(person_photo_dog_person_white_horse);
    RUN(other_darknet_photos);
    RUN(ocr_reads_rendered_text);
    RUN(ocr_reads_turned_text);
    RUN(text_test_is_cheap_and_selective);
    RUN(words_filter);
    RUN(flickr8k_sample_without_error);
    describer_close(dsc);
    describer_close(dsc_ocr);
    return test_summary();
}
