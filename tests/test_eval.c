/* test_eval.c — the evaluation's metrics on hand-made rank lists (expected
 * values worked out by hand in the comments), and reading a captioned set. */
#include "test.h"

#include "eval/eval.h"
#include "eval/metrics.h"

TEST(metrics_odd_list)
{
    /* ranks 1 3 7 12 2: R@1 1/5, R@5 {1,3,2} 3/5, R@10 {1,3,7,2} 4/5,
     * median of 1 2 3 7 12 = 3, mean 25/5 = 5,
     * MRR (1 + 1/3 + 1/7 + 1/12 + 1/2) / 5 = (420+140+60+35+210)/420/5 = 865/2100 */
    double r[] = {1, 3, 7, 12, 2};
    eval_metrics m;
    eval_metrics_compute(r, 5, &m);
    CHECK_EQ_INT(m.n, 5);
    CHECK_NEAR(m.r1, 0.2, 1e-12);
    CHECK_NEAR(m.r5, 0.6, 1e-12);
    CHECK_NEAR(m.r10, 0.8, 1e-12);
    CHECK_NEAR(m.median_rank, 3, 1e-12);
    CHECK_NEAR(m.mean_rank, 5, 1e-12);
    CHECK_NEAR(m.mrr, 865.0 / 2100.0, 1e-12);
    /* The input is not reordered. */
    CHECK_NEAR(r[1], 3, 0);
}

TEST(metrics_even_list_and_boundaries)
{
    /* ranks 5 1 10 11: R@1 1/4, R@5 2/4 (5 counts), R@10 3/4 (10 counts),
     * median (5+10)/2 = 7.5, MRR (1/5 + 1 + 1/10 + 1/11)/4 = (22+110+11+10)/110/4 = 153/440 */
    double r[] = {5, 1, 10, 11};
    eval_metrics m;
    eval_metrics_compute(r, 4, &m);
    CHECK_NEAR(m.r1, 0.25, 1e-12);
    CHECK_NEAR(m.r5, 0.5, 1e-12);
    CHECK_NEAR(m.r10, 0.75, 1e-12);
    CHECK_NEAR(m.median_rank, 7.5, 1e-12);
    CHECK_NEAR(m.mrr, 153.0 / 440.0, 1e-12);
}

TEST(metrics_all_first_and_empty)
{
    double r[] = {1, 1, 1};
    eval_metrics m;
    eval_metrics_compute(r, 3, &m);
    CHECK_NEAR(m.r1, 1, 0);
    CHECK_NEAR(m.mrr, 1, 0);
    CHECK_NEAR(m.median_rank, 1, 0);
    eval_metrics_compute(r, 0, &m);
    CHECK_EQ_INT(m.n, 0);
    CHECK_NEAR(m.r10, 0, 0);
    CHECK_NEAR(m.mrr, 0, 0);
}

TEST(fractional_rank_is_not_a_hit)
{
    /* 1.5 (expected rank of "not returned" among 2) misses R@1 but is
     * within 5; 5.5 misses R@5 and is within 10. */
    double r[] = {1.5, 5.5};
    eval_metrics m;
    eval_metrics_compute(r, 2, &m);
    CHECK_NEAR(m.r1, 0, 0);
    CHECK_NEAR(m.r5, 0.5, 0);
    CHECK_NEAR(m.r10, 1, 0);
    CHECK_NEAR(m.mrr, (1 / 1.5 + 1 / 5.5) / 2, 1e-12);
}

TEST(expected_rank_of_unreturned)
{
    /* 3 returned of 10: the answer is one of the 7 others, each equally
     * likely at 4..10: mean 7. */
    CHECK_NEAR(eval_expected_rank(3, 10), 7, 1e-12);
    /* Nothing returned of 1000: (1 + 1000) / 2. */
    CHECK_NEAR(eval_expected_rank(0, 1000), 500.5, 1e-12);
    /* One left: it is last. */
    CHECK_NEAR(eval_expected_rank(9, 10), 10, 1e-12);
}

TEST(percentiles)
{
    double a[] = {4, 1, 3, 2};
    CHECK_NEAR(eval_percentile(a, 4, 50), 2.5, 1e-12);
    CHECK_NEAR(a[0], 1, 0);   /* sorted in place */
    double b[100];
    for (int i = 0; i < 100; i++) b[i] = 100 - i;   /* 100 .. 1 */
    /* p99: position 0.99 * 99 = 98.01 between 99 and 100 -> 99.01 */
    CHECK_NEAR(eval_percentile(b, 100, 99), 99.01, 1e-9);
    CHECK_NEAR(eval_percentile(b, 100, 0), 1, 0);
    CHECK_NEAR(eval_percentile(b, 100, 100), 100, 0);
    double c[] = {42};
    CHECK_NEAR(eval_percentile(c, 1, 99), 42, 0);
    CHECK_NEAR(eval_percentile(c, 0, 50), 0, 0);
}

