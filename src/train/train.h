/* train.h — `imgdex train`: imgdex's own tagger and image–text joint
 * embedding (src/models/joint.h), trained in C on the feature vectors the
 * describer stores (describe/features.h) and the captions of a captioned
 * image set.
 *
 * The images of the train and dev splits are indexed like `imgdex eval`
 * does (the catalogue is the feature cache: a second run describes
 * nothing); the vocabulary comes from the TRAIN captions only; dev chooses
 * the number of epochs (early stopping on dev recall) and nothing else.
 * A run is deterministic for a seed and a thread count.
 */
#ifndef IMGDEX_TRAIN_H
#define IMGDEX_TRAIN_H

#include <stdint.h>
#include <stdio.h>

#include "base/base.h"
#include "eval/metrics.h"
#include "index/catalogue.h"

enum { TRAIN_LOSS_INFONCE, TRAIN_LOSS_HINGE };

typedef struct train_hparams {
    int dim;                 /* joint embedding length */
    int hidden;              /* image MLP hidden width (0: linear projection) */
    int word_dim;            /* word vector length */
    int batch;
    int loss;                /* TRAIN_LOSS_* */
    float lr, decay;         /* Adam(W) */
    float in_drop, hid_drop, word_drop;
    float temp;              /* InfoNCE temperature (initial when learned) */
    int learn_temp;
    float margin;            /* hinge margin */
    int patience;            /* epochs without dev improvement before stopping */
    int word_floor;          /* a lemma is a word when in >= this many train captions */
    int tag_floor;           /* a tag when in the captions of >= this many train images */
    int tag_hidden;          /* tagger hidden width (0: logistic regression) */
    int tag_epochs;          /* at most */
    float tag_lr;
    int gloss_init;          /* start word vectors from WordNet glosses (gloss.c) */
} train_hparams;

void train_hparams_default(train_hparams *h);

typedef struct train_opts {
    const char *images_dir, *captions, *split, *dev;
    const char *db;          /* catalogue to index into and read features from */
    const char *out;         /* model file to write */
    index_opts index;
    int epochs;              /* at most this many embedding epochs (0: 20); the learning
                              * rate's cosine spans them */
    uint64_t seed;
    int progress;            /* per-epoch lines on stderr */
    int no_tagger;
    int no_index;            /* use the database as it is: images not in it are left out */
    train_hparams hp;
    const char *command;     /* recorded in the model ("imgdex train ...") */
    const char *trained_on;  /* recorded ("Flickr8k ..."); default: the captions file name */
} train_opts;

typedef struct train_epoch {
    double loss;
    eval_metrics dev;        /* text -> image over the dev images */
    double seconds;
} train_epoch;

typedef struct train_report {
    int train_images, train_captions, dev_images, dev_captions;
    int missing;             /* split images not in the directory */
    int no_features;         /* indexed images without a feature vector (left out) */
    int described;           /* images the indexing step described (0 on a second run) */
    int feature_dim;
    int nwords, ntags;
    int dev_unknown;         /* dev caption lemmas that found no word, even by back-off */
    int epochs_run, best_epoch;          /* 1-based */
    train_epoch *ep;                     /* epochs_run entries */
    eval_metrics best;                   /* dev figures of the written model */
    double chance_r10;                   /* R@10 of a random order: 10 / dev images */
    double tagger_map;                   /* dev mean average precision over the tags */
    int tagger_epochs;
    double seconds_index, seconds_embed, seconds_tagger, seconds;
    double cpu_seconds;                  /* user + system CPU of training (all threads) */
    long long model_bytes;
} train_report;

void train_report_free(train_report *r);

/* Index both splits, read their features and captions, train, write o->out. */
int train_run(const train_opts *o, train_report *r, ierr *e);

/* The training itself, on data in memory (what train_run reads; tests
 * build it directly): n images of dim floats (X row-major), ncap captions,
 * caption i belonging to image cap_image[i]. */
typedef struct train_data {
    int n, dim;
    const float *X;
    int ncap;
    const int *cap_image;
    char *const *cap_text;
} train_data;

int train_fit(const train_data *tr, const train_data *dev, const char *feature_kind, const train_opts *o,
              train_report *r, ierr *e);

#endif
