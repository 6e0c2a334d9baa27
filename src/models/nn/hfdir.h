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

/* The start every loader shares: *dir_out and *name_out set (malloc'd, for
 * the loader's close to free), DIR/config.json handed to parse (which fills
 * the family's own config and names the file in its errors), then the
 * weights mapped into w.  0, or -1 + e. */
typedef int (*hf_config_parse)(const char *json, size_t len, const char *path, void *cfg, ierr *e);
int hf_dir_open(const char *dir, char **dir_out, char **name_out, hf_config_parse parse, void *cfg,
                hf_weights *w, ierr *e);

/* Where the model to use lives: $env when set, else the first installed
 * registry entry of `task` whose name starts with `prefix` (the registry
 * lists them smallest first).  0, or -1 + e naming what to fetch. */
int hf_default_dir(const char *env, const char *task, const char *prefix, const char *fetch_hint,
                   char *out, size_t n, ierr *e);

#endif
