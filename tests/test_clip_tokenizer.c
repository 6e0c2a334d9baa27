/* test_clip_tokenizer.c — CLIP's BPE tokenizer: the published examples,
 * identical ids to the independent Python tokenizer (tests/clip_ref.py) on
 * 1000 Flickr8k captions, the three vocabulary file layouts, cleaning,
 * truncation and bad files. */
#include "test.h"

#include "clip_test_util.h"
#include "models/text/bpe.h"
#include "models/text/bpe_text.h"

static const char *tmp;
static bpe_vocab *openai;

static int ids_are(bpe_vocab *v, const char *text, const int *want, int n)
{
    int ids[CLIP_CONTEXT];
    int got = bpe_tokenize(v, text, ids, CLIP_CONTEXT);
    if (got != n) return 0;
    for (int i = 0; i < n; i++)
        if (ids[i] != want[i]) return 0;
    for (int i = n; i < CLIP_CONTEXT; i++)
        if (ids[i] != 0) return 0;
    return 1;
}

#define NEED_VOCAB() do { if (!openai) SKIP("../shared/data/clip/bpe_simple_vocab_16e6.txt.gz is missing"); } while (0)

/* The examples the issue gives (CLIP's published tokenisations). */
TEST(published_examples)
{
    NEED_VOCAB();
    static const int cat[] = {49406, 320, 1125, 539, 320, 2368, 49407};
    static const int diagram[] = {49406, 320, 22697, 49407};
    static const int dogs[] = {49406, 1237, 3255, 1629, 530, 518, 2583, 256, 49407};
    CHECK(ids_are(openai, "a photo of a cat", cat, 7));
    CHECK(ids_are(openai, "a diagram", diagram, 4));
    CHECK(ids_are(openai, "Two dogs playing in the snow!", dogs, 9));
    CHECK_EQ_INT(bpe_vocab_size(openai), 49408);
    CHECK_EQ_INT(bpe_sot(openai), 49406);
    CHECK_EQ_INT(bpe_eot(openai), 49407);
}

/* Cleaning is invisible to the ids: case, whitespace runs, entities. */
TEST(cleaning)
{
    NEED_VOCAB();
    static const int cat[] = {49406, 320, 1125, 539, 320, 2368, 49407};
    CHECK(ids_are(openai, "  A   PHOTO\tof\n a Cat  ", cat, 7));
    CHECK(ids_are(openai, "a\xc2\xa0photo of a cat", cat, 7));           /* NBSP is whitespace */
    CHECK(ids_are(openai, "a&nbsp;photo&#32;of a cat", cat, 7));         /* unescaped, then cleaned */
    char *c = bpe_clean("Fish &amp;amp; Chips &lt;3 &#x41;&#66; \xc3\x89T\xc3\x89 \xe2\x80\x83 \xc4\xb0");
    CHECK_STR(c, "fish & chips <3 ab \xc3\xa9t\xc3\xa9 i\xcc\x87");
    free(c);
    c = bpe_clean("");
    CHECK_STR(c, "");
    free(c);
}

TEST(truncation_keeps_the_end_token)
{
    NEED_VOCAB();
    char text[4000] = "";
    for (int i = 0; i < 200; i++) strcat(text, "dog ");
    int ids[CLIP_CONTEXT];
    CHECK_EQ_INT(bpe_tokenize(openai, text, ids, CLIP_CONTEXT), CLIP_CONTEXT);
    CHECK_EQ_INT(ids[0], 49406);
    CHECK_EQ_INT(ids[1], 1929);                  /* "dog</w>" */
    CHECK_EQ_INT(ids[75], 1929);
    CHECK_EQ_INT(ids[76], 49407);
    int all[300];
    CHECK_EQ_INT(bpe_encode(openai, text, all, 300), 200);
    CHECK_EQ_INT(bpe_encode(openai, text, all, 3), 200);   /* count past max */
}

/* Bytes that are not UTF-8, control characters, long runs: ids, no crash. */
TEST(hostile_text)
{
    NEED_VOCAB();
    int ids[CLIP_CONTEXT];
    CHECK(bpe_tokenize(openai, "\xff\xfe\xc3 \xe2\x82 \x01\x02 caf\xc3\xa9", ids, CLIP_CONTEXT) > 4);
    char *big = xmalloc(20001);
    memset(big, 'z', 20000);
    big[20000] = 0;
    int n = bpe_tokenize(openai, big, ids, CLIP_CONTEXT);
    CHECK_EQ_INT(n, CLIP_CONTEXT);
    CHECK_EQ_INT(ids[76], 49407);
    free(big);
    CHECK_EQ_INT(bpe_tokenize(openai, "", ids, CLIP_CONTEXT), 2);
}

/* Python's reference, 1000 captions; and the Hugging Face layouts (made
 * from the same file by the reference) give the same ids as OpenAI's. */
