/* joint.h — imgdex's own trained model: a tagger and an image–text joint
 * embedding over the image features the describer computes
 * (src/describe/features.h), trained by `imgdex train` (src/train/).
 *
 * The model knows nothing of WordNet or lemmatisation (those live after it,
 * in src/index/): callers hand it lemmas, and do their own back-off for a
 * lemma it does not know (synonyms, then hypernyms) with joint_word_index.
 *
 * One file holds everything (weights, vocabulary, the feature kind it was
 * trained on, what it was trained on); the format is documented in
 * docs/models.md and written by joint_save.
 */
#ifndef IMGDEX_MODELS_JOINT_H
#define IMGDEX_MODELS_JOINT_H

#include "base/base.h"

typedef struct joint_model joint_model;

/* path NULL: the default model (IMGDEX_JOINT if set, else the installed
 * shipped model).  NULL + e when missing or malformed (e names the file). */
joint_model *joint_open(const char *path, ierr *e);
void joint_close(joint_model *m);

/* "flickr8k-joint@1a2b3c4d": name and the first 8 hex digits of the file's
 * SHA-256; goes into the describer version and the embeddings table. */
const char *joint_id(const joint_model *m);
/* The feature kind the model expects ("features/1") and its length. */
const char *joint_feature_kind(const joint_model *m);
int joint_feature_dim(const joint_model *m);
/* Length of the joint embedding. */
int joint_dim(const joint_model *m);

/* Image side: feat has joint_feature_dim floats; out gets joint_dim floats,
 * L2-normalised. */
void joint_embed_image(const joint_model *m, const float *feat, float *out);

/* Text side: the vector of a bag of lemmas (weights may be NULL = 1 each).
 * Lemmas the model does not know are ignored; returns how many were known
 * (0: out is all zeros).  out is L2-normalised when the return is > 0. */
int joint_embed_lemmas(const joint_model *m, const char *const *lemmas, const float *weights, int n,
                       float *out);
/* Index of a lemma in the text vocabulary, -1 when unknown. */
int joint_word_index(const joint_model *m, const char *lemma);

/* Tagger: P(tag | image) for every tag of the model's tag vocabulary. */
int joint_ntags(const joint_model *m);
const char *joint_tag_word(const joint_model *m, int i);
int joint_tag_index(const joint_model *m, const char *lemma);
void joint_tag_probs(const joint_model *m, const float *feat, float *probs);

/* The text vocabulary (what joint_word_index indexes). */
int joint_nwords(const joint_model *m);
const char *joint_word(const joint_model *m, int i);
/* A string of the file's metadata ("trained_on", "dev", "licence", ...;
 * docs/models.md lists them); NULL when absent. */
const char *joint_meta(const joint_model *m, const char *key);
const char *joint_path(const joint_model *m);

/* ---- writing a model (the trainer, tests) ------------------------------
 *
 * The network, as joint_embed_* and joint_tag_probs compute it:
 *   x  = (feat - feat_mean) * feat_scale                 standardised features
 *   image: h_0 = x, h_{l+1} = W_l h_l + b_l, ReLU between layers (not after
 *          the last), out = h_L / |h_L|                  (sizes image_sizes[0..L])
 *   text:  p = sum_i w_i V[word_i] / sum_i w_i           mean of word vectors
 *          t = text_w p + text_b (when text_w), out = t / |t|
 *   tagger: same layer stack as the image side on x, then a sigmoid.
 * Weight matrices are row-major [out][in]. */
#define JOINT_MAX_LAYERS 4
typedef struct joint_spec {
    const char *name;                    /* "flickr8k-joint" */
    const char *feature_kind;            /* "features/1" */
    int feature_dim, dim;
    const float *feat_mean, *feat_scale; /* feature_dim each */
    int image_layers;                    /* 1..JOINT_MAX_LAYERS */
    int image_sizes[JOINT_MAX_LAYERS + 1]; /* [0] = feature_dim, [layers] = dim */
    const float *image_w[JOINT_MAX_LAYERS], *image_b[JOINT_MAX_LAYERS];
    int nwords, word_dim;
    const char *const *words;            /* lemmas, distinct, no newline */
    const float *word_vecs;              /* nwords x word_dim */
    const float *text_w, *text_b;        /* dim x word_dim and dim, or NULL (then word_dim == dim) */
    int ntags;
    const char *const *tags;
    int tagger_layers;                   /* 0: no tagger */
    int tagger_sizes[JOINT_MAX_LAYERS + 1]; /* [0] = feature_dim, [layers] = ntags */
    const float *tagger_w[JOINT_MAX_LAYERS], *tagger_b[JOINT_MAX_LAYERS];
    /* Provenance, stored as metadata strings (trained_on, split, epochs,
     * seed, dev, licence, ...). */
    const char *const *meta_keys, *const *meta_vals;
    int nmeta;
    int f32;                             /* 1: store float32 (default half) */
} joint_spec;

/* Write the model file (safetensors; format in docs/models.md). */
int joint_save(const char *path, const joint_spec *s, ierr *e);

#endif
