/* test_train.c — the trainer (src/train/) on a small synthetic captioned
 * set whose features carry the captions' content: every image shows a few
 * of 24 concepts, its features are a fixed random mix of those concepts
 * plus noise, its captions name them among filler words (with plurals and
 * verb forms, so lemmas matter).  The trainer must make the loss fall,
 * beat chance recall by a wide margin, tag well, write a model that
 * joint.h loads and that ranks like the trainer said, and do the same
 * again for the same seed. */
#include "test.h"

#include "index/textbag.h"
#include "models/joint.h"
#include "train/internal.h"
#include "train/train.h"

enum { NC = 24, F = 64, NTR = 600, NDEV = 120, CAPS = 3 };

static const char *concept[NC][2] = {
    {"dog", "dogs"}, {"cat", "cats"}, {"beach", "beaches"}, {"snow", "snow"}, {"grass", "grass"},
    {"ball", "balls"}, {"child", "children"}, {"man", "men"}, {"woman", "women"}, {"water", "water"},
    {"bike", "bikes"}, {"street", "streets"}, {"run", "running"}, {"jump", "jumping"}, {"swim", "swimming"},
    {"sit", "sitting"}, {"red", "red"}, {"blue", "blue"}, {"tree", "trees"}, {"rock", "rocks"},
    {"car", "cars"}, {"hat", "hats"}, {"boat", "boats"}, {"horse", "horses"},
};

typedef struct set { float *X; int n, ncap; int *ci; char **text; } set;

static unsigned long long rs = 99;
static double urand(void)
{
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rs >> 11) / 9007199254740992.0;
}

static float mix[NC][F];

static void make_set(set *s, int n)
{
    s->n = n;
    s->ncap = n * CAPS;
    s->X = calloc((size_t)n * F, sizeof *s->X);
    s->ci = calloc((size_t)s->ncap, sizeof *s->ci);
    s->text = calloc((size_t)s->ncap, sizeof *s->text);
    for (int i = 0; i < n; i++) {
        int has[NC] = {0}, k = 2 + (int)(urand() * 3);
        for (int j = 0; j < k; j++) has[(int)(urand() * NC)] = 1;
        for (int c = 0; c < NC; c++)
            if (has[c])
                for (int f = 0; f < F; f++) s->X[(size_t)i * F + f] += mix[c][f];
        for (int f = 0; f < F; f++) s->X[(size_t)i * F + f] += (float)(urand() - 0.5) * 1.5f + 3.0f;
        for (int q = 0; q < CAPS; q++) {
            char buf[512] = "A photo with";
            for (int c = 0; c < NC; c++) {
                /* each caption names a concept most of the time */
                if (!has[c] || urand() < 0.25) continue;
                size_t l = strlen(buf);
                snprintf(buf + l, sizeof buf - l, " the %s and", concept[c][urand() < 0.5]);
            }
            strcat(buf, " some things .");
            s->ci[i * CAPS + q] = i;
            s->text[i * CAPS + q] = strdup(buf);
        }
    }
}

static void free_set(set *s)
{
    for (int i = 0; i < s->ncap; i++) free(s->text[i]);
    free(s->text);
    free(s->ci);
    free(s->X);
}

static train_data as_data(const set *s) { return (train_data){s->n, F, s->X, s->ncap, s->ci, s->text}; }

static set tr, dv;
static char out1[600], out2[600];
static train_report rep1, rep2;
static int fitted;

static void opts(train_opts *o, const char *out)
{
    memset(o, 0, sizeof *o);
    train_hparams_default(&o->hp);
    o->hp.dim = 32;
    o->hp.hidden = 64;
    o->hp.word_dim = 32;
    o->hp.batch = 32;
    o->hp.lr = 2e-3f;
    o->hp.tag_lr = 2e-3f;
    o->hp.tag_floor = 5;
    o->hp.tag_hidden = 0;
    o->hp.tag_epochs = 15;
    o->hp.patience = 0;
    o->epochs = 12;
    o->seed = 7;
    o->out = out;
    o->captions = "synthetic.tsv";
    o->split = "train.txt";
    o->dev = "dev.txt";
    o->progress = getenv("IMGDEX_TEST_VERBOSE") != NULL;
}

