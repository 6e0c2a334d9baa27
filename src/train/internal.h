/* internal.h — what the files of src/train/ share. */
#ifndef IMGDEX_TRAIN_INTERNAL_H
#define IMGDEX_TRAIN_INTERNAL_H

#include "index/textbag.h"
#include "train/nn.h"
#include "train/train.h"

/* Lemmas of every caption of a split, computed once. */
typedef struct lemmas {
    int ncap;
    int *off;                         /* caption i: lem[off[i] .. off[i+1]) */
    char (*lem)[TEXTBAG_WORD];
} lemmas;
void lemmas_build(const train_data *d, lemmas *l);
void lemmas_free(lemmas *l);

/* A word list with lookup. */
typedef struct vocab {
    int n;
    char **w;                         /* in index order (most frequent first) */
    int *sorted;                      /* indices sorted by word */
} vocab;
/* Lemmas in >= floor distinct units (captions, or images when per_image)
 * of the training split; tags_only keeps words WordNet knows as noun,
 * verb or adjective (when WordNet is there). */
void vocab_build(const lemmas *l, const train_data *d, int floor, int per_image, int tags_only, vocab *v);
int vocab_find(const vocab *v, const char *w);
void vocab_free(vocab *v);

/* Captions as weighted word indices (textbag_weigh against the vocabulary:
 * what search does with a query). */
typedef struct caps {
    int n;
    int *off, *word, *image;
    float *wt;
    int unknown;                      /* lemmas with no word, even by back-off */
} caps;
void caps_encode(const lemmas *l, const train_data *d, const vocab *v, caps *c);
void caps_free(caps *c);

/* Standardisation of the features: x' = (x - mean) * scale. */
void feat_stats(const train_data *d, float *mean, float *scale);
float *feat_standardise(const train_data *d, const float *mean, const float *scale);

/* The joint embedding. */
typedef struct embed_model {
    int F, D, E, V;
    mlp img;
    param words;                      /* V x E */
    dense proj;                       /* E -> D */
    param logscale;                   /* InfoNCE: log of 1/temperature */
} embed_model;

typedef struct embed_result {
    embed_model m;                    /* the best epoch's weights */
    train_epoch *ep;
    int epochs_run, best_epoch;
    eval_metrics best;
} embed_result;

/* word_init (V x word_dim, may be NULL): starting vectors; all-zero rows
 * keep the random start. */
int embed_train(const float *Xtr, const caps *ctr, int ntr, const float *Xdev, const caps *cdev, int ndev,
                int F, int V, const float *word_init, const train_opts *o, embed_result *res);

/* Word vectors from WordNet glosses (gloss.c) into the rows of out (V x E)
 * for the words WordNet has a context for, each of length norm; returns
 * how many (0 without WordNet). */
int gloss_vectors(const vocab *v, int E, uint64_t seed, float norm, float *out);
void embed_free(embed_model *m);

/* The tagger. */
typedef struct tagger_result {
    mlp net;                          /* best epoch */
    double map;
    int epochs;
} tagger_result;
int tagger_train(const float *Xtr, int ntr, const float *Ytr, const float *Xdev, int ndev, const uint8_t *Ydev,
                 int F, int T, const train_opts *o, tagger_result *res);
/* Mean over tags (columns with a positive) of average precision of the
 * scores P (n x T) against Y (n x T, 0/1). */
double mean_average_precision(const float *P, const uint8_t *Y, int n, int T);

/* Ranks of each caption's image among n images by cosine (S = T I^T),
 * ties counted half; into ranks (ncap). */
void rank_captions(const float *Temb, int ncap, const int *cap_image, const float *Iemb, int n, int D,
                   double *ranks);

#endif
