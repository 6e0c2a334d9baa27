/* bpe.h — CLIP's byte-level BPE tokenizer (OpenAI simple_tokenizer rules).
 *
 * Text is cleaned exactly as CLIP does it — HTML entities unescaped (twice),
 * runs of whitespace collapsed, stripped, lower-cased — then pre-split with
 * CLIP's pattern (special tokens | 's 't 're 've 'm 'll 'd | letters+ |
 * one digit | other non-space+), each piece mapped byte -> printable
 * character and merged by rank, the last symbol of a word carrying </w>.
 * Not done: ftfy's mojibake repair (text is taken as valid UTF-8 as given).
 */
#ifndef IMGDEX_BPE_H
#define IMGDEX_BPE_H

#include "base/base.h"

#define CLIP_CONTEXT 77

typedef struct bpe_vocab bpe_vocab;

/* One of: OpenAI's bpe_simple_vocab_16e6.txt.gz (or the same uncompressed),
 * a Hugging Face tokenizer.json, or a vocab.json (merges.txt beside it). */
bpe_vocab *bpe_load(const char *path, ierr *e);
/* Hugging Face's pair of files. */
bpe_vocab *bpe_load_hf(const char *vocab_json, const char *merges_txt, ierr *e);
/* A checkpoint directory: tokenizer.json, else vocab.json + merges.txt. */
bpe_vocab *bpe_load_dir(const char *dir, ierr *e);
void bpe_free(bpe_vocab *v);

int bpe_vocab_size(const bpe_vocab *v);
int bpe_sot(const bpe_vocab *v);   /* <|startoftext|>, 49406 for CLIP */
int bpe_eot(const bpe_vocab *v);   /* <|endoftext|>, 49407 */

/* The BPE ids of text (cleaned and split as above, no start/end tokens).
 * Writes at most max ids; returns how many there are in all. */
int bpe_encode(bpe_vocab *v, const char *text, int *ids, int max);
/* CLIP's tokenize(): SOT, the ids, EOT, truncated to ctx keeping EOT last,
 * zero padded up to ctx.  Returns the length up to and including EOT. */
int bpe_tokenize(bpe_vocab *v, const char *text, int *ids, int ctx);
/* The cleaned, lower-cased text the pre-split sees (for tests); caller frees. */
char *bpe_clean(const char *text);

#endif
