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

#endif
