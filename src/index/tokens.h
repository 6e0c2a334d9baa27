/* tokens.h — descriptions become searchable words.
 *
 * Lemmatised English tokens (WordNet morphology: plurals, verb forms,
 * irregular forms) from labels, captions, OCR text, colours and attributes,
 * expanded with WordNet synonyms and hypernyms ("dog" also indexes "canine",
 * "animal" ...) at a lower weight, stored in an FTS5 table (BM25) plus a
 * plain term table for the structured part of queries.
 */
#ifndef IMGDEX_TOKENS_H
#define IMGDEX_TOKENS_H

#include <sqlite3.h>

#include "base/base.h"
#include "describe/describe.h"

/* DDL for the token tables; executed by the catalogue on open/migration. */
const char *tokens_schema_sql(void);
/* Replace the tokens of one image (inside the caller's transaction). */
int tokens_put(sqlite3 *db, int64_t image_id, const description *ds, ierr *e);
int tokens_delete(sqlite3 *db, int64_t image_id, ierr *e);

/* Lemma of one lower-case English word ("dogs"->"dog", "mice"->"mouse",
 * "running"->"run"); writes into out. */
const char *lemma(const char *word, char *out, size_t n);

/* Words that should match a query term, with weights: the term itself 1.0,
 * synonyms ~0.9, hyponyms (things that are a kind of it: "animal" ->
 * "dog") ~0.7 decreasing with distance.  Returns count written (<= max). */
typedef struct term_match { char word[48]; float weight; } term_match;
int term_expand(const char *lemma, term_match *out, int max);
/* The list both expansions build: adds word w at weight wt to out[0..n)
 * keeping at most max distinct words, the strongest (a word already there
 * keeps its larger weight; when full, w replaces the weakest if stronger).
 * Returns the new count.  term_list_sort: strongest first, ties by word. */
int term_list_add(term_match *out, int n, int max, const char *w, float wt);
void term_list_sort(term_match *out, int n);
/* 1 when `label` is `term` or a kind of it in WordNet (dog is an animal);
 * returns the weight 0..1 of the best path, 0 when unrelated. */
float term_is_a(const char *label, const char *term);

/* ---- how the query side reads the token tables ------------------------
 *
 *   tok_fts(labels, hyper, caption, ocr, attrs)   FTS5, rowid = image id
 *       labels  lemmatised region labels, once per region (counts raise tf)
 *       hyper   WordNet synonyms and hypernyms of those labels
 *       caption lemmatised caption + clip_caption words (no stopwords)
 *       ocr     OCR words, lower case, NOT lemmatised (match them verbatim)
 *       attrs   colours, face attributes, scene words
 *   tok_terms(term, image_id, region, source, weight)  WITHOUT ROWID,
 *       primary key (term, image_id, region, source): one term lookup is a
 *       range scan; index tok_terms_best(term, source, weight DESC) gives
 *       the best rows of a term first, so the top candidates of a common
 *       term cost O(k), not O(images) (see docs/tokens.md for the queries).
 *       source is one of "label" "syn" "hyper" "caption" "ocr"
 *       "colour" "attr" "scene"; region is regions.idx (-1 = whole image);
 *       multi-word terms keep their space ("teddy bear").
 */
/* bm25() with the column weights we chose (lower is better, as in SQLite). */
#define TOKENS_BM25 "bm25(tok_fts, 4.0, 1.5, 2.0, 2.0, 1.0)"
/* Free text -> FTS5 MATCH expression of lemmatised, quoted words without
 * stopwords, joined by OR (any=1) or AND (any=0).  Returns the number of
 * words used (0: nothing searchable; out is then ""). */
int tokens_fts_query(const char *text, int any, char *out, size_t n);
/* 1 for English function words ("a", "the", "of", "with" ...). */
int token_is_stopword(const char *w);

#endif
