/* test_query_parse.c — the query language: every construct parses to the
 * AST written out here by hand, and malformed input fails with the column. */
#include "test.h"

#include "query/query.h"

/* JSON of the parse with the empty top-level arrays left out, so each
 * expectation below only says what matters for it. */
static void compact(const char *json, char *out, size_t n)
{
    static const char *const empty[] = {",\"relations\":[]", ",\"text\":[]", ",\"filters\":[]", ",\"free\":[]",
                                        "\"phrases\":[],", NULL};
    snprintf(out, n, "%s", json);
    for (int i = 0; empty[i]; i++) {
        char *p;
        while ((p = strstr(out, empty[i]))) memmove(p, p + strlen(empty[i]), strlen(p + strlen(empty[i])) + 1);
    }
}

static int parses_to(const char *q, const char *want, char *got, size_t n)
{
    ierr e = {0};
    query *x = query_parse(q, &e);
    if (!x) {
        snprintf(got, n, "error: %s", e.msg);
        return 0;
    }
    char *j = query_to_json(x);
    compact(j, got, n);
    free(j);
    query_free(x);
    return !strcmp(got, want);
}

#define PARSE(q, want) do { char got_[4096]; \
    CHECKF(parses_to(q, want, got_, sizeof got_), "%s\n     got  %s\n     want %s", q, got_, want); } while (0)

static int fails_with(const char *q, const char *want, char *got, size_t n)
{
    ierr e = {0};
    query *x = query_parse(q, &e);
    if (x) {
        char *j = query_to_json(x);
        snprintf(got, n, "parsed: %s", j);
        free(j);
        query_free(x);
        return 0;
    }
    snprintf(got, n, "%s", e.msg);
    return strstr(e.msg, want) != NULL;
}

#define BAD(q, want) do { char got_[2048]; \
    CHECKF(fails_with(q, want, got_, sizeof got_), "%s: got \"%s\", want \"%s\"", q, got_, want); } while (0)

TEST(noun_phrases_with_counts)
{
    PARSE("a dog", "{\"phrases\":[{\"noun\":\"dog\",\"word\":\"dog\",\"count\":\"1+\"}]}");
    PARSE("two dogs", "{\"phrases\":[{\"noun\":\"dog\",\"word\":\"dogs\",\"count\":\"2\"}]}");
    PARSE("3 people", "{\"phrases\":[{\"noun\":\"person\",\"word\":\"people\",\"count\":\"3\"}]}");
    PARSE("many birds", "{\"phrases\":[{\"noun\":\"bird\",\"word\":\"birds\",\"count\":\"4+\"}]}");
    PARSE("horses", "{\"phrases\":[{\"noun\":\"horse\",\"word\":\"horses\",\"count\":\"2+\"}]}");
    PARSE("a few cats", "{\"phrases\":[{\"noun\":\"cat\",\"word\":\"cats\",\"count\":\"2-4\"}]}");
    PARSE("at least 5 sheep", "{\"phrases\":[{\"noun\":\"sheep\",\"word\":\"sheep\",\"count\":\"5+\"}]}");
    PARSE("a couple of children", "{\"phrases\":[{\"noun\":\"child\",\"word\":\"children\",\"count\":\"2\"}]}");
    PARSE("one mouse", "{\"phrases\":[{\"noun\":\"mouse\",\"word\":\"mouse\",\"count\":\"1\"}]}");
}

TEST(attributes)
{
    PARSE("a red car", "{\"phrases\":[{\"noun\":\"car\",\"word\":\"car\",\"count\":\"1+\",\"attrs\":[{\"colour\":\"red\"}]}]}");
    PARSE("a small white dog", "{\"phrases\":[{\"noun\":\"dog\",\"word\":\"dog\",\"count\":\"1+\",\"attrs\":"
                               "[{\"size\":\"small\"},{\"colour\":\"white\"}]}]}");
    PARSE("a man in a blue shirt", "{\"phrases\":[{\"noun\":\"man\",\"word\":\"man\",\"count\":\"1+\",\"attrs\":"
                                   "[{\"colour\":\"blue\",\"on\":\"shirt\"}]}]}");
    PARSE("a woman wearing a red hat", "{\"phrases\":[{\"noun\":\"woman\",\"word\":\"woman\",\"count\":\"1+\",\"attrs\":"
                                       "[{\"colour\":\"red\",\"on\":\"hat\"}]}]}");
    PARSE("a happy young woman", "{\"phrases\":[{\"noun\":\"woman\",\"word\":\"woman\",\"count\":\"1+\",\"attrs\":"
                                 "[{\"word\":\"happy\"},{\"word\":\"young\"}]}]}");
    PARSE("two gray cats", "{\"phrases\":[{\"noun\":\"cat\",\"word\":\"cats\",\"count\":\"2\",\"attrs\":[{\"colour\":\"grey\"}]}]}");
    /* a two-word object name stays one noun */
    PARSE("a red stop sign", "{\"phrases\":[{\"noun\":\"stop sign\",\"word\":\"stop sign\",\"count\":\"1+\",\"attrs\":"
                             "[{\"colour\":\"red\"}]}]}");
}

