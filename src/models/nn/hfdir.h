/* hfdir.h — a Hugging Face model directory, as every transformer family
 * (CLIP, BLIP, SAM) opens it: the model's name is the directory's last
 * component, its shape is config.json, its weights model.safetensors. */
#ifndef IMGDEX_NN_HFDIR_H
#define IMGDEX_NN_HFDIR_H

#include <stddef.h>

#include "base/base.h"

/* "clip-vit-base-patch32" for "…/clip-vit-base-patch32/"; malloc'd. */
char *hf_dir_name(const char *dir);
/* The text of DIR/config.json (malloc'd, *len bytes) with its path left in
 * path[n] for the parser's error messages; NULL + e when unreadable. */
char *hf_dir_config(const char *dir, char *path, size_t n, size_t *len, ierr *e);

#endif
