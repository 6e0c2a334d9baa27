/* test_wordnet.c — synonyms, hypernyms and hyponyms from WordNet: the
 * examples of issue 6 ("puppy" finds dogs, "animal" finds dogs, cats,
 * horses, birds; "vehicle" finds cars, trucks, buses) and the weighting
 * order exact > synonym > hypernym match. */
#include "test.h"

#include "index/tokens.h"
#include "index/wordnet.h"
#include "models/models.h"

static float weight_of(const term_match *m, int n, const char *w)
{
    for (int i = 0; i < n; i++) if (!strcmp(m[i].word, w)) return m[i].weight;
    return 0;
}

#define NEED_WN() do { if (!wn_available()) SKIP("WordNet (wordnet-base) not installed"); } while (0)

TEST(is_a_basic)
{
    NEED_WN();
    CHECK(term_is_a("dog", "dog") == 1.0f);
    CHECK(term_is_a("dog", "animal") > 0.3f);
    CHECK(term_is_a("cat", "animal") > 0.3f);
    CHECK(term_is_a("horse", "animal") > 0.3f);
    CHECK(term_is_a("bird", "animal") > 0.3f);
    CHECK(term_is_a("car", "vehicle") > 0.3f);
    CHECK(term_is_a("truck", "vehicle") > 0.3f);
    CHECK(term_is_a("bus", "vehicle") > 0.3f);
    CHECK(term_is_a("bicycle", "vehicle") > 0.3f);
    CHECK(term_is_a("dog", "vehicle") == 0);
    CHECK(term_is_a("car", "animal") == 0);
    CHECK(term_is_a("animal", "dog") == 0);     /* not the other way round */
    CHECK(term_is_a("car", "motor vehicle") > term_is_a("car", "vehicle"));
    CHECK(term_is_a("", "dog") == 0);
    CHECK(term_is_a("zzqx", "dog") == 0);
}

TEST(is_a_senses)
{
    NEED_WN();
    /* the COCO mouse is the computer mouse, not the rodent */
    CHECK(term_is_a("mouse", "device") > 0.3f);
    CHECK(term_is_a("mouse", "rodent") == 0);
    /* the COCO kite is the toy, not the hawk */
    CHECK(term_is_a("kite", "bird") == 0);
    CHECK(term_is_a("orange", "fruit") > 0.3f);
    CHECK(term_is_a("person", "organism") > 0.3f);
    CHECK(term_is_a("man", "person") > 0.3f);
    CHECK(term_is_a("couch", "furniture") > 0.3f);
}

TEST(expand_synonyms)
{
    NEED_WN();
    term_match m[64];
    int n = term_expand("automobile", m, 64);
    CHECK(n > 0);
    CHECK_STR(m[0].word, "automobile");
    CHECK(m[0].weight == 1.0f);
    CHECKF(weight_of(m, n, "car") >= 0.85f, "automobile -> car %.2f", weight_of(m, n, "car"));
    n = term_expand("sofa", m, 64);
    CHECK(weight_of(m, n, "couch") >= 0.85f);
    n = term_expand("bike", m, 64);
    CHECK(weight_of(m, n, "bicycle") >= 0.85f);
}

TEST(expand_puppy_finds_dogs)
{
    NEED_WN();
    term_match m[64];
    int n = term_expand("puppy", m, 64);
    float d = weight_of(m, n, "dog");
    CHECKF(d > 0.3f && d < 0.9f, "puppy -> dog %.2f", d);
    CHECK(weight_of(m, n, "cat") == 0);
}

