/* hfdir.h — a Hugging Face model directory, as every transformer family
 * (CLIP, BLIP, SAM) opens it: the model's name is the directory's last
 * component, its shape is config.json, its weights model.safetensors. */
#ifndef IMGDEX_NN_HFDIR_H
#define IMGDEX_NN_HFDIR_H

#include <stddef.h>

#include "base/base.h"
#include "engine/safetensors.h"

/* "clip-vit-base-patch32" for "…/clip-vit-base-patch32/"; malloc'd. */
char *hf_dir_name(const char *dir);
/* The text of DIR/config.json (malloc'd, *len bytes) with its path left in
 * path[n] for the parser's error messages; NULL + e when unreadable. */
char *hf_dir_config(const char *dir, char *path, size_t n, size_t *len, ierr *e);

/* DIR/model.safetensors, mapped.  float32 tensors are used in place; f16
 * and bf16 ones are converted once and kept in `owned` until close. */
typedef struct hf_weights {
    st_file *st;
    float **owned;
    int nowned, capowned;
    int failed;   /* a tensor was missing or mis-shaped; e says which */
} hf_weights;

int hf_weights_open(hf_weights *w, const char *dir, ierr *e);
/* The tensor `name` of exactly this shape (ndim entries), as float32.  A
 * failure sets w->failed and e, and every later call returns NULL, so a
 * loader binds all its tensors and checks w->failed once at the end. */
const float *hf_tensor(hf_weights *w, const char *name, int ndim, const long long *shape, ierr *e);
/* Hands a loader's own derived buffer (say a transposed weight) to w, to be
 * freed with the rest at close. */
void hf_weights_own(hf_weights *w, float *p);
void hf_weights_close(hf_weights *w);

/* Where the model to use lives: $env when set, else the first installed
 * registry entry of `task` whose name starts with `prefix` (the registry
 * lists them smallest first).  0, or -1 + e naming what to fetch. */
int hf_default_dir(const char *env, const char *task, const char *prefix, const char *fetch_hint,
                   char *out, size_t n, ierr *e);

#endif
