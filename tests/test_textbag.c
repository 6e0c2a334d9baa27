/* test_textbag.c — captions and queries as content lemmas, and the WordNet
 * back-off of lemmas a model does not know (src/index/textbag.h).  The
 * expectations are English grammar and WordNet's own relations, not output
 * of the code. */
#include "test.h"

#include "index/textbag.h"
#include "index/wordnet.h"
#include "models/joint.h"

static int bag(const char *text, char (*out)[TEXTBAG_WORD], int max) { return textbag_lemmas(text, out, max); }

static int same_bag(const char *text, const char *const *want)
{
    char out[32][TEXTBAG_WORD];
    int n = bag(text, out, 32), k = 0;
    while (want[k]) k++;
    if (n != k) {
        fprintf(stderr, "'%s': %d lemmas, expected %d:", text, n, k);
        for (int i = 0; i < n; i++) fprintf(stderr, " [%s]", out[i]);
        fprintf(stderr, "\n");
        return 0;
    }
    for (int i = 0; i < n; i++)
        if (strcmp(out[i], want[i])) {
            fprintf(stderr, "'%s': lemma %d is '%s', expected '%s'\n", text, i, out[i], want[i]);
            return 0;
        }
    return 1;
}

TEST(textbag_sentences)
{
    if (!wn_available()) SKIP("textbag_sentences: WordNet (wordnet-base) not installed");
    const char *a[] = {"dog", "run", "beach", NULL};
    CHECK(same_bag("A dog is running on the beach .", a));
    const char *b[] = {"two", "child", "play", "water", NULL};
    CHECK(same_bag("Two children are playing in the water", b));
    /* possessive, irregular plural, irregular verb, capitals */
    const char *c[] = {"man", "dog", "swim", "mouse", NULL};
    CHECK(same_bag("The MAN'S dogs swam with the mice", c));
    /* a hyphenated word WordNet knows stays whole; one it does not splits */
    const char *d[] = {"girl", "t-shirt", "jump", "rope", NULL};
    CHECK(same_bag("A girl in a T-shirt jumps the rope", d));
    const char *e[] = {"boy", "blue", "skateboard", NULL};
    CHECK(same_bag("boy-blue skateboard", e));
    const char *f[] = {NULL};
    CHECK(same_bag("", f));
    CHECK(same_bag("a the of , . !", f));
    CHECK(same_bag("   ", f));
}

TEST(textbag_limits)
{
    char out[3][TEXTBAG_WORD];
    CHECK_EQ_INT(bag("dog cat horse cow sheep", out, 3), 3);
    CHECK_STR(out[2], "horse");
    CHECK_EQ_INT(bag(NULL, out, 3), 0);
    /* a very long word is cut, never overflows */
    char longw[400];
    memset(longw, 'x', sizeof longw - 1);
    longw[sizeof longw - 1] = 0;
    CHECK_EQ_INT(bag(longw, out, 3), 1);
    CHECK(strlen(out[0]) < TEXTBAG_WORD);
}

static const char *vocab[] = {"dog", "run", "beach", "snow", "person", "man", "animal", "jump",
                              "water", "child", "swim", "red", "big", "rock", "climb", NULL};

static int known(void *ctx, const char *l)
{
    (void)ctx;
    for (int i = 0; vocab[i]; i++) if (!strcmp(vocab[i], l)) return 1;
    return 0;
}

static float weight_of(const textbag_term *t, int n, const char *w)
{
    for (int i = 0; i < n; i++) if (!strcmp(t[i].word, w)) return t[i].weight;
    return 0;
}

