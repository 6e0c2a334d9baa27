/* sam_impl.h — SAM internals shared by the files of src/models/sam/ and the tests:
 * the configuration, the weights and the scratch helpers. */
#ifndef IMGDEX_SAM_IMPL_H
#define IMGDEX_SAM_IMPL_H

#include "engine/safetensors.h"
#include "models/nn/blocks.h"
#include "models/nn/hfdir.h"
#include "models/sam/sam.h"

#define SAM_MAX_LAYERS 64
#define SAM_MAX_TOKENS 8        /* mask tokens */
#define SAM_MAX_DEPTH 8         /* layers of the IoU head */

typedef struct sam_config {
    struct {
        int hidden, out, layers, heads, channels, image, patch, mlp, window, pos_feats;
        float eps;
        int qkv_bias, abs_pos, rel_pos;
        int global[SAM_MAX_LAYERS];     /* 1 = global attention at that layer */
        nn_act act;
    } vision;
    struct {
        int hidden, image, patch, embed, mask_ch, npe;
    } prompt;
    struct {
        int hidden, mlp, layers, heads, down, nmulti, iou_depth, iou_hidden;
        float eps;
        nn_act act;
    } decoder;
} sam_config;

/* Parse a Hugging Face SamModel config.json, SamConfig's defaults for what
 * is absent.  -1 + e naming `what` on malformed or unsupported values. */
int sam_config_parse(const char *json, size_t len, const char *what, sam_config *c, ierr *e);

typedef struct sam_vit_layer {
    nn_norm ln1, ln2;
    nn_attn attn;               /* fused qkv */
    const float *rel_h, *rel_w; /* (2 side - 1) x head size, or NULL */
    nn_mlp mlp;
    int window;                 /* 0: global attention */
} sam_vit_layer;

typedef struct sam_twoway_layer {
    nn_attn self, t2i, i2t;
    nn_norm ln[4];
    nn_mlp mlp;
} sam_twoway_layer;

typedef struct sam_mlp {
    int n, dims[SAM_MAX_DEPTH + 1];               /* n linear layers, relu between */
    const float *w[SAM_MAX_DEPTH], *b[SAM_MAX_DEPTH];
} sam_mlp;

struct sam_model {
    char *dir, *name;
    sam_config cfg;
    hf_weights w;
    /* image encoder */
    const float *patch_w, *patch_b, *pos_embed;
    sam_vit_layer vit[SAM_MAX_LAYERS];
    const float *neck1_w, *neck2_w;
    nn_norm neck_ln1, neck_ln2;
    /* prompt encoder */
    const float *gauss;                           /* 2 x pos_feats */
    const float *no_mask, *point_embed[4], *not_a_point;
    float *dense_pe;                              /* g*g x C, token-major */
    /* mask decoder */
    const float *iou_token, *mask_tokens;
    sam_twoway_layer tw[SAM_MAX_LAYERS];
    nn_attn final;
    nn_norm lnf;
    float *up1_wt, *up2_wt;                       /* transposed: (Cout*4) x Cin */
    const float *up1_b, *up2_b;
    nn_norm upln;
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

/* An activation spread over the engine pool (the image encoder's MLP
 * activates 12 M values a layer). */
void sam_act_parallel(nn_act a, float *x, size_t n);

#endif
