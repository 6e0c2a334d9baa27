/* tfjs_ops.c — the TensorFlow op names a tfjs graph model may contain, and
 * how each maps onto the engine's ops (ops.h).  The table is the op set the
 * engine supports; tfjs_op_prepare rejects anything else at load time with
 * the op's name, so a model never fails half-way through a run. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tfjs_impl.h"

enum {
    K_CONST, K_PLACEHOLDER, K_IDENTITY, K_CONV, K_DWCONV, K_TCONV, K_MATMUL, K_BIASADD,
    K_BINARY, K_UNARY, K_LEAKY, K_PRELU, K_ADDN, K_CAST, K_MAXPOOL, K_AVGPOOL, K_RESIZE_BI,
    K_RESIZE_NN, K_CONCAT, K_RESHAPE, K_SQUEEZE, K_EXPAND, K_TRANSPOSE, K_STRIDED, K_SLICE,
    K_PAD, K_GATHER, K_TILE, K_REDUCE, K_SOFTMAX, K_TOPK, K_ARGMAX, K_SHAPE, K_PACK, K_FILL,
};

typedef struct opdef {
    const char *name;
    int kind;
    int arg;        /* binop / unop / redop, or a flag */
    int nout;
} opdef;

static const opdef OPS[] = {
    {"Const", K_CONST, 0, 1}, {"Placeholder", K_PLACEHOLDER, 0, 1},
    {"Identity", K_IDENTITY, 0, 1}, {"StopGradient", K_IDENTITY, 0, 1},
    {"_FusedConv2D", K_CONV, 1, 1}, {"Conv2D", K_CONV, 0, 1},
    {"FusedDepthwiseConv2dNative", K_DWCONV, 1, 1}, {"DepthwiseConv2dNative", K_DWCONV, 0, 1},
    {"DepthwiseConv2d", K_DWCONV, 0, 1},
    {"Conv2DBackpropInput", K_TCONV, 0, 1},
    {"_FusedMatMul", K_MATMUL, 1, 1}, {"MatMul", K_MATMUL, 0, 1},
    {"BiasAdd", K_BIASADD, 0, 1},
    {"Add", K_BINARY, BIN_ADD, 1}, {"AddV2", K_BINARY, BIN_ADD, 1},
    {"Sub", K_BINARY, BIN_SUB, 1}, {"Mul", K_BINARY, BIN_MUL, 1},
    {"RealDiv", K_BINARY, BIN_DIV, 1}, {"Div", K_BINARY, BIN_DIV, 1},
    {"FloorDiv", K_BINARY, BIN_FLOORDIV, 1}, {"FloorMod", K_BINARY, BIN_FLOORMOD, 1},
    {"Maximum", K_BINARY, BIN_MAX, 1}, {"Minimum", K_BINARY, BIN_MIN, 1},
    {"Pow", K_BINARY, BIN_POW, 1}, {"SquaredDifference", K_BINARY, BIN_SQDIFF, 1},
    {"Equal", K_BINARY, BIN_EQUAL, 1}, {"NotEqual", K_BINARY, BIN_NOTEQUAL, 1},
    {"Less", K_BINARY, BIN_LESS, 1}, {"LessEqual", K_BINARY, BIN_LESSEQ, 1},
    {"Greater", K_BINARY, BIN_GREATER, 1}, {"GreaterEqual", K_BINARY, BIN_GREATEREQ, 1},
    {"LogicalAnd", K_BINARY, BIN_AND, 1}, {"LogicalOr", K_BINARY, BIN_OR, 1},
    {"Relu", K_UNARY, UN_RELU, 1}, {"Relu6", K_UNARY, UN_RELU6, 1},
    {"Sigmoid", K_UNARY, UN_SIGMOID, 1}, {"Tanh", K_UNARY, UN_TANH, 1},
    {"Elu", K_UNARY, UN_ELU, 1}, {"Exp", K_UNARY, UN_EXP, 1}, {"Log", K_UNARY, UN_LOG, 1},
    {"Sqrt", K_UNARY, UN_SQRT, 1}, {"Rsqrt", K_UNARY, UN_RSQRT, 1}, {"Neg", K_UNARY, UN_NEG, 1},
    {"Abs", K_UNARY, UN_ABS, 1}, {"Square", K_UNARY, UN_SQUARE, 1},
    {"Floor", K_UNARY, UN_FLOOR, 1}, {"Ceil", K_UNARY, UN_CEIL, 1}, {"Round", K_UNARY, UN_ROUND, 1},
    {"Reciprocal", K_UNARY, UN_RECIP, 1}, {"Softplus", K_UNARY, UN_SOFTPLUS, 1},
    {"LeakyRelu", K_LEAKY, 0, 1}, {"Prelu", K_PRELU, 0, 1},
    {"AddN", K_ADDN, 0, 1}, {"Cast", K_CAST, 0, 1},
    {"MaxPool", K_MAXPOOL, 0, 1}, {"AvgPool", K_AVGPOOL, 0, 1},
    {"ResizeBilinear", K_RESIZE_BI, 0, 1}, {"ResizeNearestNeighbor", K_RESIZE_NN, 0, 1},
    {"ConcatV2", K_CONCAT, 0, 1}, {"Concat", K_CONCAT, 1, 1},
    {"Reshape", K_RESHAPE, 0, 1}, {"Squeeze", K_SQUEEZE, 0, 1}, {"ExpandDims", K_EXPAND, 0, 1},
    {"Transpose", K_TRANSPOSE, 0, 1}, {"StridedSlice", K_STRIDED, 0, 1}, {"Slice", K_SLICE, 0, 1},
    {"Pad", K_PAD, 0, 1}, {"PadV2", K_PAD, 1, 1},
    {"GatherV2", K_GATHER, 0, 1}, {"Gather", K_GATHER, 1, 1}, {"Tile", K_TILE, 0, 1},
    {"Mean", K_REDUCE, RED_MEAN, 1}, {"Sum", K_REDUCE, RED_SUM, 1}, {"Max", K_REDUCE, RED_MAX, 1},
    {"Min", K_REDUCE, RED_MIN, 1}, {"Prod", K_REDUCE, RED_PROD, 1},
    {"Softmax", K_SOFTMAX, 0, 1}, {"TopKV2", K_TOPK, 0, 2}, {"ArgMax", K_ARGMAX, 0, 1},
    {"HardSwish", K_LEAKY, 0, 1},   /* made by tfjs_fuse; alpha = its scale */
    {"Shape", K_SHAPE, 0, 1}, {"Pack", K_PACK, 0, 1}, {"Fill", K_FILL, 0, 1},
    {NULL, 0, 0, 0},
};