TEST(relations)
{
    const char *dog_bike = "{\"phrases\":[{\"noun\":\"dog\",\"word\":\"dog\",\"count\":\"1+\"},"
                           "{\"noun\":\"bicycle\",\"word\":\"bicycle\",\"count\":\"1+\"}],"
                           "\"relations\":[{\"a\":0,\"rel\":\"%s\",\"b\":1}]}";
    char want[512];
    snprintf(want, sizeof want, dog_bike, "left_of");
    PARSE("a dog to the left of a bicycle", want);
    PARSE("a dog left of a bicycle", want);
    snprintf(want, sizeof want, dog_bike, "right_of");
    PARSE("a dog on the right of a bicycle", want);
    snprintf(want, sizeof want, dog_bike, "behind");
    PARSE("a dog behind a bicycle", want);
    snprintf(want, sizeof want, dog_bike, "in_front");
    PARSE("a dog in front of a bicycle", want);
    snprintf(want, sizeof want, dog_bike, "next_to");
    PARSE("a dog next to a bicycle", want);
    PARSE("a cat on a sofa", "{\"phrases\":[{\"noun\":\"cat\",\"word\":\"cat\",\"count\":\"1+\"},"
                             "{\"noun\":\"sofa\",\"word\":\"sofa\",\"count\":\"1+\"}],"
                             "\"relations\":[{\"a\":0,\"rel\":\"on\",\"b\":1}]}");
    PARSE("a person next to a horse", "{\"phrases\":[{\"noun\":\"person\",\"word\":\"person\",\"count\":\"1+\"},"
                                      "{\"noun\":\"horse\",\"word\":\"horse\",\"count\":\"1+\"}],"
                                      "\"relations\":[{\"a\":0,\"rel\":\"next_to\",\"b\":1}]}");
    PARSE("a truck behind a bicycle", "{\"phrases\":[{\"noun\":\"truck\",\"word\":\"truck\",\"count\":\"1+\"},"
                                      "{\"noun\":\"bicycle\",\"word\":\"bicycle\",\"count\":\"1+\"}],"
                                      "\"relations\":[{\"a\":0,\"rel\":\"behind\",\"b\":1}]}");
    PARSE("a kite above people", "{\"phrases\":[{\"noun\":\"kite\",\"word\":\"kite\",\"count\":\"1+\"},"
                                 "{\"noun\":\"person\",\"word\":\"people\",\"count\":\"2+\"}],"
                                 "\"relations\":[{\"a\":0,\"rel\":\"above\",\"b\":1}]}");
    PARSE("a dog between a person and a horse",
          "{\"phrases\":[{\"noun\":\"dog\",\"word\":\"dog\",\"count\":\"1+\"},"
          "{\"noun\":\"person\",\"word\":\"person\",\"count\":\"1+\"},{\"noun\":\"horse\",\"word\":\"horse\",\"count\":\"1+\"}],"
          "\"relations\":[{\"a\":0,\"rel\":\"between\",\"b\":1,\"c\":2}]}");
    /* chains: each relation links to the phrase before it */
    PARSE("a cup on a table under a lamp",
          "{\"phrases\":[{\"noun\":\"cup\",\"word\":\"cup\",\"count\":\"1+\"},"
          "{\"noun\":\"table\",\"word\":\"table\",\"count\":\"1+\"},{\"noun\":\"lamp\",\"word\":\"lamp\",\"count\":\"1+\"}],"
          "\"relations\":[{\"a\":0,\"rel\":\"on\",\"b\":1},{\"a\":1,\"rel\":\"below\",\"b\":2}]}");
    /* verbs between phrases: the verb is free text, the preposition the relation */
    PARSE("a dog running on the grass", "{\"phrases\":[{\"noun\":\"dog\",\"word\":\"dog\",\"count\":\"1+\"},"
                                        "{\"noun\":\"grass\",\"word\":\"grass\",\"count\":\"1+\"}],"
                                        "\"relations\":[{\"a\":0,\"rel\":\"on\",\"b\":1}],\"free\":[\"running\"]}");
}

