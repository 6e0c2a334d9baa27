/* test_tokens_lemma.c — lemmas (regular and irregular), stopwords and the
 * FTS5 query builder.  Expected lemmas are English grammar, not output of
 * the code. */
#include "test.h"

#include "index/tokens.h"
#include "index/wordnet.h"

static int have_wordnet(void) { return wn_available(); }

static const char *L(const char *w)
{
    static char buf[8][64];
    static int k;
    k = (k + 1) % 8;
    return lemma(w, buf[k], sizeof buf[k]);
}

TEST(lemma_regular_plurals)
{
    CHECK_STR(L("dogs"), "dog");
    CHECK_STR(L("cats"), "cat");
    CHECK_STR(L("horses"), "horse");
    CHECK_STR(L("buses"), "bus");
    CHECK_STR(L("boxes"), "box");
    CHECK_STR(L("benches"), "bench");
    CHECK_STR(L("ponies"), "pony");
    CHECK_STR(L("Bicycles"), "bicycle");
    CHECK_STR(L("dog"), "dog");
}

TEST(lemma_irregular)
{
    if (!have_wordnet()) SKIP("lemma_irregular: WordNet (wordnet-base) not installed");
    CHECK_STR(L("mice"), "mouse");
    CHECK_STR(L("men"), "man");
    CHECK_STR(L("women"), "woman");
    CHECK_STR(L("children"), "child");
    CHECK_STR(L("feet"), "foot");
    CHECK_STR(L("geese"), "goose");
    CHECK_STR(L("ran"), "run");
    CHECK_STR(L("people"), "person");
    CHECK_STR(L("knives"), "knife");
}

TEST(lemma_verbs)
{
    if (!have_wordnet()) SKIP("lemma_verbs: WordNet (wordnet-base) not installed");
    CHECK_STR(L("running"), "run");
    CHECK_STR(L("jumps"), "jump");
    CHECK_STR(L("jumped"), "jump");
    CHECK_STR(L("riding"), "ride");
    CHECK_STR(L("sitting"), "sit");
    CHECK_STR(L("skiing"), "ski");
    CHECK_STR(L("plays"), "play");
    CHECK_STR(L("climbing"), "climb");
    CHECK_STR(L("swimming"), "swim");
}

TEST(lemma_keeps_nouns)
{
    if (!have_wordnet()) SKIP("lemma_keeps_nouns: WordNet (wordnet-base) not installed");
    /* words that look inflected but are nouns in photos */
    CHECK_STR(L("building"), "building");
    CHECK_STR(L("glasses"), "glasses");
    CHECK_STR(L("bed"), "bed");
    CHECK_STR(L("red"), "red");
    CHECK_STR(L("grass"), "grass");
    CHECK_STR(L("bus"), "bus");
    CHECK_STR(L("scissors"), "scissors");
    CHECK_STR(L("skis"), "ski");
}

TEST(lemma_odd_input)
{
    char out[8];
    CHECK_STR(lemma("", out, sizeof out), "");
    CHECK_STR(lemma("2013", out, sizeof out), "2013");
    CHECK_STR(lemma("a", out, sizeof out), "a");
    /* truncates, never overflows */
    lemma("extraordinarily", out, sizeof out);
    CHECK(strlen(out) < sizeof out);
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    char o2[128];
    lemma(big, o2, sizeof o2);
    CHECK(strlen(o2) < sizeof o2);
}

TEST(stopwords)
{
    CHECK(token_is_stopword("the"));
    CHECK(token_is_stopword("of"));
    CHECK(!token_is_stopword("dog"));
    CHECK(!token_is_stopword("red"));
}

TEST(fts_query_builder)
{
    char q[256];
    CHECK_EQ_INT(tokens_fts_query("The dogs and the horses", 1, q, sizeof q), 2);
    CHECK_STR(q, "\"dog\" OR \"horse\"");
    CHECK_EQ_INT(tokens_fts_query("dogs", 0, q, sizeof q), 1);
    CHECK_STR(q, "\"dog\"");
    CHECK_EQ_INT(tokens_fts_query("the of a", 1, q, sizeof q), 0);
    CHECK_STR(q, "");
    CHECK_EQ_INT(tokens_fts_query("red car", 0, q, sizeof q), 2);
    CHECK_STR(q, "\"red\" AND \"car\"");
    /* FTS5 syntax characters in the input cannot break the expression */
    CHECK(tokens_fts_query("dog\" OR * NEAR(", 1, q, sizeof q) >= 1);
    CHECK(strchr(q, '*') == NULL && strchr(q, '(') == NULL);
    /* a too small buffer gives a truncated but valid expression */
    char s[12];
    tokens_fts_query("dogs horses cats birds", 1, s, sizeof s);
    CHECK_STR(s, "\"dog\"");
}

int main(void)
{
    RUN(lemma_regular_plurals);
    RUN(lemma_irregular);
    RUN(lemma_verbs);
    RUN(lemma_keeps_nouns);
    RUN(lemma_odd_input);
    RUN(stopwords);
    RUN(fts_query_builder);
    return test_summary();
}