static int fit_once(void)
{
    if (fitted) return fitted > 0;
    fitted = -1;
    for (int c = 0; c < NC; c++)
        for (int f = 0; f < F; f++) mix[c][f] = (float)(urand() - 0.5) * 2.0f;
    make_set(&tr, NTR);
    make_set(&dv, NDEV);
    const char *dir = test_tmpdir("train");
    snprintf(out1, sizeof out1, "%s/a.safetensors", dir);
    snprintf(out2, sizeof out2, "%s/b.safetensors", dir);
    train_data a = as_data(&tr), b = as_data(&dv);
    train_opts o;
    ierr e = {0};
    opts(&o, out1);
    if (train_fit(&a, &b, "synthetic/1", &o, &rep1, &e) != 0) {
        fprintf(stderr, "train_fit: %s\n", e.msg);
        return 0;
    }
    opts(&o, out2);
    if (train_fit(&a, &b, "synthetic/1", &o, &rep2, &e) != 0) {
        fprintf(stderr, "train_fit: %s\n", e.msg);
        return 0;
    }
    fitted = 1;
    return 1;
}

TEST(train_loss_falls_and_recall_beats_chance)
{
    CHECK(fit_once());
    CHECK_EQ_INT(rep1.epochs_run, 12);
    CHECK(rep1.ep[rep1.epochs_run - 1].loss < 0.7 * rep1.ep[0].loss);
    /* chance R@10 over 120 images is 0.083, chance R@1 0.008 */
    CHECKF(rep1.best.r10 > 0.5, "dev R@10 %.3f", rep1.best.r10);
    CHECKF(rep1.best.r1 > 0.1, "dev R@1 %.3f", rep1.best.r1);
    CHECK(rep1.best.median_rank < 10);
    CHECK_NEAR(rep1.chance_r10, 10.0 / NDEV, 1e-9);
    /* the vocabulary holds lemmas: "dogs" and "dog" are one word */
    CHECK(rep1.nwords >= NC && rep1.nwords < NC + 10);
    CHECK(rep1.ntags >= NC - 2);
}

TEST(train_tagger_beats_chance)
{
    CHECK(fit_once());
    /* a random scorer's AP is about the tag's base rate (~0.1 here) */
    CHECKF(rep1.tagger_map > 0.5, "tagger mAP %.3f", rep1.tagger_map);
}

TEST(train_same_seed_same_model)
{
    CHECK(fit_once());
    char h1[65], h2[65];
    ierr e = {0};
    CHECK(file_sha256(out1, h1, &e) == 0 && file_sha256(out2, h2, &e) == 0);
    /* identical but for the creation time in the metadata: compare weights */
    joint_model *a = joint_open(out1, &e), *b = joint_open(out2, &e);
    CHECKF(a && b, "%s", e.msg);
    CHECK_EQ_INT(rep1.best_epoch, rep2.best_epoch);
    CHECK_NEAR(rep1.best.r1, rep2.best.r1, 0);
    float fa[32], fb[32];
    for (int i = 0; i < 5; i++) {
        joint_embed_image(a, dv.X + (size_t)i * F, fa);
        joint_embed_image(b, dv.X + (size_t)i * F, fb);
        for (int k = 0; k < joint_dim(a); k++) CHECK(fa[k] == fb[k]);
    }
    joint_close(a);
    joint_close(b);
}

/* The written model, run through joint.h and textbag (the search path),
 * ranks dev captions the way the trainer measured (f16 rounding aside). */