TEST(global_positions)
{
    PARSE("a car in the top right", "{\"phrases\":[{\"noun\":\"car\",\"word\":\"car\",\"count\":\"1+\",\"position\":\"top right\"}]}");
    PARSE("a person in the centre", "{\"phrases\":[{\"noun\":\"person\",\"word\":\"person\",\"count\":\"1+\",\"position\":\"centre\"}]}");
    PARSE("a person in the center", "{\"phrases\":[{\"noun\":\"person\",\"word\":\"person\",\"count\":\"1+\",\"position\":\"centre\"}]}");
    PARSE("a boat at the bottom left corner", "{\"phrases\":[{\"noun\":\"boat\",\"word\":\"boat\",\"count\":\"1+\",\"position\":\"bottom left\"}]}");
    PARSE("a tree on the left", "{\"phrases\":[{\"noun\":\"tree\",\"word\":\"tree\",\"count\":\"1+\",\"position\":\"left\"}]}");
    PARSE("a car in the top-right", "{\"phrases\":[{\"noun\":\"car\",\"word\":\"car\",\"count\":\"1+\",\"position\":\"top right\"}]}");
}

TEST(negation)
{
    PARSE("horses without people", "{\"phrases\":[{\"noun\":\"horse\",\"word\":\"horses\",\"count\":\"2+\"},"
                                   "{\"noun\":\"person\",\"word\":\"people\",\"count\":\"0\",\"negated\":true}]}");
    PARSE("no cars", "{\"phrases\":[{\"noun\":\"car\",\"word\":\"cars\",\"count\":\"0\",\"negated\":true}]}");
    PARSE("-car", "{\"phrases\":[{\"noun\":\"car\",\"word\":\"car\",\"count\":\"0\",\"negated\":true}]}");
    PARSE("beach -people", "{\"phrases\":[{\"noun\":\"beach\",\"word\":\"beach\",\"count\":\"1+\"},"
                           "{\"noun\":\"person\",\"word\":\"people\",\"count\":\"0\",\"negated\":true}]}");
    PARSE("a dog without cats or birds", "{\"phrases\":[{\"noun\":\"dog\",\"word\":\"dog\",\"count\":\"1+\"},"
                                         "{\"noun\":\"cat\",\"word\":\"cats\",\"count\":\"0\",\"negated\":true},"
                                         "{\"noun\":\"bird\",\"word\":\"birds\",\"count\":\"0\",\"negated\":true}]}");
    PARSE("-\"sale\"", "{\"text\":[{\"text\":\"sale\",\"negated\":true}]}");
    /* a hyphen inside a word is not an exclusion */
    PARSE("a t-shirt", "{\"phrases\":[{\"noun\":\"t-shirt\",\"word\":\"t-shirt\",\"count\":\"1+\"}]}");
}

TEST(quoted_text)
{
    PARSE("\"STOP\"", "{\"text\":[{\"text\":\"stop\"}]}");
    PARSE("text:\"open 24 hours\"", "{\"text\":[{\"text\":\"open 24 hours\"}]}");
    PARSE("text:exit", "{\"text\":[{\"text\":\"exit\"}]}");
    PARSE("a sign saying \xE2\x80\x9CNo Parking\xE2\x80\x9D",
          "{\"phrases\":[{\"noun\":\"sign\",\"word\":\"sign\",\"count\":\"1+\"}],\"text\":[{\"text\":\"no parking\"}],"
          "\"free\":[\"saying\"]}");
}

TEST(metadata_filters)
{
    PARSE("date:2013", "{\"filters\":[{\"key\":\"date\",\"op\":\":\",\"value\":\"2013\"}]}");
    PARSE("after:2020-01-01 before:2021-06", "{\"filters\":[{\"key\":\"after\",\"op\":\":\",\"value\":\"2020-01-01\"},"
                                             "{\"key\":\"before\",\"op\":\":\",\"value\":\"2021-06\"}]}");
    PARSE("camera:canon path:holidays", "{\"filters\":[{\"key\":\"camera\",\"op\":\":\",\"value\":\"canon\"},"
                                        "{\"key\":\"path\",\"op\":\":\",\"value\":\"holidays\"}]}");
    PARSE("width>1000", "{\"filters\":[{\"key\":\"width\",\"op\":\">\",\"value\":\"1000\"}]}");
    PARSE("height <= 480", "{\"filters\":[{\"key\":\"height\",\"op\":\"<=\",\"value\":\"480\"}]}");
    PARSE("a dog date:2013 width>1000",
          "{\"phrases\":[{\"noun\":\"dog\",\"word\":\"dog\",\"count\":\"1+\"}],"
          "\"filters\":[{\"key\":\"date\",\"op\":\":\",\"value\":\"2013\"},{\"key\":\"width\",\"op\":\">\",\"value\":\"1000\"}]}");
}

