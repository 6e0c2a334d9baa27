/* test_blip_tokenizer.c — the WordPiece tokenizer against the independent
 * Python reference (tests/blip_ref.py, BERT's rules over Python's
 * unicodedata) on generated vocabularies: hostile and multilingual texts,
 * and every Flickr8k train caption with a vocabulary learnt from them. */
#include "test.h"

#include "clip_test_util.h"
#include "models/text/wordpiece.h"

static const char *tmp;

/* Tokenize every line of texts_path with both; count mismatching lines. */
static int compare_file(const char *vocab_path, const char *texts_path, int *lines, char *first_bad, size_t fbn)
{
    char out[1100], args[4096];
    snprintf(out, sizeof out, "%s/ref.ids", tmp);
    snprintf(args, sizeof args, CLIP_PY " '%s/tests/blip_ref.py' tokenize '%s' < '%s' > '%s'", test_srcdir(),
             vocab_path, texts_path, out);
    if (system(args) != 0) return -1;
    ierr e = {0};
    wp_vocab *v = wp_load(vocab_path, &e);
    if (!v) return -1;
    FILE *ft = fopen(texts_path, "r"), *fr = fopen(out, "r");
    if (!ft || !fr) {
        if (ft) fclose(ft);
        if (fr) fclose(fr);
        wp_free(v);
        return -1;
    }
    char *t = NULL, *r = NULL;
    size_t tc = 0, rc = 0;
    ssize_t tn;
    int bad = 0;
    *lines = 0;
    first_bad[0] = 0;
    while ((tn = getline(&t, &tc, ft)) >= 0) {
        if (tn > 0 && t[tn - 1] == '\n') t[--tn] = 0;
        ssize_t rn = getline(&r, &rc, fr);
        if (rn < 0) {
            bad++;
            break;
        }
        if (rn > 0 && r[rn - 1] == '\n') r[--rn] = 0;
        int n = wp_encode(v, t, NULL, 0);
        int *ids = xmalloc((size_t)(n + 1) * sizeof *ids);
        if (wp_encode(v, t, ids, n) != n) bad++;
        char *mine = xmalloc((size_t)n * 12 + 1);
        size_t ml = 0;
        mine[0] = 0;
        for (int i = 0; i < n; i++) ml += (size_t)sprintf(mine + ml, i ? " %d" : "%d", ids[i]);
        if (strcmp(mine, r)) {
            if (!bad++) snprintf(first_bad, fbn, "\"%s\": C [%s], reference [%s]", t, mine, r);
        }
        free(mine);
        free(ids);
        (*lines)++;
    }
    free(t);
    free(r);
    fclose(ft);
    fclose(fr);
    wp_free(v);
    return bad;
}

static const char *hostile[] = {
    "A man in a red shirt is climbing a rock wall , and another man is holding the rope .",
    "Café naïve résumé ÅNGSTRÖM Straße façade",
    "don't won't U.S.A. e-mail (parenthesis) [brackets] {braces} \"quotes\" 'single'",
    "我爱北京天安门 mixed中文text",
    "한국어 텍스트 Ελληνικά κείμενο русский текст",
    "tabs\tand\rreturns\x01control\x7f\x0b\x1c chars",
    "line\xe2\x80\xa8separator paragraph\xe2\x80\xa9separator next\xc2\x85line",
    "zero\xe2\x80\x8bwidth non\xc2\xa0" "breaking\xe2\x80\x83" "em-space",
    "emoji 🐶🐱 and ★ symbols ™ © ½ ² ﬁ ligature",
    "invalid \xff\xfe bytes \xe2\x82 truncated \xc3",
    "supercalifragilisticexpialidocioussupercalifragilisticexpialidocioussupercalifragilisticexpialidocioussupercalifragilistic",
    "  leading and trailing spaces   ",
    "",
    "!!!???...,,,;;;",
    "UPPER lower MiXeD 123 4.5 6,7",
    "İstanbul ǅemal Ǆ ß ẞ ﬀ",
    "combining e\xcc\x81 and a\xcc\x8a marks \xcc\x81 alone",
    "the dogs are running on the grass near the water",
};
#define NHOSTILE (int)(sizeof hostile / sizeof hostile[0])

static void hostile_with(const char *vocab_path)
{
    char texts[1100], bad[4096];
    snprintf(texts, sizeof texts, "%s/hostile.txt", tmp);
    FILE *f = fopen(texts, "w");
    CHECK(f);
    for (int i = 0; i < NHOSTILE; i++) fprintf(f, "%s\n", hostile[i]);
    fclose(f);
    int lines, n = compare_file(vocab_path, texts, &lines, bad, sizeof bad);
    CHECKF(n >= 0, "the reference did not run");
    CHECK_EQ_INT(lines, NHOSTILE);
    CHECKF(n == 0, "%d of %d texts differ; first %s", n, lines, bad);
}

TEST(hostile_texts_random_vocab)
{
    if (!clip_have_torch()) SKIP("/usr/bin/python3 with numpy is needed for the reference");
    char cmd[2048], vocab[1100];
    snprintf(cmd, sizeof cmd, CLIP_PY " '%s/tests/blip_ref.py' gen '%s/rand' --words 800 --seed 5 >/dev/null",
             test_srcdir(), tmp);
    CHECK(system(cmd) == 0);
    snprintf(vocab, sizeof vocab, "%s/rand/vocab.txt", tmp);
    hostile_with(vocab);
}

