/* utf8.c — JSON that strict parsers accept whatever bytes went into it.
 *
 * File names on Linux are bytes, and queries arrive as bytes: either may
 * be invalid UTF-8, and cJSON copies such bytes into its output as they
 * are.  The output is labelled UTF-8, so each offending byte becomes the
 * escape \ufffd (U+FFFD, the replacement character) instead.
 */
#include "base/base.h"

#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1..4), 0 when it is not one:
 * overlong forms, surrogates and values past U+10FFFF are invalid. */
size_t utf8_seq_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    unsigned min, v;
    if ((c & 0xE0) == 0xC0) n = 2, min = 0x80, v = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) n = 3, min = 0x800, v = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) n = 4, min = 0x10000, v = c & 0x07;
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;   /* also stops at the NUL */
        v = v << 6 | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    return n;
}

int utf8_valid(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = utf8_seq_len(p);
        if (!n) return 0;
        p += n;
    }
    return 1;
}

char *json_utf8_fix(char *s)
{
    if (!s || utf8_valid(s)) return s;
    size_t len = strlen(s);
    char *out = xmalloc(6 * len + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = utf8_seq_len(p);
        if (n) {
            memcpy(o, p, n);
            o += n;
            p += n;
        } else {
            memcpy(o, "\\ufffd", 6);
            o += 6;
            p++;
        }
    }
    *o = 0;
    free(s);
    return out;
}
