/* bpe_text.h — internals of the CLIP tokenizer shared by bpe.c and its tests:
 * Unicode classes, UTF-8, cleaning and the pre-split scanner. */
#ifndef IMGDEX_BPE_TEXT_H
#define IMGDEX_BPE_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Code points >= BPE_RAW stand for an invalid UTF-8 byte (BPE_RAW + byte). */
#define BPE_RAW 0x200000u

int bpe_is_letter(uint32_t c);   /* \p{L} */
int bpe_is_number(uint32_t c);   /* \p{N} */
int bpe_is_space(uint32_t c);    /* Python str.isspace */

/* Decode len bytes into out (room for len code points); returns the count. */
int bpe_utf8_decode(const char *s, size_t len, uint32_t *out);
/* Encode n code points into out (room for 4n bytes); returns bytes written. */
size_t bpe_utf8_encode(const uint32_t *cp, int n, char *out);
/* Unescape twice, collapse whitespace, strip, lower-case.  Caller frees. */
uint32_t *bpe_clean_cp(const char *text, int *n);
/* Next pre-split piece from *pos: returns its length (0 at the end) and
 * its first index in *start; advances *pos past it. */
int bpe_next_piece(const uint32_t *cp, int n, int *pos, int *start);

#endif