static const opdef *lookup(const char *op)
{
    for (const opdef *d = OPS; d->name; d++)
        if (!strcmp(d->name, op)) return d;
    return NULL;
}

static int min_inputs(int kind)
{
    switch (kind) {
    case K_CONST: case K_PLACEHOLDER: return 0;
    case K_IDENTITY: case K_UNARY: case K_LEAKY: case K_CAST: case K_MAXPOOL: case K_AVGPOOL:
    case K_SQUEEZE: case K_SOFTMAX: case K_SHAPE: case K_ADDN: case K_PACK: return 1;
    case K_TCONV: case K_STRIDED: return kind == K_TCONV ? 3 : 4;
    case K_SLICE: case K_GATHER: return 3;
    default: return 2;
    }
}

int tfjs_op_prepare(tfjs_model *m, tfjs_node *n, ierr *e)
{
    const opdef *d = lookup(n->op);
    if (!d) {
        err_set(e, "%s: unsupported op '%s' (node '%s')", m->path, n->op, n->name);
        return -1;
    }
    n->kind = d->kind;
    n->nout = d->nout;
    if (d->kind == K_GATHER && d->arg) n->kind = K_GATHER;  /* Gather: axis 0, 2 inputs */
    int need = min_inputs(d->kind);
    if (d->kind == K_GATHER && d->arg) need = 2;
    if (n->nin < need) {
        err_set(e, "%s: node '%s' (%s) has %d inputs, needs %d", m->path, n->name, n->op, n->nin, need);
        return -1;
    }
    if (n->a.nchw && (d->kind == K_CONV || d->kind == K_DWCONV || d->kind == K_MAXPOOL ||
                      d->kind == K_AVGPOOL || d->kind == K_TCONV || d->kind == K_BIASADD)) {
        err_set(e, "%s: node '%s' (%s) uses NCHW, only NHWC is supported", m->path, n->name, n->op);
        return -1;
    }
    if ((d->kind == K_CONV || d->kind == K_DWCONV || d->kind == K_MATMUL) && d->arg) {
        int extra = n->nin - 2;
        int want = (n->a.fused_bias ? 1 : 0) + (n->a.act.kind == ACT_PRELU ? 1 : 0);
        if (extra < want) {
            err_set(e, "%s: node '%s' (%s) lacks inputs for its fused ops", m->path, n->name, n->op);
            return -1;
        }
    }
    return 0;
}