TEST(flickr_captions_match_reference)
{
    NEED_VOCAB();
    char caps[1024], out[1024], cmd[4096], args[3000];
    snprintf(caps, sizeof caps, "%s/caps.txt", tmp);
    snprintf(cmd, sizeof cmd, "cut -f2 '%s/flickr8k/captions.tsv' 2>/dev/null | head -n 1000 > '%s'", test_datadir(), caps);
    if (system(cmd) != 0) SKIP("cannot read ../shared/data/flickr8k/captions.tsv");
    snprintf(out, sizeof out, "%s/caps.ids", tmp);
    snprintf(args, sizeof args, "tokenize --vocab '%s' < '%s'", clip_openai_vocab(), caps);
    if (system(CLIP_PY " -c 'import numpy' 2>/dev/null")) SKIP("/usr/bin/python3 with numpy is needed for the reference");
    CHECK(clip_ref(args, out) == 0);

    snprintf(args, sizeof args, "vocab-files '%s/hf' --vocab '%s'", tmp, clip_openai_vocab());
    CHECK(clip_ref(args, NULL) == 0);
    snprintf(args, sizeof args, "vocab-files '%s/tj' --vocab '%s' --tokenizer-json", tmp, clip_openai_vocab());
    CHECK(clip_ref(args, NULL) == 0);
    char p[1100];
    ierr e = {0};
    snprintf(p, sizeof p, "%s/hf", tmp);
    bpe_vocab *hf = bpe_load_dir(p, &e);
    CHECKF(hf, "%s", e.msg);
    snprintf(p, sizeof p, "%s/tj/tokenizer.json", tmp);
    bpe_vocab *tj = bpe_load(p, &e);
    CHECKF(tj, "%s", e.msg);

    FILE *fc = fopen(caps, "r"), *fo = fopen(out, "r");
    CHECK(fc && fo);
    char line[4096], ref[4096];
    int n = 0, bad = 0;
    while (fgets(line, sizeof line, fc) && fgets(ref, sizeof ref, fo)) {
        line[strcspn(line, "\r\n")] = 0;
        ref[strcspn(ref, "\r\n")] = 0;
        char mine[4096];
        bpe_vocab *vs[3] = {openai, hf, tj};
        for (int k = 0; k < 3; k++) {
            int ids[CLIP_CONTEXT];
            int len = bpe_tokenize(vs[k], line, ids, CLIP_CONTEXT);
            size_t o = 0;
            for (int i = 0; i < len; i++) o += (size_t)snprintf(mine + o, sizeof mine - o, i ? " %d" : "%d", ids[i]);
            if (strcmp(mine, ref)) {
                if (!bad) printf("  first mismatch (vocab %d): '%s'\n    imgdex %s\n    python %s\n", k, line, mine, ref);
                bad++;
            }
        }
        n++;
    }
    fclose(fc);
    fclose(fo);
    bpe_free(hf);
    bpe_free(tj);
    printf("  %d captions, %d mismatches\n", n, bad);
    CHECK_EQ_INT(n, 1000);
    CHECK_EQ_INT(bad, 0);
}

TEST(bad_vocab_files)
{
    ierr e = {0};
    char p[1100];
    snprintf(p, sizeof p, "%s/missing.txt.gz", tmp);
    CHECK(bpe_load(p, &e) == NULL);
    CHECKF(strstr(e.msg, "missing.txt.gz"), "%s", e.msg);

    snprintf(p, sizeof p, "%s/bad.txt", tmp);
    FILE *f = fopen(p, "w");
    fputs("#version\nhello\n", f);
    fclose(f);
    err_clear(&e);
    CHECK(bpe_load(p, &e) == NULL);
    CHECKF(strstr(e.msg, "bad.txt") && strstr(e.msg, "line 2"), "%s", e.msg);

    snprintf(p, sizeof p, "%s/vocab.json", tmp);
    f = fopen(p, "w");
    fputs("{\"a\": 0, \"b\": 1}", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/merges.txt", tmp);
    f = fopen(p, "w");
    fputs("#version: 0.2\na b\n", f);
    fclose(f);
    err_clear(&e);
    CHECK(bpe_load_dir(tmp, &e) == NULL);
    CHECKF(strstr(e.msg, "vocab.json") && strstr(e.msg, "byte"), "%s", e.msg);

    snprintf(p, sizeof p, "%s/tokenizer.json", tmp);
    f = fopen(p, "w");
    fputs("{\"model\": {\"type\": \"WordPiece\"}}", f);
    fclose(f);
    err_clear(&e);
    CHECK(bpe_load(p, &e) == NULL);
    CHECKF(strstr(e.msg, "tokenizer.json"), "%s", e.msg);

    snprintf(p, sizeof p, "%s/empty-dir", tmp);
    path_mkdirs(p, &e);
    err_clear(&e);
    CHECK(bpe_load_dir(p, &e) == NULL);
    CHECKF(strstr(e.msg, "no tokenizer"), "%s", e.msg);
}

TEST(unicode_classes)
{
    CHECK(bpe_is_letter('a') && bpe_is_letter(0xe9) && bpe_is_letter(0x4e2d) && !bpe_is_letter('1'));
    CHECK(bpe_is_number('7') && bpe_is_number(0x0663) && bpe_is_number(0xbd) && !bpe_is_number('x'));
    CHECK(bpe_is_space(' ') && bpe_is_space(0x3000) && bpe_is_space(0x85) && !bpe_is_space(0x200b));
    uint32_t cp[8];
    CHECK_EQ_INT(bpe_utf8_decode("a\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\xc0\xaf", 12, cp), 6);
    CHECK_EQ_INT(cp[3], 0x1f600);
    CHECK_EQ_INT(cp[4], BPE_RAW + 0xc0);   /* overlong "/" is two raw bytes */
}

int main(void)
{
    tmp = test_tmpdir("clip-tok");
    ierr e = {0};
    if (clip_openai_vocab()) {
        openai = bpe_load(clip_openai_vocab(), &e);
        if (!openai) printf("FAIL load_openai_vocab: %s\n", e.msg);
    }
    RUN(published_examples);
    RUN(cleaning);
    RUN(truncation_keeps_the_end_token);
    RUN(hostile_text);
    RUN(flickr_captions_match_reference);
    RUN(bad_vocab_files);
    RUN(unicode_classes);
    bpe_free(openai);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd)) {}
    return test_summary();
}
