/* test_blip_real.c — the published weights, when present.
 *
 * With IMGDEX_BLIP_DIR pointing at Salesforce/blip-image-captioning-base (or
 * -large) in the Hugging Face layout, captions of Debian's darknet sample
 * photos must name what is plainly in them (a dog, horses), a prompt must
 * be continued, and beam search must agree on the subject.  Skipped, loudly,
 * without the weights (no weights can be downloaded on the build machines). */
#include "test.h"

#include "models/blip/blip.h"

static char *caption_of(blip_model *m, const char *path, int beams, const char *prompt, ierr *e)
{
    img im = {0};
    img_load_opts o = {0};
    if (img_load(path, &o, &im, NULL, e)) return NULL;
    blip_opts bo;
    blip_opts_default(&bo);
    bo.beams = beams;
    bo.prompt = prompt;
    char *c = blip_caption(m, &im, &bo, e);
    img_free(&im);
    return c;
}

TEST(darknet_photos)
{
    const char *dir = getenv("IMGDEX_BLIP_DIR");
    if (!dir || !*dir)
        SKIP("IMGDEX_BLIP_DIR is not set: the real BLIP weights test did not run "
             "(imgdex models fetch blip-base, then IMGDEX_BLIP_DIR=<models dir>/blip-base)");
    const char *dog = "/usr/share/darknet/data/dog.jpg", *horses = "/usr/share/darknet/data/horses.jpg";
    FILE *f = fopen(dog, "rb");
    if (!f) SKIP("%s is missing (apt install darknet)", dog);
    fclose(f);
    ierr e = {0};
    blip_model *m = blip_open(dir, &e);
    CHECKF(m, "%s", e.msg);
    char *c1 = caption_of(m, dog, 1, NULL, &e);
    CHECKF(c1, "%s", e.msg);
    printf("  %s: \"%s\"\n", dog, c1);
    CHECKF(strstr(c1, "dog"), "no dog in \"%s\"", c1);
    char *c2 = caption_of(m, horses, 3, NULL, &e);
    CHECKF(c2, "%s", e.msg);
    printf("  %s (3 beams): \"%s\"\n", horses, c2);
    CHECKF(strstr(c2, "horse"), "no horse in \"%s\"", c2);
    char *c3 = caption_of(m, dog, 3, "a photography of", &e);
    CHECKF(c3, "%s", e.msg);
    printf("  %s (prompt, 3 beams): \"%s\"\n", dog, c3);
    CHECKF(!strncmp(c3, "a photography of ", 17) && strstr(c3, "dog"), "\"%s\"", c3);
    free(c1);
    free(c2);
    free(c3);
    blip_close(m);
}

int main(void)
{
    RUN(darknet_photos);
    return test_summary();
}
