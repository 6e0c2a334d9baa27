/* vocab.h — the zero-shot vocabulary of the CLIP stage (vocab.c). */
#ifndef IMGDEX_DESCRIBE_VOCAB_H
#define IMGDEX_DESCRIBE_VOCAB_H

typedef struct vocab_group {
    const char *name;              /* "object" "scene" "activity" "attribute" (desc_tag.group) */
    const char *const *labels;
    int nlabels;
    const char *const *templates;  /* printf formats with one %s */
    int ntemplates;
    float min_prob;                /* keep a label when its softmax share passes this */
} vocab_group;

#define VOCAB_NGROUPS 4
extern const vocab_group vocab_groups[VOCAB_NGROUPS];
/* Fills the object labels; call before reading vocab_groups (idempotent, thread-safe). */
void vocab_init(void);

#endif
