/* test_joint_shipped.c — the model shipped in share/models/: it loads, it
 * expects the feature kind the describer produces now, it is small, it
 * says what it was trained on, and on Flickr8k dev photos (described here,
 * skipped loudly when the data is missing) captions find their own photo
 * far better than chance and tags follow the captions. */
#include "test.h"

#include <sys/stat.h>

#include "describe/describe.h"
#include "describe/features.h"
#include "eval/eval.h"
#include "index/textbag.h"
#include "models/joint.h"

static joint_model *shipped(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/share/models/flickr8k-joint.safetensors", test_srcdir());
    ierr e = {0};
    return joint_open(path, &e);
}

TEST(shipped_model_loads_and_matches_describer)
{
    joint_model *m = shipped();
    if (!m) SKIP("share/models/flickr8k-joint.safetensors missing");
    CHECK_STR(joint_feature_kind(m), FEAT_KIND);
    CHECK_EQ_INT(joint_feature_dim(m), FEAT_DIM);
    CHECK(!strncmp(joint_id(m), "flickr8k-joint@", 15));
    struct stat st;
    CHECK(stat(joint_path(m), &st) == 0 && st.st_size <= 16 * 1000 * 1000);
    CHECK(joint_meta(m, "licence") && strstr(joint_meta(m, "licence"), "research use"));
    CHECK(joint_meta(m, "trained_on") && joint_meta(m, "command") && joint_meta(m, "dev"));
    /* the words photos are described with */
    const char *need[] = {"dog", "beach", "snow", "grass", "water", "run", "jump", "climb", "swim", "red", NULL};
    for (int i = 0; need[i]; i++) CHECKF(joint_word_index(m, need[i]) >= 0, "no word '%s'", need[i]);
    for (int i = 0; need[i]; i++) CHECKF(joint_tag_index(m, need[i]) >= 0, "no tag '%s'", need[i]);
    joint_close(m);
}

static float cosine(const float *a, const float *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)a[i] * b[i];
    return (float)s;
}

TEST(shipped_model_text_side)
{
    joint_model *m = shipped();
    if (!m) SKIP("share/models/flickr8k-joint.safetensors missing");
    int D = joint_dim(m);
    float *a = calloc((size_t)D, 4), *b = calloc((size_t)D, 4), *c = calloc((size_t)D, 4);
    /* a word it never saw lands near the ones it did (WordNet back-off) */
    CHECK(joint_word_index(m, "pooch") < 0);
    CHECK(textbag_embed(m, "a pooch", a, NULL) == 1);
    CHECK(textbag_embed(m, "a dog", b, NULL) == 1);
    CHECK(textbag_embed(m, "a man", c, NULL) == 1);
    CHECKF(cosine(a, b, D) > 0.5f && cosine(a, b, D) > cosine(a, c, D) + 0.3f, "pooch/dog %.3f pooch/man %.3f",
           cosine(a, b, D), cosine(a, c, D));
    /* sentences: the same scene in other words is nearer than another scene */
    CHECK(textbag_embed(m, "a dog runs on the beach", a, NULL) == 3);
    CHECK(textbag_embed(m, "a puppy sprints along the seashore", b, NULL) >= 2);
    CHECK(textbag_embed(m, "a man climbs a snowy mountain", c, NULL) >= 3);
    CHECKF(cosine(a, b, D) > cosine(a, c, D) + 0.1f, "dog/puppy %.3f dog/climber %.3f", cosine(a, b, D),
           cosine(a, c, D));
    free(a);
    free(b);
    free(c);
    joint_close(m);
}

enum { NIMG = 24 };

TEST(shipped_model_ranks_dev_photos)
{
    joint_model *m = shipped();
    if (!m) SKIP("share/models/flickr8k-joint.safetensors missing");
    char caps[1024], split[1024], dir[1024];
    snprintf(dir, sizeof dir, "%s/flickr8k/images", test_datadir());
    snprintf(caps, sizeof caps, "%s/flickr8k/captions.tsv", test_datadir());
    snprintf(split, sizeof split, "%s/flickr8k/dev.txt", test_datadir());
    eval_set set;
    ierr e = {0};
    if (access(split, R_OK) != 0 || eval_load(caps, split, dir, NIMG, &set, &e) != 0 || set.nimages < NIMG) {
        joint_close(m);
        SKIP("Flickr8k dev images not found under %s (set IMGDEX_DATA)",
             test_datadir());
    }
    describe_opts dopt;
    describe_opts_default(&dopt);
    dopt.ocr = 0;
    dopt.clip = 0;
    describer *d = describer_open(&dopt, &e);
    CHECKF(d, "%s", e.msg);
    int D = joint_dim(m), T = joint_ntags(m);
    float *I = calloc((size_t)NIMG * D, 4), *P = calloc((size_t)NIMG * T, 4);
    for (int i = 0; i < NIMG; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, set.images[i]);
        img im;
        img_load_opts lo = {.min_side = 1024};
        CHECKF(img_load(path, &lo, &im, NULL, &e) == 0, "%s", e.msg);
        description ds;
        memset(&ds, 0, sizeof ds);
        CHECKF(describe_image(d, &im, NULL, &ds, &e) == 0, "%s", e.msg);
        CHECKF(ds.features && ds.nfeatures == joint_feature_dim(m), "%s: no features", path);
        joint_embed_image(m, ds.features, I + (size_t)i * D);
        joint_tag_probs(m, ds.features, P + (size_t)i * T);
        description_free(&ds);
        img_free(&im);
    }
    describer_close(d);
    /* every caption ranks the 24 photos; chance mean rank is 12.5 */
    double sum = 0;
    int n = 0, top5 = 0;
    float *t = calloc((size_t)D, 4);
    for (int q = 0; q < set.nq; q++) {
        if (!textbag_embed(m, set.q[q].caption, t, NULL)) continue;
        float want = cosine(t, I + (size_t)set.q[q].image * D, D);
        int rank = 1;
        for (int i = 0; i < NIMG; i++) if (cosine(t, I + (size_t)i * D, D) > want) rank++;
        sum += rank;
        top5 += rank <= 5;
        n++;
    }
    CHECK(n >= NIMG * 4);
    printf("# %d captions over %d dev photos: mean rank %.2f (chance 12.5), top-5 %.2f (chance 0.21)\n", n, NIMG,
           sum / n, (double)top5 / n);
    CHECKF(sum / n < 6.0, "mean rank %.2f", sum / n);
    CHECKF((double)top5 / n > 0.5, "top-5 share %.2f", (double)top5 / n);
    /* tags: photos whose captions say "dog" get a higher P(dog) than the others */
    int dog = joint_tag_index(m, "dog");
    CHECK(dog >= 0);
    double pin = 0, pout = 0;
    int nin = 0, nout = 0;
    for (int i = 0; i < NIMG; i++) {
        int says = 0;
        for (int q = 0; q < set.nq; q++)
            if (set.q[q].image == i && strstr(set.q[q].caption, "dog")) says = 1;
        if (says) pin += P[(size_t)i * T + dog], nin++;
        else pout += P[(size_t)i * T + dog], nout++;
    }
    if (nin && nout) CHECKF(pin / nin > pout / nout + 0.2, "P(dog) %.2f with, %.2f without", pin / nin, pout / nout);
    free(t);
    free(I);
    free(P);
    eval_set_free(&set);
    joint_close(m);
}

int main(void)
{
    RUN(shipped_model_loads_and_matches_describer);
    RUN(shipped_model_text_side);
    RUN(shipped_model_ranks_dev_photos);
    return test_summary();
}