TEST(expand_animal)
{
    NEED_WN();
    term_match m[128];
    int n = term_expand("animal", m, 128);
    const char *want[] = {"dog", "cat", "horse", "bird", "sheep", "cow", "elephant", "bear", "zebra", "giraffe"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        CHECKF(weight_of(m, n, want[i]) > 0.3f, "animal should find %s", want[i]);
    CHECK(weight_of(m, n, "car") == 0);
    CHECK(weight_of(m, n, "mouse") == 0);        /* the computer mouse */
    CHECK(weight_of(m, n, "animal") == 1.0f);
    for (int i = 0; i < n; i++) CHECK(m[i].weight <= 1.0f && m[i].weight > 0);
    for (int i = 1; i < n; i++) CHECK(m[i - 1].weight >= m[i].weight);   /* sorted */
}

TEST(expand_vehicle)
{
    NEED_WN();
    term_match m[128];
    int n = term_expand("vehicle", m, 128);
    const char *want[] = {"car", "truck", "bus", "bicycle", "motorcycle", "train", "boat", "airplane"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        CHECKF(weight_of(m, n, want[i]) > 0.3f, "vehicle should find %s", want[i]);
    CHECK(weight_of(m, n, "dog") == 0);
}

TEST(weights_order)
{
    NEED_WN();
    term_match m[128];
    int n = term_expand("car", m, 128);
    float exact = weight_of(m, n, "car"), syn = weight_of(m, n, "automobile");
    CHECK(exact == 1.0f);
    CHECKF(syn > 0 && syn < exact, "synonym %.2f", syn);
    n = term_expand("vehicle", m, 128);
    float hyp = weight_of(m, n, "car");
    CHECKF(hyp > 0 && hyp < syn, "hyponym %.2f vs synonym %.2f", hyp, syn);
}

TEST(expand_bounds)
{
    term_match m[3];
    int n = term_expand("animal", m, 3);
    CHECK(n >= 1 && n <= 3);
    CHECK_STR(m[0].word, "animal");
    CHECK_EQ_INT(term_expand("", m, 3), 0);
    CHECK_EQ_INT(term_expand("dog", m, 0), 0);
    n = term_expand("qqqzz", m, 3);
    CHECK_EQ_INT(n, 1);
}

TEST(label_terms)
{
    NEED_WN();
    wn_term t[WN_LABEL_MAX];
    int n = wn_label_terms("dog", t, WN_LABEL_MAX);
    int canine = 0, animal = 0;
    for (int i = 0; i < n; i++) {
        if (!strcmp(t[i].word, "canine")) canine = 1;
        if (!strcmp(t[i].word, "animal")) animal = 1;
        CHECK(strcmp(t[i].word, "entity") != 0);
    }
    CHECK(canine && animal);
    n = wn_label_terms("mouse", t, WN_LABEL_MAX);
    for (int i = 0; i < n; i++) CHECK(strcmp(t[i].word, "rodent") != 0);
}

TEST(lookup_speed)
{
    NEED_WN();
    double t0 = now_seconds();
    term_match m[128];
    term_expand("animal", m, 128);
    double first = now_seconds() - t0;
    t0 = now_seconds();
    for (int i = 0; i < 20; i++) term_expand("vehicle", m, 128);
    double each = (now_seconds() - t0) / 20;
    printf("term_expand: first %.2f ms, then %.2f ms each\n", first * 1e3, each * 1e3);
    CHECKF(first < 0.5, "first expansion took %.0f ms", first * 1e3);
    CHECKF(each < 0.05, "expansion took %.1f ms", each * 1e3);
}

/* Every COCO label the detector emits has a WordNet sense, in the same
 * order as the vision module's table, and the sense is the photo one. */
TEST(coco_senses)
{
    NEED_WN();
    const char *const *v = wn_vocabulary();
    for (int i = 0; i < 80; i++) {
        CHECKF(v[i] && coco_label(i) && !strcmp(v[i], coco_label(i)), "vocabulary %d: %s vs coco %s", i,
               v[i] ? v[i] : "(null)", coco_label(i) ? coco_label(i) : "(null)");
        CHECKF(wn_vocab_sense(v[i]) != 0, "no WordNet sense for COCO label %s", v[i]);
    }
    struct { const char *label, *kind; } want[] = {
        {"hot dog", "food"}, {"tv", "equipment"}, {"remote", "device"}, {"keyboard", "device"},
        {"tie", "clothing"}, {"orange", "fruit"}, {"banana", "fruit"}, {"broccoli", "vegetable"},
        {"donut", "food"}, {"cake", "food"}, {"bench", "seat"}, {"couch", "seat"}, {"bed", "furniture"},
        {"teddy bear", "toy"}, {"kite", "toy"}, {"cell phone", "telephone"}, {"laptop", "computer"},
        {"bird", "animal"}, {"bear", "animal"}, {"cow", "animal"}, {"sheep", "animal"},
        {"airplane", "aircraft"}, {"boat", "vessel"}, {"motorcycle", "motor vehicle"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECKF(term_is_a(want[i].label, want[i].kind) > 0.3f, "%s should be a %s", want[i].label, want[i].kind);
    struct { const char *label, *kind; } not[] = {
        {"hot dog", "dog"}, {"hot dog", "animal"}, {"mouse", "animal"}, {"kite", "animal"},
        {"tie", "equality"}, {"orange", "colour"}, {"bear", "investor"},
    };
    for (size_t i = 0; i < sizeof not / sizeof not[0]; i++) {
        CHECKF(term_is_a(not[i].label, not[i].kind) == 0, "%s is not a %s", not[i].label, not[i].kind);
    }
}

static char cache_file[600];

/* The vocabulary cache: a damaged file was ignored (the tests above passed
 * with it in place) and replaced by a good one. */
TEST(cache_replaced)
{
    NEED_WN();
    FILE *f = fopen(cache_file, "rb");
    CHECKF(f != NULL, "no cache written at %s", cache_file);
    char magic[9] = "";
    size_t n = fread(magic, 1, 8, f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    CHECK(n == 8 && !strncmp(magic, "IMGDEXW1", 8));
    CHECK(size > 1000);
}

int main(void)
{
    /* a damaged cache file where the vocabulary cache lives */
    const char *dir = test_tmpdir("wordnet");
    setenv("IMGDEX_CACHE_DIR", dir, 1);
    snprintf(cache_file, sizeof cache_file, "%s/wordnet-vocab.bin", dir);
    FILE *f = fopen(cache_file, "wb");
    if (f) { fputs("IMGDEXW1 but then garbage", f); fclose(f); }

    RUN(is_a_basic);
    RUN(is_a_senses);
    RUN(expand_synonyms);
    RUN(expand_puppy_finds_dogs);
    RUN(expand_animal);
    RUN(expand_vehicle);
    RUN(weights_order);
    RUN(expand_bounds);
    RUN(label_terms);
    RUN(lookup_speed);
    RUN(coco_senses);
    RUN(cache_replaced);
    return test_summary();
}
