/* wordnet.h — read-only access to the WordNet 3.0 database files of Debian's
 * `wordnet-base` (/usr/share/wordnet, or $IMGDEX_WORDNET).
 *
 * The files are mmapped on first use and searched in place: index.<pos> is
 * sorted, so a lemma is a binary search over lines; a synset is one line of
 * data.<pos> at a byte offset.  Nothing is parsed up front, so the first
 * call costs only the mmap (well under a millisecond warm).
 *
 * Internal to src/index/ (tokens.c, lemma.c); other modules use tokens.h.
 */
#ifndef IMGDEX_WORDNET_H
#define IMGDEX_WORDNET_H

#include <stddef.h>
#include <stdint.h>

/* 1 when the database files could be opened (cached after the first call). */
int wn_available(void);

/* 1 when `word` (lower case, spaces or underscores) is a lemma of part of
 * speech pos ('n' noun, 'v' verb, 'a' adjective, 'r' adverb). */
int wn_in_index(const char *word, char pos);

/* Base form of an irregular inflection from <pos>.exc ("mice" -> "mouse"),
 * 1 when listed. */
int wn_exception(const char *word, char pos, char *out, size_t n);

/* Noun synset offsets of word, most frequent sense first; returns count. */
int wn_noun_senses(const char *word, uint32_t *off, int max);

/* Synset offsets of word as part of speech pos ('n', 'v', 'a'), most
 * frequent sense first; the offsets index data.<pos>.  Returns count. */
int wn_senses(const char *word, char pos, uint32_t *off, int max);
/* The words of a synset of data.<pos>. */
int wn_synset_words_pos(uint32_t off, char pos, char words[][48], int max);
/* Pointers of a synset whose symbol is one of `symbols` (comma separated,
 * WordNet's: "@" hypernym, "@i" instance hypernym, "&" similar to, "+"
 * derivationally related, ...); out gets the target offsets and opos (may
 * be NULL) their part of speech ('s' satellites as 'a').  Returns count. */
int wn_pointers(uint32_t off, char pos, const char *symbols, uint32_t *out, char *opos, int max);

/* The gloss (definition and examples) of a synset of data.<pos> into out;
 * returns its length (0 when the offset is not a synset). */
int wn_gloss(uint32_t off, char pos, char *out, size_t n);

/* Synset of a vocabulary word in the sense imgdex means (COCO "mouse" is the
 * computer mouse, "kite" the toy); falls back to the first noun sense.
 * 0 when the word is not a noun. */
uint32_t wn_vocab_sense(const char *word);

/* The words of a noun synset (underscores turned into spaces). */
int wn_synset_words(uint32_t off, char words[][48], int max);

/* Hypernym distance from synset `from` up to synset `to` (0 = same),
 * -1 when `to` is not an ancestor within max_depth. */
int wn_hyper_distance(uint32_t from, uint32_t to, int max_depth);

/* Ancestors of a synset, breadth first, with their distance (1 = parent);
 * returns count.  Unless all, ones too abstract to describe a photo
 * ("entity", "physical entity", "object", "whole", "artifact") are left out. */
int wn_hypernyms(uint32_t off, uint32_t *anc, int *dist, int max, int all);
int wn_too_abstract(uint32_t off);

/* The vocabulary imgdex describes images with: COCO-80 labels and common
 * photo words (NULL-terminated). */
const char *const *wn_vocabulary(void);

/* A hash of the vocabulary table, the installed data.noun (size, mtime)
 * and `extra`: a cache computed from them is valid while it is unchanged. */
uint64_t wn_cache_key(const char *extra);

/* Synonyms (dist 0) and hypernyms (dist >= 1) of a region label in its
 * vocabulary sense, with the weights of expand.c; cached per label. */
#define WN_LABEL_MAX 40
typedef struct wn_term { char word[48]; float weight; int dist; } wn_term;
int wn_label_terms(const char *label, wn_term *out, int max);

#endif