TEST(train_model_file_agrees_with_trainer)
{
    CHECK(fit_once());
    ierr e = {0};
    joint_model *m = joint_open(out1, &e);
    CHECKF(m, "%s", e.msg);
    CHECK_STR(joint_feature_kind(m), "synthetic/1");
    CHECK_EQ_INT(joint_feature_dim(m), F);
    CHECK(joint_word_index(m, "dog") >= 0 && joint_word_index(m, "dogs") < 0);
    CHECK(joint_word_index(m, "run") >= 0 && joint_tag_index(m, "swim") >= 0);
    CHECK(joint_meta(m, "dev") && strstr(joint_meta(m, "dev"), "R@1"));
    CHECK(joint_meta(m, "seed") && !strcmp(joint_meta(m, "seed"), "7"));
    int D = joint_dim(m);
    float *I = malloc((size_t)NDEV * D * sizeof *I), *T = malloc((size_t)dv.ncap * D * sizeof *T);
    for (int i = 0; i < NDEV; i++) joint_embed_image(m, dv.X + (size_t)i * F, I + (size_t)i * D);
    for (int c = 0; c < dv.ncap; c++) textbag_embed(m, dv.text[c], T + (size_t)c * D, NULL);
    double *ranks = malloc((size_t)dv.ncap * sizeof *ranks);
    rank_captions(T, dv.ncap, dv.ci, I, NDEV, D, ranks);
    eval_metrics em;
    eval_metrics_compute(ranks, dv.ncap, &em);
    CHECKF(fabs(em.r10 - rep1.best.r10) < 0.03 && fabs(em.r1 - rep1.best.r1) < 0.03,
           "file R@1 %.3f R@10 %.3f, trainer %.3f %.3f", em.r1, em.r10, rep1.best.r1, rep1.best.r10);
    /* tags: an image's own concepts come out more probable than others */
    float p[64];
    CHECK(joint_ntags(m) <= 64);
    joint_tag_probs(m, dv.X, p);
    for (int t = 0; t < joint_ntags(m); t++) CHECK(p[t] > 0 && p[t] < 1);
    free(I);
    free(T);
    free(ranks);
    joint_close(m);
}

TEST(train_fit_refuses_empty)
{
    train_data a = {1, F, tr.X, 0, NULL, NULL}, b = {1, F, tr.X, 0, NULL, NULL};
    train_opts o;
    opts(&o, "/nonexistent/x.safetensors");
    train_report r;
    memset(&r, 0, sizeof r);
    ierr e = {0};
    CHECK(train_fit(&a, &b, "k", &o, &r, &e) != 0);
    CHECKF(strstr(e.msg, "at least 2"), "%s", e.msg);
}

static float cosv(const float *a, const float *b, int n)
{
    double s = 0, x = 0, y = 0;
    for (int i = 0; i < n; i++) s += (double)a[i] * b[i], x += (double)a[i] * a[i], y += (double)b[i] * b[i];
    return (float)(s / sqrt(x * y));
}

/* Words whose WordNet definitions overlap start closer than unrelated ones. */
TEST(train_gloss_vectors)
{
    char *w[] = {"car", "truck", "dog", "puppy", "beach", "shore", "run"};
    int n = 7, E = 256;
    vocab v = {n, w, NULL};
    int sorted[7];
    for (int i = 0; i < n; i++) sorted[i] = i;
    v.sorted = sorted;
    float *out = calloc((size_t)n * E, sizeof *out);
    int got = gloss_vectors(&v, E, 3, 2.0f, out);
    if (!got) {
        free(out);
        SKIP("WordNet (wordnet-base) not installed");
    }
    CHECK_EQ_INT(got, n);
    double norm = 0;
    for (int k = 0; k < E; k++) norm += (double)out[k] * out[k];
    CHECK_NEAR(sqrt(norm), 2.0, 1e-4);
#define V(i) (out + (size_t)(i) * E)
    CHECKF(cosv(V(0), V(1), E) > cosv(V(0), V(2), E) + 0.1, "car/truck %.3f car/dog %.3f", cosv(V(0), V(1), E),
           cosv(V(0), V(2), E));
    CHECKF(cosv(V(2), V(3), E) > cosv(V(2), V(4), E) + 0.1, "dog/puppy %.3f dog/beach %.3f", cosv(V(2), V(3), E),
           cosv(V(2), V(4), E));
    CHECKF(cosv(V(4), V(5), E) > cosv(V(4), V(6), E) + 0.1, "beach/shore %.3f beach/run %.3f", cosv(V(4), V(5), E),
           cosv(V(4), V(6), E));
#undef V
    free(out);
}

int main(void)
{
    RUN(train_gloss_vectors);
    RUN(train_loss_falls_and_recall_beats_chance);
    RUN(train_tagger_beats_chance);
    RUN(train_same_seed_same_model);
    RUN(train_model_file_agrees_with_trainer);
    RUN(train_fit_refuses_empty);
    train_report_free(&rep1);
    train_report_free(&rep2);
    free_set(&tr);
    free_set(&dv);
    return test_summary();
}