TEST(textbag_backoff_wordnet)
{
    if (!wn_available()) SKIP("textbag_backoff_wordnet: WordNet (wordnet-base) not installed");
    textbag_term t[8];
    int n;
    /* a puppy is a dog (hypernym), a toddler a child, a boulder a rock */
    n = textbag_backoff("puppy", known, NULL, t, 8);
    CHECKF(n >= 1 && !strcmp(t[0].word, "dog"), "puppy -> %s", n ? t[0].word : "nothing");
    n = textbag_backoff("toddler", known, NULL, t, 8);
    CHECK(weight_of(t, n, "child") > 0);
    n = textbag_backoff("boulder", known, NULL, t, 8);
    CHECK(weight_of(t, n, "rock") > 0);
    /* synonyms before hypernyms, and weigh more: "leap" and "jump" share a synset */
    n = textbag_backoff("leap", known, NULL, t, 8);
    CHECK(weight_of(t, n, "jump") >= 0.85f);
    /* a verb: to sprint is to run */
    n = textbag_backoff("sprint", known, NULL, t, 8);
    CHECK(weight_of(t, n, "run") > 0);
    /* adjectives: scarlet is red */
    n = textbag_backoff("scarlet", known, NULL, t, 8);
    CHECK(weight_of(t, n, "red") > 0);
    /* derivations: a swimmer swims */
    n = textbag_backoff("swimmer", known, NULL, t, 8);
    CHECK(weight_of(t, n, "swim") > 0);
    /* only the nearest level: a kitten is an animal, and nothing else is named */
    n = textbag_backoff("kitten", known, NULL, t, 8);
    CHECK(n >= 1 && weight_of(t, n, "animal") > 0 && weight_of(t, n, "animal") < 0.8f);
    CHECK(weight_of(t, n, "dog") == 0);
    /* weights are sorted and within (0, 1) */
    for (int i = 0; i < n; i++) CHECK(t[i].weight > 0 && t[i].weight < 1);
    for (int i = 1; i < n; i++) CHECK(t[i].weight <= t[i - 1].weight);
    /* nonsense and the empty word find nothing */
    CHECK_EQ_INT(textbag_backoff("qzxv", known, NULL, t, 8), 0);
    CHECK_EQ_INT(textbag_backoff("", known, NULL, t, 8), 0);
    CHECK_EQ_INT(textbag_backoff("dog", known, NULL, t, 0), 0);
}

/* A one-layer model whose word vectors are one-hot: the text embedding of
 * a bag is then readable as weights per word. */
enum { F = 4 };
static const char *mwords[] = {"dog", "run", "beach", "snow", "child"};
#define NW 5

static joint_model *onehot_model(void)
{
    static float mean[F], scale[F] = {1, 1, 1, 1}, w[NW * F], b[NW], vecs[NW * NW];
    for (int i = 0; i < NW; i++) vecs[i * NW + i] = 1;
    for (int i = 0; i < NW * F; i++) w[i] = (float)(i % 3);
    joint_spec s = {
        .name = "onehot", .feature_kind = "features/1", .feature_dim = F, .dim = NW,
        .feat_mean = mean, .feat_scale = scale, .image_layers = 1, .image_sizes = {F, NW},
        .image_w = {w}, .image_b = {b}, .nwords = NW, .word_dim = NW, .words = mwords,
        .word_vecs = vecs, .f32 = 1,
    };
    char path[700];
    snprintf(path, sizeof path, "%s/onehot.safetensors", test_tmpdir("textbag"));
    ierr e = {0};
    if (joint_save(path, &s, &e) != 0) return NULL;
    return joint_open(path, &e);
}

TEST(textbag_embed_with_backoff)
{
    if (!wn_available()) SKIP("textbag_embed_with_backoff: WordNet (wordnet-base) not installed");
    joint_model *m = onehot_model();
    CHECK(m);
    float v[NW];
    int unk = -1;
    /* known words: equal parts */
    CHECK_EQ_INT(textbag_embed(m, "Dogs running on a beach", v, &unk), 3);
    CHECK_EQ_INT(unk, 0);
    CHECK_NEAR(v[0], 1 / sqrt(3), 1e-5);
    CHECK_NEAR(v[1], 1 / sqrt(3), 1e-5);
    CHECK_NEAR(v[2], 1 / sqrt(3), 1e-5);
    CHECK_NEAR(v[3], 0, 1e-6);
    /* "puppies" is not known: it backs off to dog; "qzxv" finds nothing */
    CHECK_EQ_INT(textbag_embed(m, "puppies in the snow qzxv", v, &unk), 2);
    CHECK_EQ_INT(unk, 1);
    CHECK(v[0] > 0.3f && v[3] > 0.3f);
    CHECK(v[3] > v[0]);            /* the word itself counts more than a stand-in */
    CHECK_NEAR(v[1], 0, 1e-6);
    /* nothing known at all: zeros */
    CHECK_EQ_INT(textbag_embed(m, "the of qzxv", v, &unk), 0);
    for (int i = 0; i < NW; i++) CHECK(v[i] == 0);
    joint_close(m);
}

int main(void)
{
    RUN(textbag_sentences);
    RUN(textbag_limits);
    RUN(textbag_backoff_wordnet);
    RUN(textbag_embed_with_backoff);
    return test_summary();
}
