/* sam_impl.h — SAM internals shared by the files of src/models/sam/ and the tests:
 * the configuration, the weights and the scratch helpers. */
#ifndef IMGDEX_SAM_IMPL_H
#define IMGDEX_SAM_IMPL_H

#include "engine/safetensors.h"
#include "models/sam/sam.h"

#define SAM_MAX_LAYERS 64
#define SAM_MAX_TOKENS 8        /* mask tokens */
#define SAM_MAX_DEPTH 8         /* layers of the IoU head */

typedef enum { SAM_GELU, SAM_RELU } sam_act;

typedef struct sam_config {
    struct {
        int hidden, out, layers, heads, channels, image, patch, mlp, window, pos_feats;
        float eps;
        int qkv_bias, abs_pos, rel_pos;
        int global[SAM_MAX_LAYERS];     /* 1 = global attention at that layer */
        sam_act act;
    } vision;
    struct {
        int hidden, image, patch, embed, mask_ch, npe;
    } prompt;
    struct {
        int hidden, mlp, layers, heads, down, nmulti, iou_depth, iou_hidden;
        float eps;
        sam_act act;
    } decoder;
} sam_config;

/* Parse a Hugging Face SamModel config.json, SamConfig's defaults for what
 * is absent.  -1 + e naming `what` on malformed or unsupported values. */
int sam_config_parse(const char *json, size_t len, const char *what, sam_config *c, ierr *e);

typedef struct sam_vit_layer {
    const float *ln1_g, *ln1_b, *qkv_w, *qkv_b, *proj_w, *proj_b, *rel_h, *rel_w;
    const float *ln2_g, *ln2_b, *fc1_w, *fc1_b, *fc2_w, *fc2_b;
    int window;                 /* 0: global attention */
} sam_vit_layer;

typedef struct sam_attn_w {
    const float *q_w, *q_b, *k_w, *k_b, *v_w, *v_b, *o_w, *o_b;
    int inner;
} sam_attn_w;

typedef struct sam_twoway_layer {
    sam_attn_w self, t2i, i2t;
    const float *ln_g[4], *ln_b[4];
    const float *fc1_w, *fc1_b, *fc2_w, *fc2_b;
} sam_twoway_layer;

typedef struct sam_mlp {
    int n, dims[SAM_MAX_DEPTH + 1];               /* n linear layers, relu between */
    const float *w[SAM_MAX_DEPTH], *b[SAM_MAX_DEPTH];
} sam_mlp;

struct sam_model {
    char *dir, *name;
    sam_config cfg;
    st_file *st;
    float **owned;
    int nowned, capowned;
    /* image encoder */
    const float *patch_w, *patch_b, *pos_embed;
    sam_vit_layer vit[SAM_MAX_LAYERS];
    const float *neck1_w, *neck_ln1_g, *neck_ln1_b, *neck2_w, *neck_ln2_g, *neck_ln2_b;
    /* prompt encoder */
    const float *gauss;                           /* 2 x pos_feats */
    const float *no_mask, *point_embed[4], *not_a_point;
    float *dense_pe;                              /* g*g x C, token-major */
    /* mask decoder */
    const float *iou_token, *mask_tokens;
    sam_twoway_layer tw[SAM_MAX_LAYERS];
    sam_attn_w final;
    const float *lnf_g, *lnf_b;
    float *up1_wt, *up2_wt;                       /* transposed: (Cout*4) x Cin */
    const float *up1_b, *upln_g, *upln_b, *up2_b;
    sam_mlp hyper[SAM_MAX_TOKENS], iou_head;
};

/* Random Fourier features of n points already in [0, 1]^2: out n x 2F. */
void sam_fourier(const sam_model *m, const double *xy, int n, float *out);

/* The resized image inside the S x S input (longer side S). */
void sam_resized_shape(int w, int h, int S, int *rw, int *rh);

/* Automatic mask generation's filters, for the tests.  Box NMS of xyxy
 * boxes (torchvision's IoU, suppress above thresh), best score first, ties
 * in input order: indices into keep, returns their count. */
int sam_box_nms(const int (*box)[4], const float *score, int n, float thresh, int *keep);
/* Fill holes (holes=1) or drop islands (0) smaller than area pixels,
 * 8-connected, in place on a w x h 0/1 mask; when every island is small
 * the largest stays.  1 when the mask changed. */
int sam_remove_small(uint8_t *m, int w, int h, int area, int holes);

/* Row-parallel helpers over the engine pool. */
void sam_act_apply(sam_act a, float *x, size_t n);

#endif