/* ---- fusion ------------------------------------------------------------ */

static int scalar_const(const tfjs_model *m, int id, float *v)
{
    const tfjs_node *n = &m->nodes[id];
    if (!n->is_const || !n->konst[0] || n->konst[0]->n != 1) return 0;
    *v = n->konst[0]->dtype == DT_F32 ? n->konst[0]->f[0] : (float)n->konst[0]->i[0];
    return 1;
}

static int is_bin(const tfjs_node *n, binop op)
{
    const opdef *d = lookup(n->op);
    return n->kind == K_BINARY && d && d->arg == (int)op && n->nin == 2;
}

/* For a binary node with one scalar-constant input equal to want: the
 * other input's node, else -1. */
static int other_than_const(const tfjs_model *m, const tfjs_node *n, float want)
{
    float v;
    for (int k = 0; k < 2; k++)
        if (scalar_const(m, n->in_node[k], &v) && fabsf(v - want) <= 1e-6f * fabsf(want))
            return n->in_slot[1 - k] == 0 ? n->in_node[1 - k] : -1;
    return -1;
}

/* MobileNetV3-style graphs spell hard-swish as four ops over the whole
 * activation:  Mul(Mul(x, 1/6), Relu6(Add(x, 3))).  Each is a full pass
 * over memory, so the chain is rewritten into one: the producer's epilogue
 * when x comes from a conv/matmul, else a single HardSwish op. */
void tfjs_fuse(tfjs_model *m)
{
    int nn = m->nnodes;
    int *consumers = xcalloc((size_t)nn, sizeof(int));
    for (int i = 0; i < nn; i++)
        for (int k = 0; k < m->nodes[i].nin; k++) consumers[m->nodes[i].in_node[k]]++;
    for (int k = 0; k < m->noutputs; k++) consumers[m->outputs[k]] += 1000;  /* never fold outputs away */
    /* Conv2D followed by Add of a per-channel constant: the bias, folded
     * into the conv's epilogue (Keras exports from TF1 graphs look so) */
    for (int i = 0; i < nn; i++) {
        tfjs_node *ad = &m->nodes[i];
        if (ad->is_const || !(is_bin(ad, BIN_ADD)) || ad->in_slot[0] || ad->in_slot[1]) continue;
        for (int side = 0; side < 2; side++) {
            int x = ad->in_node[side], c = ad->in_node[1 - side];
            tfjs_node *X = &m->nodes[x], *C = &m->nodes[c];
            if ((X->kind != K_CONV && X->kind != K_DWCONV) || X->is_const || consumers[x] != 1) continue;
            const opdef *d = lookup(X->op);
            if (!d || d->arg || X->a.post_bias || X->a.post_act || !C->is_const || !C->konst[0] ||
                C->konst[0]->dtype != DT_F32)
                continue;
            const tensor *w = m->nodes[X->in_node[1]].konst[0], *b = C->konst[0];
            if (!w || w->ndim != 4) continue;
            int co = X->kind == K_CONV ? w->shape[3] : w->shape[2] * w->shape[3];
            int vec = b->n == (size_t)co && b->ndim >= 1 && b->shape[b->ndim - 1] == co;
            for (int q = 0; vec && q + 1 < b->ndim; q++) vec = b->shape[q] == 1;
            if (!vec || b->ndim > 4) continue;
            X->a.post_bias = c + 1;
            free(ad->op);
            ad->op = xstrdup("Identity");
            ad->kind = K_IDENTITY;
            ad->nin = 1;
            ad->in_node[0] = x;
            break;
        }
    }
    for (int i = 0; i < nn; i++) {
        tfjs_node *m2 = &m->nodes[i];
        if (m2->is_const || !is_bin(m2, BIN_MUL)) continue;
        for (int side = 0; side < 2; side++) {
            int r = m2->in_node[side], m1 = m2->in_node[1 - side];
            tfjs_node *R = &m->nodes[r], *M1 = &m->nodes[m1];
            if (R->kind != K_UNARY || strcmp(R->op, "Relu6") || !is_bin(M1, BIN_MUL)) continue;
            if (consumers[r] != 1 || consumers[m1] != 1 || R->in_slot[0] || m2->in_slot[0] || m2->in_slot[1]) continue;
            int add = R->in_node[0];
            tfjs_node *A = &m->nodes[add];
            if (!is_bin(A, BIN_ADD) || consumers[add] != 1) continue;
            int x = other_than_const(m, A, 3.0f);
            /* the 1/6 is often stored as float16 (0.16663): accept it and
             * use the stored value, so results match the unfused graph */
            int xm = -1;
            float six = 0;
            for (int k = 0; k < 2; k++)
                if (scalar_const(m, M1->in_node[k], &six) && fabsf(six - 1.0f / 6) < 1e-3f && !M1->in_slot[1 - k])
                    xm = M1->in_node[1 - k];
            if (x < 0 || xm != x) continue;
            tfjs_node *X = &m->nodes[x];
            int conv = (X->kind == K_CONV || X->kind == K_DWCONV || X->kind == K_MATMUL) &&
                       X->a.act.kind == ACT_NONE && !X->a.post_act && consumers[x] == 2;
            free(m2->op);
            m2->nin = 1;
            m2->in_node[0] = x;
            m2->in_slot[0] = 0;
            if (conv) {
                X->a.post_act = ACT_HSWISH;
                X->a.post_alpha = six;
                m2->op = xstrdup("Identity");
                m2->kind = K_IDENTITY;
            } else {
                m2->op = xstrdup("HardSwish");
                m2->kind = K_LEAKY;      /* the act_spec path, see K_LEAKY */
                m2->a.alpha = six;
            }
            consumers[x] -= 1;   /* A and M1 drop out, m2 now reads x */
            break;
        }
    }
    free(consumers);
}

