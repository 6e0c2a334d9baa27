/* textbag.h — captions and queries as bags of content lemmas, the text side
 * of imgdex's trained model (src/models/joint.h).
 *
 * The trainer builds its vocabulary from textbag_lemmas of the training
 * captions, and search turns a query into the same lemmas, so both sides
 * must use exactly these functions.  A lemma the model never saw backs off
 * through WordNet to lemmas it knows (textbag_backoff): synonyms first,
 * then more general words, so "puppy" lands near "dog" and "sprint" near
 * "run".
 */
#ifndef IMGDEX_TEXTBAG_H
#define IMGDEX_TEXTBAG_H

#include "base/base.h"
#include "index/tokens.h"
#include "models/joint.h"

#define TEXTBAG_WORD 48

/* Content lemmas of text in order, repeats kept: lower case; words of
 * letters, digits, inner hyphens and apostrophes; possessive "'s" dropped;
 * stop words ("a", "the", "with", ...) dropped; each word lemmatised
 * (lemma(): "dogs" -> "dog", "running" -> "run").  A hyphenated word WordNet
 * does not know ("snow-covered") gives its parts.  Returns count (<= max). */
int textbag_lemmas(const char *text, char (*out)[TEXTBAG_WORD], int max);

/* Lemmas a model knows that stand in for one it does not, with weights:
 * the words of its synsets (0.9 for the first sense, less for rarer ones),
 * else the nearest more general synsets (hypernyms of nouns and verbs,
 * "similar to" of adjectives, derivationally related words), 0.8 one step
 * up and less per step; only the nearest level that has known words is
 * returned.  known(ctx, lemma) says whether the model has a lemma.
 * Returns count (0: nothing near enough; also without WordNet). */
typedef term_match textbag_term;   /* word[TEXTBAG_WORD], weight */
int textbag_backoff(const char *lemma, int (*known)(void *ctx, const char *lemma), void *ctx,
                    textbag_term *out, int max);

/* What a bag of lemmas pools to: a known lemma at weight 1; an unknown one
 * shares weight among its back-off terms (each term weighted w^2/sum w, so
 * the stand-ins of a word count less than the word would, the more so the
 * further they are); a lemma with no back-off is counted in *unknown (may
 * be NULL).  out gets up to max entries (repeats kept); returns count.
 * The trainer encodes captions with this and search does the same with
 * queries, so both sides see the same words. */
int textbag_weigh(char (*lemmas)[TEXTBAG_WORD], int n, int (*known)(void *ctx, const char *lemma),
                  void *ctx, textbag_term *out, int max, int *unknown);

/* Text -> the model's text embedding (joint_dim floats, L2-normalised):
 * textbag_lemmas, known lemmas at weight 1, unknown ones replaced by their
 * back-off terms.  Returns the number of lemmas that counted (0: out is all
 * zeros); *unknown (may be NULL) gets the number of lemmas that found
 * nothing. */
int textbag_embed(const joint_model *m, const char *text, float *out, int *unknown);

#endif
