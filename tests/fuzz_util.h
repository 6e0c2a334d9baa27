/* fuzz_util.h — what the libFuzzer targets (tests/fuzz_*.c) share: a
 * private scratch directory for loaders that read files, splitting one
 * input into several files, and an independent UTF-8 check (RFC 3629's
 * table, written apart from src/base/utf8.c so it can judge it). */
#ifndef IMGDEX_FUZZ_UTIL_H
#define IMGDEX_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* $TMPDIR (else /dev/shm, else /tmp)/imgdex-fuzz-PID/name, made once per
 * process: memory-backed when possible, files are written per input. */
static inline const char *fz_path(const char *name)
{
    static char dir[256], path[512];
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        struct stat st;
        if (!t || !*t) t = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(dir, sizeof dir, "%s/imgdex-fuzz-%d", t, (int)getpid());
        mkdir(dir, 0700);
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static inline const char *fz_write(const char *name, const void *d, size_t n)
{
    const char *p = fz_path(name);
    FILE *f = fopen(p, "wb");
    if (!f) abort();
    if (n && fwrite(d, 1, n, f) != n) abort();
    fclose(f);
    return p;
}

/* The part of [d, d+n) before the first `sep` (all of it when absent);
 * (*rest, *nrest) get what follows. */
static inline size_t fz_split(const uint8_t *d, size_t n, const char *sep, const uint8_t **rest, size_t *nrest)
{
    size_t k = strlen(sep);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(d + i, sep, k)) {
            *rest = d + i + k;
            *nrest = n - i - k;
            return i;
        }
    *rest = d + n;
    *nrest = 0;
    return n;
}

static inline int fz_utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) k = 1;
        else if (c == 0xE0) k = 2, lo = 0xA0;
        else if (c >= 0xE1 && c <= 0xEC) k = 2;
        else if (c == 0xED) k = 2, hi = 0x9F;
        else if (c >= 0xEE && c <= 0xEF) k = 2;
        else if (c == 0xF0) k = 3, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3) k = 3;
        else if (c == 0xF4) k = 3, hi = 0x8F;
        else return 0;
        if (i + k >= n) return 0;   /* the sequence runs past the end */
        if (s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (size_t j = 2; j <= k; j++)
            if (s[i + j] < 0x80 || s[i + j] > 0xBF) return 0;
        i += k + 1;
    }
    return 1;
}

#endif
