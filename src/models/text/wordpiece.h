/* wordpiece.h — BERT's WordPiece tokenizer (the uncased variant BLIP uses),
 * from a model's vocab.txt: one token per line, the line number is the id.
 *
 * Text is cleaned (control characters dropped, every space separator made a
 * space), CJK ideographs spaced out, lower-cased and stripped of accents
 * (NFD without non-spacing marks), split at spaces and at punctuation, and
 * each word cut greedily into the longest vocabulary pieces ("##" marks a
 * piece inside a word); a word with no cut, or longer than 100 characters,
 * is [UNK]. */
#ifndef IMGDEX_WORDPIECE_H
#define IMGDEX_WORDPIECE_H

#include "base/base.h"

typedef struct wp_vocab wp_vocab;

/* NULL + e naming the file when unreadable, empty or without [UNK]. */
wp_vocab *wp_load(const char *path, ierr *e);
void wp_free(wp_vocab *v);
int wp_size(const wp_vocab *v);
/* The id of a token, -1 when absent (the first line wins for duplicates). */
int wp_id(const wp_vocab *v, const char *token);
/* NULL outside 0..size-1. */
const char *wp_token(const wp_vocab *v, int id);
/* The ids of text, without [CLS]/[SEP]: returns how many there are; only
 * the first max are stored in ids (ids may be NULL with max 0). */
int wp_encode(const wp_vocab *v, const char *text, int *ids, int max);
/* Text of ids as BERT decodes it: special tokens and ids outside the
 * vocabulary skipped, pieces joined, " ##" glued, spaces before
 * punctuation and contractions removed.  Caller frees. */
char *wp_decode(const wp_vocab *v, const int *ids, int n);

#endif