TEST(hostile_texts_learnt_vocab)
{
    if (!clip_have_torch()) SKIP("/usr/bin/python3 with numpy is needed for the reference");
    char texts[1100], vocab[1100], cmd[4096];
    snprintf(texts, sizeof texts, "%s/learn.txt", tmp);
    FILE *f = fopen(texts, "w");
    CHECK(f);
    for (int r = 0; r < 20; r++)
        for (int i = 0; i < NHOSTILE; i++) fprintf(f, "%s\n", hostile[i]);
    fclose(f);
    snprintf(vocab, sizeof vocab, "%s/learnt.txt", tmp);
    snprintf(cmd, sizeof cmd, CLIP_PY " '%s/tests/blip_ref.py' vocab '%s' --texts '%s' --size 400", test_srcdir(),
             vocab, texts);
    CHECK(system(cmd) == 0);
    hostile_with(vocab);
}

/* Every Flickr8k train caption, with a vocabulary learnt from them. */
TEST(flickr8k_train_captions)
{
    if (!clip_have_torch()) SKIP("/usr/bin/python3 with numpy is needed for the reference");
    char caps[1100], train[1100];
    snprintf(caps, sizeof caps, "%s/flickr8k/captions.tsv", test_datadir());
    snprintf(train, sizeof train, "%s/flickr8k/train.txt", test_datadir());
    FILE *fc = fopen(caps, "r"), *ft = fopen(train, "r");
    if (!fc || !ft) {
        if (fc) fclose(fc);
        if (ft) fclose(ft);
        SKIP("%s or %s is missing: the Flickr8k captions were not compared", caps, train);
    }
    /* The train image names, then their captions. */
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    char **names = NULL;
    int nn = 0, cn = 0;
    while ((n = getline(&line, &cap, ft)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        names = xrealloc(names, (size_t)(nn + 1) * sizeof *names);
        names[nn++] = xstrdup(line);
    }
    fclose(ft);
    char texts[1100];
    snprintf(texts, sizeof texts, "%s/train_captions.txt", tmp);
    FILE *out = fopen(texts, "w");
    CHECK(out);
    while ((n = getline(&line, &cap, fc)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = 0;
        int hit = 0;
        for (int i = 0; i < nn && !hit; i++) hit = !strcmp(names[i], line);
        if (hit) {
            fprintf(out, "%s\n", tab + 1);
            cn++;
        }
    }
    fclose(out);
    fclose(fc);
    free(line);
    for (int i = 0; i < nn; i++) free(names[i]);
    free(names);
    CHECKF(cn >= 5 * nn - 10 && cn > 0, "%d captions for %d train images", cn, nn);
    char vocab[1100], cmd[4096], bad[4096];
    snprintf(vocab, sizeof vocab, "%s/flickr_vocab.txt", tmp);
    snprintf(cmd, sizeof cmd, CLIP_PY " '%s/tests/blip_ref.py' vocab '%s' --texts '%s' --size 3000", test_srcdir(),
             vocab, texts);
    CHECK(system(cmd) == 0);
    int lines, nbad = compare_file(vocab, texts, &lines, bad, sizeof bad);
    CHECKF(nbad >= 0, "the reference did not run");
    CHECK_EQ_INT(lines, cn);
    CHECKF(nbad == 0, "%d of %d captions differ; first %s", nbad, lines, bad);
    printf("  %d train captions tokenized identically\n", lines);
}

/* Decoding as BERT does: specials skipped, pieces glued, punctuation attached. */
TEST(decode_glues_pieces)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/tiny.txt", tmp);
    FILE *f = fopen(path, "w");
    CHECK(f);
    fprintf(f, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\ndog\n##s\nrun\n.\n,\n'\ns\ndon\nt\n##ning\n");
    fclose(f);
    ierr e = {0};
    wp_vocab *v = wp_load(path, &e);
    CHECKF(v, "%s", e.msg);
    CHECK_EQ_INT(wp_id(v, "##s"), 7);
    int ids[16];
    int n = wp_encode(v, "Dogs running, a dog.", ids, 16);
    int want[] = {6, 7, 8, 15, 10, 5, 6, 9};
    CHECK_EQ_INT(n, 8);
    for (int i = 0; i < n; i++) CHECK_EQ_INT(ids[i], want[i]);
    int seq[] = {2, 5, 6, 7, 8, 15, 10, 6, 9, 3, 0, 99};
    char *s = wp_decode(v, seq, 12);
    CHECK_STR(s, "a dogs running, dog.");
    free(s);
    /* A word no piece covers is one [UNK]; only max ids are stored. */
    CHECK_EQ_INT(wp_encode(v, "dogz a", ids, 1), 2);
    CHECK_EQ_INT(ids[0], 1);
    wp_free(v);
    e = (ierr){0};
    snprintf(path, sizeof path, "%s/nounk.txt", tmp);
    f = fopen(path, "w");
    CHECK(f);
    fprintf(f, "a\nb\n");
    fclose(f);
    CHECK(!wp_load(path, &e));
    CHECK(strstr(e.msg, "nounk.txt") && strstr(e.msg, "[UNK]"));
}

int main(void)
{
    tmp = test_tmpdir("blip-tok");
    RUN(decode_glues_pieces);
    RUN(hostile_texts_random_vocab);
    RUN(hostile_texts_learnt_vocab);
    RUN(flickr8k_train_captions);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd)) {}
    return test_summary();
}
