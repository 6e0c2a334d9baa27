/* test.h — the whole test framework, on purpose.
 *
 * A test file is a program:  TEST(name) { CHECK(...); }  and a main() that
 * calls RUN(name) for each, then returns test_summary().  Every test prints
 * one line, "PASS name" or "FAIL name: file:line: what", which
 * scripts/run-tests adds up into the final "N passed, N failed" line.
 * A test that cannot run here says "SKIP name: why" — loudly, never silently.
 */
#ifndef IMGDEX_TEST_H
#define IMGDEX_TEST_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int test_failed_, test_skipped_, test_npass_, test_nfail_;
static char test_why_[1024];

static inline void test_fail_(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(test_why_, sizeof test_why_, "%s:%d: ", file, line);
    va_start(ap, fmt);
    vsnprintf(test_why_ + n, sizeof test_why_ - (size_t)n, fmt, ap);
    va_end(ap);
    test_failed_ = 1;
}

#define TEST(name) static void name(void)

#define CHECK(cond) do { if (!(cond)) { \
    test_fail_(__FILE__, __LINE__, "%s", #cond); return; } } while (0)

#define CHECKF(cond, ...) do { if (!(cond)) { \
    test_fail_(__FILE__, __LINE__, __VA_ARGS__); return; } } while (0)

#define CHECK_EQ_INT(a, b) do { long long a_ = (a), b_ = (b); if (a_ != b_) { \
    test_fail_(__FILE__, __LINE__, "%s == %lld, expected %lld", #a, a_, b_); return; } } while (0)

#define CHECK_NEAR(a, b, tol) do { double a_ = (a), b_ = (b); \
    if (!(fabs(a_ - b_) <= (tol))) { \
    test_fail_(__FILE__, __LINE__, "%s == %.9g, expected %.9g (tol %g)", #a, a_, b_, (double)(tol)); \
    return; } } while (0)

#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) { \
    test_fail_(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
    return; } } while (0)

/* Skip the current test with a reason (printed as SKIP, counted apart). */
#define SKIP(...) do { snprintf(test_why_, sizeof test_why_, __VA_ARGS__); \
    test_skipped_ = 1; return; } while (0)

static inline void test_run_(const char *name, void (*fn)(void))
{
    test_failed_ = test_skipped_ = 0;
    test_why_[0] = 0;
    fn();
    if (test_failed_) {
        printf("FAIL %s: %s\n", name, test_why_);
        test_nfail_++;
    } else if (test_skipped_) {
        printf("SKIP %s: %s\n", name, test_why_);
    } else {
        printf("PASS %s\n", name);
        test_npass_++;
    }
    fflush(stdout);
}

#define RUN(name) test_run_(#name, name)

static inline int test_summary(void) { return test_nfail_ ? 1 : 0; }

/* Paths the tests may rely on. */
static inline const char *test_srcdir(void)
{
    const char *s = getenv("IMGDEX_SRCDIR");
    return s ? s : IMGDEX_SRCDIR;
}

/* A fresh scratch directory under $IMGDEX_TEST_TMP (or /tmp), per test file. */
static inline const char *test_tmpdir(const char *tag)
{
    static char dir[512];
    const char *base = getenv("IMGDEX_TEST_TMP");
    snprintf(dir, sizeof dir, "%s/imgdex-%s-%d", base ? base : "/tmp", tag, (int)getpid());
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0) { fprintf(stderr, "cannot make %s\n", dir); exit(2); }
    return dir;
}

/* ../shared/data relative to the source tree, or $IMGDEX_DATA. */
static inline const char *test_datadir(void)
{
    static char dir[512];
    const char *s = getenv("IMGDEX_DATA");
    if (s) return s;
    snprintf(dir, sizeof dir, "%s/../shared/data", test_srcdir());
    return dir;
}

#endif