TEST(free_text)
{
    PARSE("sunset", "{\"phrases\":[{\"noun\":\"sunset\",\"word\":\"sunset\",\"count\":\"1+\"}]}");
    PARSE("red", "{\"free\":[\"red\"]}");
    PARSE("the dog is jumping", "{\"phrases\":[{\"noun\":\"dog\",\"word\":\"dog\",\"count\":\"1+\"}],\"free\":[\"jumping\"]}");
    PARSE("A RED Car!", "{\"phrases\":[{\"noun\":\"car\",\"word\":\"car\",\"count\":\"1+\",\"attrs\":[{\"colour\":\"red\"}]}]}");
}

/* Caption English: a verb after the subject ends its noun phrase (it is not
 * the head noun with the subject as a modifier), and adverbs such as
 * "through" are not things. */
TEST(caption_verbs)
{
    PARSE("A dog runs through the grass",
          "{\"phrases\":[{\"noun\":\"dog\",\"word\":\"dog\",\"count\":\"1+\"},"
          "{\"noun\":\"grass\",\"word\":\"grass\",\"count\":\"1+\"}],\"free\":[\"runs\"]}");
    PARSE("Two children play in the snow",
          "{\"phrases\":[{\"noun\":\"child\",\"word\":\"children\",\"count\":\"2\"},"
          "{\"noun\":\"snow\",\"word\":\"snow\",\"count\":\"1+\"}],"
          "\"relations\":[{\"a\":0,\"rel\":\"inside\",\"b\":1}],\"free\":[\"play\"]}");
    PARSE("a man carries a baby",
          "{\"phrases\":[{\"noun\":\"man\",\"word\":\"man\",\"count\":\"1+\"},"
          "{\"noun\":\"baby\",\"word\":\"baby\",\"count\":\"1+\"}],\"free\":[\"carries\"]}");
    /* a verb-like word standing alone after a determiner is still a noun */
    PARSE("the tree that she sits on .", "{\"phrases\":[{\"noun\":\"tree\",\"word\":\"tree\",\"count\":\"1+\"},"
          "{\"noun\":\"she\",\"word\":\"she\",\"count\":\"1+\"}]}");
    PARSE("a walk", "{\"phrases\":[{\"noun\":\"walk\",\"word\":\"walk\",\"count\":\"1+\"}]}");
}

TEST(malformed_input_names_the_column)
{
    BAD("stop \"sign", "unterminated quote at column 6");
    BAD("\"", "unterminated quote at column 1");
    BAD("width>", "width> needs a number at column 7");
    BAD("width>abc", "width> needs a number at column 7");
    BAD("a red", "expected a noun after 'red' at column 6");
    BAD("two", "expected a noun after 'two' at column 4");
    BAD("a dog to the left of", "expected something after 'to the left of' at column 21");
    BAD("a cat next to", "expected something after 'next to' at column 14");
    /* but a sentence may end with a verb and its preposition (a Flickr8k caption) */
    PARSE("a girl sits on .", "{\"phrases\":[{\"noun\":\"girl\",\"word\":\"girl\",\"count\":\"1+\"}]}");
    BAD("a dog between a cat", "'between' needs two things");
    BAD("no", "expected something after 'no' at column 3");
    BAD("dogs -", "'-' needs a word right after it at column 6");
    BAD("after:yesterday", "after: needs a date like 2013, 2013-05 or 2013-05-20 at column 7");
    BAD("date:", "date: needs a date");
    BAD("colour:red", "unknown filter 'colour:' at column 1");
    BAD("", "empty query");
    BAD("   the  ", "expected a noun after 'the' at column 7");
    BAD("\"\"", "empty quotes at column 1");
}

TEST(never_crashes_on_odd_bytes)
{
    /* odd but legal: must parse or fail cleanly, never crash */
    const char *odd[] = {"\xff\xfe dog", "a \xc3\xa9l\xc3\xa9phant", "((((", "a,b;c.d", "- -", "--car",
                         "a dog between", "between and", "width>>5", "text:", "99999999999 dogs",
                         "a a a a a a a a a a a a", NULL};
    for (int i = 0; odd[i]; i++) {
        ierr e = {0};
        query *q = query_parse(odd[i], &e);
        if (q) {
            char *j = query_to_json(q);
            CHECK(j && j[0] == '{');
            free(j);
            query_free(q);
        } else {
            CHECKF(e.msg[0], "no message for %s", odd[i]);
        }
    }
}

int main(void)
{
    RUN(noun_phrases_with_counts);
    RUN(attributes);
    RUN(relations);
    RUN(global_positions);
    RUN(negation);
    RUN(quoted_text);
    RUN(metadata_filters);
    RUN(free_text);
    RUN(caption_verbs);
    RUN(malformed_input_names_the_column);
    RUN(never_crashes_on_odd_bytes);
    return test_summary();
}