/* ---- reading a captioned set ------------------------------------------ */

static const char *dir;

static void write_file(const char *name, const char *text)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static const char *at(const char *name)
{
    static char p[4][700];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

TEST(load_split_captions_limit_missing)
{
    dir = test_tmpdir("eval-load");
    write_file("a.jpg", "");
    write_file("b.jpg", "");
    write_file("c.jpg", "");
    write_file("captions.tsv",
               "a.jpg\tA dog runs .\n"
               "b.jpg\tTwo cats\n"
               "a.jpg\tA brown dog on grass\r\n"
               "gone.jpg\tNobody\n"
               "\n"
               "c.jpg\tA red car\n");
    write_file("split.txt", "c.jpg\ngone.jpg\n# comment\na.jpg\n");
    ierr e = {0};
    eval_set s;
    CHECKF(eval_load(at("captions.tsv"), at("split.txt"), dir, 0, &s, &e) == 0, "%s", e.msg);
    CHECK_EQ_INT(s.nimages, 2);
    CHECK_STR(s.images[0], "c.jpg");
    CHECK_STR(s.images[1], "a.jpg");
    CHECK_EQ_INT(s.missing, 1);
    CHECK_EQ_INT(s.nq, 3);   /* captions file order: a, a, c */
    CHECK_STR(s.q[0].caption, "A dog runs .");
    CHECK_EQ_INT(s.q[0].image, 1);
    CHECK_STR(s.q[1].caption, "A brown dog on grass");
    CHECK_STR(s.q[2].caption, "A red car");
    CHECK_EQ_INT(s.q[2].image, 0);
    eval_set_free(&s);

    /* --limit counts split lines, missing ones included: c.jpg only. */
    CHECK(eval_load(at("captions.tsv"), at("split.txt"), dir, 1, &s, &e) == 0);
    CHECK_EQ_INT(s.nimages, 1);
    CHECK_EQ_INT(s.nq, 1);
    eval_set_free(&s);

    /* No split: every captioned image present, in caption order. */
    CHECK(eval_load(at("captions.tsv"), NULL, dir, 0, &s, &e) == 0);
    CHECK_EQ_INT(s.nimages, 3);
    CHECK_STR(s.images[0], "a.jpg");
    CHECK_STR(s.images[1], "b.jpg");
    CHECK_STR(s.images[2], "c.jpg");
    CHECK_EQ_INT(s.missing, 1);
    CHECK_EQ_INT(s.nq, 4);
    eval_set_free(&s);
}

TEST(load_rejects_bad_input_naming_the_file)
{
    dir = test_tmpdir("eval-bad");
    write_file("a.jpg", "");
    write_file("bad.tsv", "a.jpg\tfine\nno tab on this line\n");
    ierr e = {0};
    eval_set s;
    CHECK(eval_load(at("bad.tsv"), NULL, dir, 0, &s, &e) == -1);
    CHECKF(strstr(e.msg, "bad.tsv:2"), "%s", e.msg);
    err_clear(&e);
    write_file("ok.tsv", "a.jpg\tfine\n");
    write_file("twice.txt", "a.jpg\na.jpg\n");
    CHECK(eval_load(at("ok.tsv"), at("twice.txt"), dir, 0, &s, &e) == -1);
    CHECKF(strstr(e.msg, "twice.txt") && strstr(e.msg, "a.jpg"), "%s", e.msg);
    err_clear(&e);
    CHECK(eval_load(at("nope.tsv"), NULL, dir, 0, &s, &e) == -1);
    CHECKF(strstr(e.msg, "nope.tsv"), "%s", e.msg);
}

int main(void)
{
    RUN(metrics_odd_list);
    RUN(metrics_even_list_and_boundaries);
    RUN(metrics_all_first_and_empty);
    RUN(fractional_rank_is_not_a_hit);
    RUN(expected_rank_of_unreturned);
    RUN(percentiles);
    RUN(load_split_captions_limit_missing);
    RUN(load_rejects_bad_input_naming_the_file);
    return test_summary();
}