int tfjs_op_is_view(const tfjs_node *n)
{
    return n->kind == K_IDENTITY || n->kind == K_RESHAPE || n->kind == K_SQUEEZE ||
           n->kind == K_EXPAND;
}

/* an int vector from a (small) i32 or f32 tensor; a float outside int
 * range (or NaN) becomes one the callers' shape and axis checks refuse,
 * not an undefined conversion (found by fuzz_tfjs) */
static int ivec(const tensor *t, int *out, int max)
{
    int k = 0;
    for (size_t q = 0; q < t->n && k < max; q++) {
        float f = t->dtype == DT_I32 ? 0 : t->f[q];
        out[k++] = t->dtype == DT_I32 ? t->i[q] : tensor_i32_of(f);
    }
    return k;
}

static int ival(const tensor *t)
{
    int v = 0;
    ivec(t, &v, 1);
    return v;
}

int tfjs_op_view_shape(const tfjs_node *n, tensor *const *in, int *shape, ierr *e)
{
    int nd = 0, x = in[0]->ndim;
    if (n->kind == K_IDENTITY) {
        memcpy(shape, in[0]->shape, sizeof(int) * (size_t)x);
        return x;
    }
    if (n->kind == K_RESHAPE) {
        if (in[1]->n > TENSOR_MAXDIM) { err_set(e, "Reshape: more than %d dims", TENSOR_MAXDIM); return -1; }
        return ivec(in[1], shape, TENSOR_MAXDIM);
    }
    if (n->kind == K_EXPAND) {
        int ax = ival(in[1]);
        if (ax < 0) ax += x + 1;
        if (ax < 0 || ax > x || x >= TENSOR_MAXDIM) { err_set(e, "ExpandDims: axis out of range"); return -1; }
        for (int k = 0; k < x; k++) {
            if (k == ax) shape[nd++] = 1;
            shape[nd++] = in[0]->shape[k];
        }
        if (ax == x) shape[nd++] = 1;
        return nd;
    }
    for (int k = 0; k < x; k++) {   /* Squeeze */
        int drop = 0;
        for (int q = 0; q < n->a.nsqueeze; q++)
            if (n->a.squeeze_dims[q] == k || n->a.squeeze_dims[q] + x == k) drop = 1;
        if (!n->a.nsqueeze) drop = in[0]->shape[k] == 1;
        if (!drop) shape[nd++] = in[0]->shape[k];
    }
    return nd;
}

