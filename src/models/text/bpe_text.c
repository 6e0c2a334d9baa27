/* bpe_text.c — CLIP's text cleaning and pre-split, on code points.
 *
 * Python's str semantics are what CLIP's tokenizer was trained with, so this
 * file reproduces them by hand: html.unescape for the entities that occur in
 * practice, \s as str.isspace, str.lower, and the pre-split regex
 *   <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
 * as a hand-written scanner.  Bytes that are not valid UTF-8 are kept as
 * themselves (marked code points >= BPE_RAW) so byte-level BPE still sees
 * every input byte, and nothing is ever dropped or read out of bounds.
 */
#include "models/text/bpe_text.h"

#include <stdlib.h>
#include <string.h>

#include "base/base.h"

extern const uint32_t bpe_uni_letter[][2], bpe_uni_number[][2], bpe_uni_space[][2],
    bpe_uni_lower[][2];
extern const int bpe_uni_letter_n, bpe_uni_number_n, bpe_uni_space_n, bpe_uni_lower_n;

static int in_ranges(const uint32_t (*r)[2], int n, uint32_t c)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (c < r[mid][0]) hi = mid - 1;
        else if (c > r[mid][1]) lo = mid + 1;
        else return 1;
    }
    return 0;
}

int bpe_is_letter(uint32_t c)
{
    if (c < 128) return (c | 32) >= 'a' && (c | 32) <= 'z';
    return c < BPE_RAW && in_ranges(bpe_uni_letter, bpe_uni_letter_n, c);
}

int bpe_is_number(uint32_t c)
{
    if (c < 128) return c >= '0' && c <= '9';
    return c < BPE_RAW && in_ranges(bpe_uni_number, bpe_uni_number_n, c);
}

int bpe_is_space(uint32_t c)
{
    if (c < 128) return c == ' ' || (c >= 9 && c <= 13) || (c >= 28 && c <= 31);
    return c < BPE_RAW && in_ranges(bpe_uni_space, bpe_uni_space_n, c);
}

static uint32_t lower1(uint32_t c)
{
    if (c < 128) return c >= 'A' && c <= 'Z' ? c + 32 : c;
    int lo = 0, hi = bpe_uni_lower_n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (c < bpe_uni_lower[mid][0]) hi = mid - 1;
        else if (c > bpe_uni_lower[mid][0]) lo = mid + 1;
        else return bpe_uni_lower[mid][1];
    }
    return c;
}

/* ---- UTF-8 ---------------------------------------------------------- */

int bpe_utf8_decode(const char *s, size_t len, uint32_t *out)
{
    const unsigned char *p = (const unsigned char *)s;
    int n = 0;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        int extra = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
        uint32_t cp = extra == 0 ? c : extra == 1 ? c & 31 : extra == 2 ? c & 15 : c & 7;
        int ok = extra >= 0 && i + (size_t)extra < len;
        for (int k = 1; ok && k <= extra; k++) {
            if ((p[i + k] & 0xc0) != 0x80) ok = 0;
            else cp = cp << 6 | (p[i + k] & 63);
        }
        /* Overlong forms, surrogates and out-of-range values are invalid too. */
        static const uint32_t minv[4] = {0, 0x80, 0x800, 0x10000};
        if (ok && (cp < minv[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) ok = 0;
        if (!ok) {
            out[n++] = BPE_RAW + c;
            i++;
        } else {
            out[n++] = cp;
            i += (size_t)extra + 1;
        }
    }
    return n;
}

size_t bpe_utf8_encode(const uint32_t *cp, int n, char *out)
{
    unsigned char *o = (unsigned char *)out;
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        uint32_t c = cp[i];
        if (c >= BPE_RAW) o[k++] = (unsigned char)(c - BPE_RAW);
        else if (c < 0x80) o[k++] = (unsigned char)c;
        else if (c < 0x800) {
            o[k++] = (unsigned char)(0xc0 | c >> 6);
            o[k++] = (unsigned char)(0x80 | (c & 63));
        } else if (c < 0x10000) {
            o[k++] = (unsigned char)(0xe0 | c >> 12);
            o[k++] = (unsigned char)(0x80 | (c >> 6 & 63));
            o[k++] = (unsigned char)(0x80 | (c & 63));
        } else {
            o[k++] = (unsigned char)(0xf0 | c >> 18);
            o[k++] = (unsigned char)(0x80 | (c >> 12 & 63));
            o[k++] = (unsigned char)(0x80 | (c >> 6 & 63));
            o[k++] = (unsigned char)(0x80 | (c & 63));
        }
    }
    return k;
}

/* ---- html.unescape -------------------------------------------------- */

/* The named entities that turn up in captions and alt texts.  Python knows
 * all 2231 HTML5 names; the rest are left as written here.  `bare` marks
 * the legacy names Python also accepts without the semicolon. */
static const struct { const char *name; uint32_t cp; int bare; } entities[] = {
    {"amp", '&', 1}, {"lt", '<', 1}, {"gt", '>', 1}, {"quot", '"', 1}, {"apos", '\'', 0},
    {"nbsp", 0xa0, 1}, {"copy", 0xa9, 1}, {"reg", 0xae, 1}, {"deg", 0xb0, 1},
    {"eacute", 0xe9, 1}, {"egrave", 0xe8, 1}, {"agrave", 0xe0, 1}, {"ouml", 0xf6, 1},
    {"uuml", 0xfc, 1}, {"auml", 0xe4, 1}, {"ccedil", 0xe7, 1}, {"ntilde", 0xf1, 1},
    {"hellip", 0x2026, 0}, {"mdash", 0x2014, 0}, {"ndash", 0x2013, 0}, {"lsquo", 0x2018, 0},
    {"rsquo", 0x2019, 0}, {"ldquo", 0x201c, 0}, {"rdquo", 0x201d, 0}, {"trade", 0x2122, 0},
    {"euro", 0x20ac, 0}, {"pound", 0xa3, 1}, {"times", 0xd7, 1}, {"middot", 0xb7, 1},
};