static const float *fdata(const tensor *t) { return t->dtype == DT_F32 ? t->f : NULL; }

static conv_spec spec_of(const tfjs_attrs *a)
{
    conv_spec s = {a->strides[1], a->strides[2], a->dilations[1], a->dilations[2], a->padding,
                   a->explicit_pads[2], a->explicit_pads[3], a->explicit_pads[4], a->explicit_pads[5]};
    return s;
}

static int need_f32(const tfjs_node *n, const tensor *t, ierr *e)
{
    if (t->dtype == DT_F32) return 0;
    err_set(e, "%s expects a float32 tensor", n->op);
    return -1;
}

int tfjs_op_run(tfjs_model *m, tfjs_node *n, tensor *const *in, tensor **out, ierr *e)
{
    const tfjs_attrs *a = &n->a;
    tensor *y = NULL;
    const opdef *d = lookup(n->op);
    int arg = d ? d->arg : 0;
    switch (n->kind) {
    case K_CONST:
    case K_PLACEHOLDER:
        err_set(e, "%s has no value", n->op);
        return -1;
    case K_IDENTITY:
        y = tensor_clone(in[0]);
        break;
    case K_CONV:
    case K_DWCONV:
    case K_MATMUL: {
        if (need_f32(n, in[0], e) || need_f32(n, in[1], e)) return -1;
        const float *bias = NULL;
        act_spec act = {ACT_NONE, 0, NULL};
        int next = 2;
        if (a->post_bias) bias = m->nodes[a->post_bias - 1].konst[0]->f;
        if (a->post_act) {
            act.kind = (act_kind)a->post_act;
            act.alpha = a->post_alpha;
        }
        if (arg) {
            if (a->act.kind != ACT_NONE) act = a->act;
            if (a->fused_bias) bias = fdata(in[next++]);
            if (act.kind == ACT_PRELU) act.slope = fdata(in[next++]);
        }
        int co = n->kind == K_MATMUL ? (a->transpose_b ? in[1]->shape[0] : in[1]->shape[1])
                 : n->kind == K_CONV ? in[1]->shape[3] : in[1]->shape[2] * in[1]->shape[3];
        if ((bias && arg && a->fused_bias && (size_t)co != in[2]->n) || (arg && a->fused_bias && !bias)) {
            err_set(e, "%s: bias has %zu values for %d channels", n->op, in[2]->n, co);
            return -1;
        }
        if (act.kind == ACT_PRELU && (!act.slope || in[next - 1]->n != (size_t)co)) {
            err_set(e, "%s: prelu slope does not match %d channels", n->op, co);
            return -1;
        }
        conv_spec s = spec_of(a);
        if (n->kind == K_CONV) y = op_conv2d(in[0], in[1], bias, &act, &s, e);
        else if (n->kind == K_DWCONV) y = op_depthwise(in[0], in[1], bias, &act, &s, e);
        else y = op_matmul(in[0], in[1], a->transpose_a, a->transpose_b, bias, &act, e);
        break;
    }
    case K_TCONV: {
        int os[4] = {0};
        if (ivec(in[0], os, 4) != 4 || need_f32(n, in[1], e) || need_f32(n, in[2], e)) {
            if (!e->set) err_set(e, "Conv2DBackpropInput: input_sizes must have 4 values");
            return -1;
        }
        conv_spec s = spec_of(a);
        y = op_conv2d_transpose(in[2], in[1], os, &s, e);
        break;
    }
    case K_BIASADD: {
        if (need_f32(n, in[0], e) || need_f32(n, in[1], e)) return -1;
        int c = in[0]->ndim ? in[0]->shape[in[0]->ndim - 1] : 1;
        if (in[1]->n != (size_t)c) { err_set(e, "BiasAdd: bias size %zu != channels %d", in[1]->n, c); return -1; }
        y = tensor_clone(in[0]);
        act_bias_rows(y->f, (long)(y->n / (size_t)(c ? c : 1)), c, in[1]->f, NULL);
        break;
    }
    case K_BINARY:
        y = op_binary(in[0], in[1], (binop)arg, e);
        break;
    case K_UNARY:
        y = op_unary(in[0], (unop)arg, e);
        break;
    case K_LEAKY:
    case K_PRELU: {
        if (need_f32(n, in[0], e)) return -1;
        int c = in[0]->ndim ? in[0]->shape[in[0]->ndim - 1] : 1;
        act_spec act = {n->kind == K_LEAKY ? ACT_LEAKY : ACT_PRELU, a->alpha, NULL};
        if (!strcmp(n->op, "HardSwish")) act.kind = ACT_HSWISH;
        if (n->kind == K_PRELU) {
            if (in[1]->dtype != DT_F32 || in[1]->n != (size_t)c) {
                err_set(e, "Prelu: alpha must have one value per channel (%d)", c);
                return -1;
            }
            act.slope = in[1]->f;
        }
        y = tensor_clone(in[0]);
        act_bias_rows(y->f, (long)(y->n / (size_t)(c ? c : 1)), c, NULL, &act);
        break;
    }
    case K_ADDN:
        y = op_addn((const tensor *const *)in, n->nin, e);
        break;
    case K_CAST:
        y = op_cast(in[0], a->dst);
        break;
    case K_MAXPOOL:
    case K_AVGPOOL: {
        if (need_f32(n, in[0], e)) return -1;
        conv_spec s = spec_of(a);
        y = op_pool(in[0], a->ksize[1], a->ksize[2], &s, n->kind == K_MAXPOOL, e);
        break;
    }
    case K_RESIZE_BI:
    case K_RESIZE_NN: {
        int sz[2] = {0, 0};
        if (ivec(in[1], sz, 2) != 2) { err_set(e, "%s: size must have 2 values", n->op); return -1; }
        y = n->kind == K_RESIZE_BI ? op_resize_bilinear(in[0], sz[0], sz[1], a->align_corners, a->half_pixel, e)
                                   : op_resize_nearest(in[0], sz[0], sz[1], a->align_corners, a->half_pixel, e);
        break;
    }
    case K_CONCAT: {
        /* ConcatV2: values..., axis;  Concat: axis, values... */
        int axis = arg ? ival(in[0]) : ival(in[n->nin - 1]);
        const tensor *const *xs = (const tensor *const *)(arg ? in + 1 : in);
        y = op_concat(xs, n->nin - 1, axis, e);
        break;
    }
    case K_RESHAPE:
    case K_SQUEEZE:
    case K_EXPAND: {
        int shape[TENSOR_MAXDIM] = {0}, nd = tfjs_op_view_shape(n, in, shape, e);
        if (nd < 0) return -1;
        y = op_reshape(in[0], nd, shape, e);
        break;
    }
    case K_TRANSPOSE: {
        int perm[TENSOR_MAXDIM];
        if ((int)in[1]->n != in[0]->ndim) { err_set(e, "Transpose: perm has %zu entries for %d dims", in[1]->n, in[0]->ndim); return -1; }
        ivec(in[1], perm, TENSOR_MAXDIM);
        y = op_transpose(in[0], perm, e);
        break;
    }
    case K_STRIDED: {
        int b[16], en[16], st[16];
        int nb = ivec(in[1], b, 16);
        if (ivec(in[2], en, 16) != nb || ivec(in[3], st, 16) != nb) {
            err_set(e, "StridedSlice: begin/end/strides differ in length");
            return -1;
        }
        y = op_strided_slice(in[0], b, en, st, nb, a->begin_mask, a->end_mask, a->ellipsis_mask,
                             a->new_axis_mask, a->shrink_mask, e);
        break;
    }
    case K_SLICE: {
        int b[TENSOR_MAXDIM], sz[TENSOR_MAXDIM];
        if (ivec(in[1], b, TENSOR_MAXDIM) != in[0]->ndim || ivec(in[2], sz, TENSOR_MAXDIM) != in[0]->ndim) {
            err_set(e, "Slice: begin/size do not match rank %d", in[0]->ndim);
            return -1;
        }
        y = op_slice(in[0], b, sz, e);
        break;
    }
    case K_PAD: {
        int p[2 * TENSOR_MAXDIM];
        if (ivec(in[1], p, 2 * TENSOR_MAXDIM) != 2 * in[0]->ndim) {
            err_set(e, "Pad: paddings must be [%d,2]", in[0]->ndim);
            return -1;
        }
        float v = 0;
        if (arg && n->nin > 2) v = in[2]->dtype == DT_F32 ? in[2]->f[0] : (float)in[2]->i[0];
        y = op_pad(in[0], p, v, e);
        break;
    }
    case K_GATHER: {
        if (a->batch_dims != 0) { err_set(e, "GatherV2: batch_dims %d not supported", a->batch_dims); return -1; }
        int axis = (arg || n->nin < 3) ? 0 : ival(in[2]);
        y = op_gather(in[0], in[1], axis, e);
        break;
    }
    case K_TILE: {
        int r[TENSOR_MAXDIM];
        if (ivec(in[1], r, TENSOR_MAXDIM) != in[0]->ndim) { err_set(e, "Tile: multiples do not match rank"); return -1; }
        y = op_tile(in[0], r, e);
        break;
    }
    case K_REDUCE: {
        int ax[TENSOR_MAXDIM];
        if (in[1]->n > TENSOR_MAXDIM) { err_set(e, "%s: too many axes", n->op); return -1; }
        int na = ivec(in[1], ax, TENSOR_MAXDIM);
        if (na == 0) {   /* TF: empty axes = reduce nothing */
            y = tensor_clone(in[0]);
            break;
        }
        y = op_reduce(in[0], ax, na, a->keep_dims, (redop)arg, e);
        break;
    }
    case K_SOFTMAX:
        y = op_softmax(in[0], e);
        break;
    case K_TOPK:
        if (op_topk(in[0], ival(in[1]), &out[0], &out[1], e)) return -1;
        return 0;
    case K_ARGMAX:
        y = op_argmax(in[0], ival(in[1]), e);
        break;
    case K_SHAPE: {
        int s = in[0]->ndim;
        y = tensor_new(DT_I32, 1, &s);
        for (int k = 0; k < s; k++) y->i[k] = in[0]->shape[k];
        break;
    }
    case K_PACK: {
        int ax = a->axis, x = in[0]->ndim, shape[TENSOR_MAXDIM], nd = 0;
        if (ax < 0) ax += x + 1;
        if (ax < 0 || ax > x || x >= TENSOR_MAXDIM) { err_set(e, "Pack: axis out of range"); return -1; }
        tensor **parts = xmalloc(sizeof(tensor *) * (size_t)n->nin);
        for (int k = 0; k < x; k++) {
            if (k == ax) shape[nd++] = 1;
            shape[nd++] = in[0]->shape[k];
        }
        if (ax == x) shape[nd++] = 1;
        int ok = 1;
        for (int k = 0; k < n->nin; k++) {
            parts[k] = op_reshape(in[k], nd, shape, e);
            if (!parts[k]) ok = 0;
        }
        if (ok) y = op_concat((const tensor *const *)parts, n->nin, ax, e);
        for (int k = 0; k < n->nin; k++) tensor_free(parts[k]);
        free(parts);
        break;
    }
    case K_FILL: {
        int shape[TENSOR_MAXDIM] = {0};
        if (in[0]->n > TENSOR_MAXDIM) { err_set(e, "Fill: too many dims"); return -1; }
        int nd = ivec(in[0], shape, TENSOR_MAXDIM);
        long long dims[TENSOR_MAXDIM];
        for (int k = 0; k < nd; k++) {
            if (shape[k] < 0) { err_set(e, "Fill: negative dim"); return -1; }
            dims[k] = shape[k];
        }
        if (tensor_shape_ok(nd, dims, shape, "Fill", e)) return -1;
        y = tensor_new(in[1]->dtype, nd, shape);
        for (size_t q = 0; q < y->n; q++) {
            if (y->dtype == DT_F32) y->f[q] = in[1]->f[0];
            else y->i[q] = in[1]->i[0];
        }
        break;
    }
    default:
        err_set(e, "op '%s' not implemented", n->op);
        return -1;
    }
    if (!y) return -1;
    out[0] = y;
    return 0;
}

const char *tfjs_op_name(int k)
{
    return k >= 0 && k < (int)(sizeof OPS / sizeof OPS[0]) ? OPS[k].name : NULL;
}