/* Python maps numeric references in 0x80..0x9f as Windows-1252 does. */
static const uint16_t cp1252[32] = {
    0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039,
    0x152, 0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
    0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
};

/* Unescape cp[0..n) in place; returns the new length (never longer). */
static int unescape(uint32_t *cp, int n)
{
    int o = 0;
    for (int i = 0; i < n;) {
        if (cp[i] != '&') {
            cp[o++] = cp[i++];
            continue;
        }
        int j = i + 1;
        if (j < n && cp[j] == '#') {
            int hex = j + 1 < n && (cp[j + 1] == 'x' || cp[j + 1] == 'X');
            int k = j + 1 + hex, digits = 0;
            unsigned long long v = 0;
            for (; k < n; k++) {
                uint32_t c = cp[k];
                int d = c >= '0' && c <= '9' ? (int)(c - '0')
                      : hex && (c | 32) >= 'a' && (c | 32) <= 'f' ? (int)((c | 32) - 'a' + 10) : -1;
                if (d < 0) break;
                if (v < 0x1000000) v = v * (hex ? 16 : 10) + (unsigned)d;
                digits++;
            }
            if (digits) {
                if (k < n && cp[k] == ';') k++;
                uint32_t r;
                if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) r = 0xfffd;
                else if (v == 0x0d) r = '\r';
                else if (v >= 0x80 && v <= 0x9f) r = cp1252[v - 0x80];
                else r = (uint32_t)v;
                cp[o++] = r;
                i = k;
                continue;
            }
        } else {
            int k = j;
            char name[12];
            int len = 0;
            while (k < n && len < 10 && ((cp[k] | 32) >= 'a' && (cp[k] | 32) <= 'z')) name[len++] = (char)cp[k++];
            name[len] = 0;
            int semi = k < n && cp[k] == ';';
            size_t e;
            for (e = 0; e < sizeof entities / sizeof entities[0]; e++)
                if (!strcmp(entities[e].name, name) && (semi || entities[e].bare)) break;
            if (len && e < sizeof entities / sizeof entities[0]) {
                cp[o++] = entities[e].cp;
                i = k + semi;
                continue;
            }
        }
        cp[o++] = cp[i++];
    }
    return o;
}

/* ---- clean ------------------------------------------------------------ */

uint32_t *bpe_clean_cp(const char *text, int *n_out)
{
    size_t len = strlen(text);
    /* lower() can turn U+0130 into two code points: room for that. */
    uint32_t *cp = xmalloc((2 * len + 1) * sizeof *cp);
    int n = bpe_utf8_decode(text, len, cp);
    n = unescape(cp, n);
    n = unescape(cp, n);
    /* Collapse whitespace runs to one space, strip both ends, lower-case. */
    int o = 0, pending = 0;
    uint32_t *tmp = xmalloc((2 * (size_t)n + 1) * sizeof *tmp);
    for (int i = 0; i < n; i++) {
        if (bpe_is_space(cp[i])) {
            pending = o > 0;
            continue;
        }
        if (pending) tmp[o++] = ' ';
        pending = 0;
        if (cp[i] == 0x130) {
            tmp[o++] = 'i';
            tmp[o++] = 0x307;
        } else {
            tmp[o++] = lower1(cp[i]);
        }
    }
    free(cp);
    *n_out = o;
    return tmp;
}

/* ---- pre-split ------------------------------------------------------ */

static int match_lit(const uint32_t *cp, int n, int i, const char *lit)
{
    int k = 0;
    for (; lit[k]; k++)
        if (i + k >= n || cp[i + k] != (uint32_t)(unsigned char)lit[k]) return 0;
    return k;
}

int bpe_next_piece(const uint32_t *cp, int n, int *pos, int *start)
{
    int i = *pos;
    while (i < n && bpe_is_space(cp[i])) i++;
    if (i >= n) {
        *pos = n;
        return 0;
    }
    int len = 0;
    static const char *const lits[] = {"<|startoftext|>", "<|endoftext|>", "'s", "'t", "'re",
                                       "'ve", "'m", "'ll", "'d"};
    /* The alternatives in the regex's order.  Its IGNORECASE flag is moot:
     * the text was lower-cased (the long s U+017F, which would match 's'
     * case-insensitively, is the one exotic exception, ignored). */
    for (size_t a = 0; a < sizeof lits / sizeof lits[0] && !len; a++) len = match_lit(cp, n, i, lits[a]);
    if (!len) {
        if (bpe_is_letter(cp[i])) {
            len = 1;
            while (i + len < n && bpe_is_letter(cp[i + len])) len++;
        } else if (bpe_is_number(cp[i])) {
            len = 1;
        } else {
            len = 1;
            while (i + len < n && !bpe_is_space(cp[i + len]) && !bpe_is_letter(cp[i + len]) &&
                   !bpe_is_number(cp[i + len]))
                len++;
        }
    }
    *start = i;
    *pos = i + len;
    return len;
}
