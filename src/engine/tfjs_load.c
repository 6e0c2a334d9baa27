/* tfjs_load.c — read a tfjs graph model: model.json (cJSON) and its weight
 * shards, into tfjs_model.  Dequantises weights, pre-parses attributes,
 * orders the graph, and folds nodes whose inputs are all constant (the
 * shape arithmetic converters leave behind) so tfjs_run does only real work. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "engine/tfjs_impl.h"

/* ---- attribute helpers --------------------------------------------- */

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Decodes base64 into out (NUL-terminated, truncated to n-1). */
static void b64dec(const char *s, char *out, size_t n)
{
    size_t k = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        int v = b64val((unsigned char)*s);
        if (v < 0) continue;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (k + 1 < n) out[k++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[k] = 0;
}

static const cJSON *attr(const cJSON *node, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "attr"), name);
}

/* An integer from the JSON (a number or, as protobuf's JSON writes int64,
 * a string), held to int range: shapes and attributes are ints, and a value
 * like 2e76 must become one the caller's range checks refuse, not an
 * undefined conversion. */
static long jint(const cJSON *v, long dflt)
{
    double d;
    if (cJSON_IsNumber(v)) d = v->valuedouble;
    else if (cJSON_IsString(v)) d = (double)strtol(v->valuestring, NULL, 10);
    else return dflt;
    if (d != d) return dflt;
    return d > INT_MAX ? INT_MAX : d < INT_MIN ? INT_MIN : (long)d;
}

static long attr_i(const cJSON *node, const char *name, long dflt)
{
    return jint(cJSON_GetObjectItemCaseSensitive(attr(node, name), "i"), dflt);
}

static int attr_b(const cJSON *node, const char *name)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(attr(node, name), "b"));
}

static float attr_f(const cJSON *node, const char *name, float dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(attr(node, name), "f");
    return cJSON_IsNumber(v) ? (float)v->valuedouble : dflt;
}

static void attr_s(const cJSON *node, const char *name, char *out, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(attr(node, name), "s");
    out[0] = 0;
    if (cJSON_IsString(v)) b64dec(v->valuestring, out, n);
}

/* list of ints; returns the count (0 when absent) */
static int attr_ints(const cJSON *node, const char *name, int *out, int max)
{
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(attr(node, name), "list"), "i");
    int k = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, l) if (k < max) out[k++] = (int)jint(v, 0);
    return k;
}

static tensor_dtype dtype_of(const char *tf)
{
    return !strcmp(tf, "DT_FLOAT") || !strcmp(tf, "DT_HALF") ? DT_F32 : DT_I32;
}

static int parse_attrs(tfjs_model *m, tfjs_node *n, const cJSON *jn, ierr *e)
{
    tfjs_attrs *a = &n->a;
    char s[64];
    for (int k = 0; k < 4; k++) a->strides[k] = a->dilations[k] = a->ksize[k] = 1;
    attr_ints(jn, "strides", a->strides, 4);
    attr_ints(jn, "dilations", a->dilations, 4);
    a->has_ksize = attr_ints(jn, "ksize", a->ksize, 4) == 4;
    attr_s(jn, "padding", s, sizeof s);
    a->padding = !strcmp(s, "SAME") ? PAD_SAME : !strcmp(s, "EXPLICIT") ? PAD_EXPLICIT : PAD_VALID;
    attr_ints(jn, "explicit_paddings", a->explicit_pads, 8);
    attr_s(jn, "data_format", s, sizeof s);
    a->nchw = !strcmp(s, "NCHW");
    a->num_args = (int)attr_i(jn, "num_args", 0);
    a->transpose_a = attr_b(jn, "transpose_a");
    a->transpose_b = attr_b(jn, "transpose_b");
    a->keep_dims = attr_b(jn, "keep_dims");
    a->align_corners = attr_b(jn, "align_corners");
    a->half_pixel = attr_b(jn, "half_pixel_centers");
    a->begin_mask = (int)attr_i(jn, "begin_mask", 0);
    a->end_mask = (int)attr_i(jn, "end_mask", 0);
    a->ellipsis_mask = (int)attr_i(jn, "ellipsis_mask", 0);
    a->new_axis_mask = (int)attr_i(jn, "new_axis_mask", 0);
    a->shrink_mask = (int)attr_i(jn, "shrink_axis_mask", 0);
    a->batch_dims = (int)attr_i(jn, "batch_dims", 0);
    a->axis = (int)attr_i(jn, "axis", 0);
    a->nsqueeze = attr_ints(jn, "squeeze_dims", a->squeeze_dims, TENSOR_MAXDIM);
    a->alpha = attr_f(jn, "alpha", 0.2f);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(attr(jn, "DstT"), "type");
    a->dst = cJSON_IsString(dt) ? dtype_of(dt->valuestring) : DT_F32;
    /* fused ops: BiasAdd then at most one activation */
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(attr(jn, "fused_ops"), "list"), "s");
    const cJSON *v;
    a->act.kind = ACT_NONE;
    cJSON_ArrayForEach(v, fl) {
        if (!cJSON_IsString(v)) continue;
        b64dec(v->valuestring, s, sizeof s);
        if (!strcmp(s, "BiasAdd")) a->fused_bias = 1;
        else if (!strcmp(s, "Relu")) a->act.kind = ACT_RELU;
        else if (!strcmp(s, "Relu6")) a->act.kind = ACT_RELU6;
        else if (!strcmp(s, "Sigmoid")) a->act.kind = ACT_SIGMOID;
        else if (!strcmp(s, "Tanh")) a->act.kind = ACT_TANH;
        else if (!strcmp(s, "Elu")) a->act.kind = ACT_ELU;
        else if (!strcmp(s, "Prelu")) a->act.kind = ACT_PRELU;
        else if (!strcmp(s, "LeakyRelu")) {
            a->act.kind = ACT_LEAKY;
            a->act.alpha = attr_f(jn, "leakyrelu_alpha", 0.2f);
        } else {
            err_set(e, "%s: unsupported fused op '%s' in %s (node '%s')", m->path, s, n->op, n->name);
            return -1;
        }
    }
    return 0;
}

/* ---- weights --------------------------------------------------------- */

static float half_to_float(uint16_t h)
{
    int s = h >> 15, ex = (h >> 10) & 31, man = h & 1023;
    float v;
    if (ex == 0) v = ldexpf((float)man, -24);
    else if (ex == 31) v = man ? NAN : INFINITY;
    else v = ldexpf((float)(man | 1024), ex - 25);
    return s ? -v : v;
}

static int node_index(const tfjs_model *m, const char *name, size_t len);

/* Decodes one manifest entry at data[*off..]; attaches it to its Const node. */
static int load_weight(tfjs_model *m, const cJSON *w, const unsigned char *data, size_t size,
                       size_t *off, const char *shard, ierr *e)
{
    const cJSON *jname = cJSON_GetObjectItemCaseSensitive(w, "name");
    const cJSON *jshape = cJSON_GetObjectItemCaseSensitive(w, "shape");
    const cJSON *jdt = cJSON_GetObjectItemCaseSensitive(w, "dtype");
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(w, "quantization");
    if (!cJSON_IsString(jname) || !cJSON_IsString(jdt)) {
        err_set(e, "%s: weightsManifest entry without name or dtype", m->path);
        return -1;
    }
    int shape[TENSOR_MAXDIM] = {0}, nd = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, jshape) {
        if (nd >= TENSOR_MAXDIM) { err_set(e, "%s: weight '%s' has too many dims", m->path, jname->valuestring); return -1; }
        shape[nd++] = (int)jint(v, 0);
        if (shape[nd - 1] < 0) { err_set(e, "%s: weight '%s' has a negative dim", m->path, jname->valuestring); return -1; }
    }
    const char *dt = jdt->valuestring;
    tensor_dtype tdt = !strcmp(dt, "float32") ? DT_F32 : DT_I32;
    if (strcmp(dt, "float32") && strcmp(dt, "int32") && strcmp(dt, "bool")) {
        err_set(e, "%s: weight '%s' has unsupported dtype %s", m->path, jname->valuestring, dt);
        return -1;
    }
    const char *qdt = NULL;
    float scale = 1, mn = 0;
    if (q) {
        const cJSON *qd = cJSON_GetObjectItemCaseSensitive(q, "dtype");
        qdt = cJSON_IsString(qd) ? qd->valuestring : "";
        const cJSON *js = cJSON_GetObjectItemCaseSensitive(q, "scale"), *jm = cJSON_GetObjectItemCaseSensitive(q, "min");
        if (cJSON_IsNumber(js)) scale = (float)js->valuedouble;
        if (cJSON_IsNumber(jm)) mn = (float)jm->valuedouble;
        if (strcmp(qdt, "uint8") && strcmp(qdt, "uint16") && strcmp(qdt, "float16")) {
            err_set(e, "%s: weight '%s' has unsupported quantization %s", m->path, jname->valuestring, qdt);
            return -1;
        }
    }
    size_t esz = qdt ? (!strcmp(qdt, "uint8") ? 1 : 2) : !strcmp(dt, "bool") ? 1 : 4;
    /* Counted against the shard as it grows: a product of dims that wraps
     * (65536 four times is 2^64) must not pass for a small tensor. */
    size_t count = 1;
    for (int i = 0; i < nd; i++) {
        if (shape[i] && count > size / esz / (size_t)shape[i]) {
            err_set(e, "%s: weight '%s' has more elements than the shard's %zu bytes hold", shard,
                    jname->valuestring, size);
            return -1;
        }
        count *= (size_t)shape[i];
    }
    if (*off + count * esz > size || *off + count * esz < *off) {
        err_set(e, "%s: truncated: weight '%s' needs %zu bytes at offset %zu, shard has %zu",
                shard, jname->valuestring, count * esz, *off, size);
        return -1;
    }
    tensor *t = tensor_new(tdt, nd, shape);
    const unsigned char *p = data + *off;
    for (size_t k = 0; k < count; k++) {
        float f;
        if (!qdt) {
            if (esz == 1) { t->i[k] = p[k] != 0; continue; }
            uint32_t u = (uint32_t)p[4 * k] | (uint32_t)p[4 * k + 1] << 8 | (uint32_t)p[4 * k + 2] << 16 |
                         (uint32_t)p[4 * k + 3] << 24;
            memcpy(tdt == DT_F32 ? (void *)&t->f[k] : (void *)&t->i[k], &u, 4);
            continue;
        }
        if (!strcmp(qdt, "uint8")) f = p[k] * scale + mn;
        else {
            uint16_t h = (uint16_t)(p[2 * k] | p[2 * k + 1] << 8);
            f = !strcmp(qdt, "float16") ? half_to_float(h) : h * scale + mn;
        }
        if (tdt == DT_F32) t->f[k] = f;
        else t->i[k] = (int32_t)lrintf(f);
    }
    *off += count * esz;
    int idx = node_index(m, jname->valuestring, strlen(jname->valuestring));
    if (idx < 0 || strcmp(m->nodes[idx].op, "Const")) {
        tensor_free(t);      /* a weight no node uses: harmless */
        return 0;
    }
    tensor_free(m->nodes[idx].konst[0]);
    m->nodes[idx].konst[0] = t;
    return 0;
}

static int load_weights(tfjs_model *m, const cJSON *manifest, ierr *e)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", m->path);
    char *slash = strrchr(dir, '/');
    if (slash) slash[1] = 0; else dir[0] = 0;
    const cJSON *g;
    cJSON_ArrayForEach(g, manifest) {
        /* a group's shards are one byte stream */
        size_t size = 0;
        unsigned char *data = NULL;
        const cJSON *p;
        char shard[4600] = "";
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(g, "paths")) {
            if (!cJSON_IsString(p)) continue;
            snprintf(shard, sizeof shard, "%s%s", dir, p->valuestring);
            size_t len;
            unsigned char *b = file_read_all(shard, &len, e);
            if (!b) { free(data); return -1; }
            data = xrealloc(data, size + len + 1);
            memcpy(data + size, b, len);
            size += len;
            free(b);
        }
        size_t off = 0;
        const cJSON *w;
        cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(g, "weights")) {
            if (load_weight(m, w, data ? data : (unsigned char *)"", size, &off, shard, e)) {
                free(data);
                return -1;
            }
        }
        free(data);
    }
    return 0;
}

/* ---- graph ----------------------------------------------------------- */

/* Node names are looked up a few thousand times at load; a sorted index
 * keeps that O(log n). */
static __thread tfjs_model *name_model;   /* for qsort's comparator */

static int cmp_name(const void *a, const void *b)
{
    return strcmp(name_model->nodes[*(const int *)a].name, name_model->nodes[*(const int *)b].name);
}

static int node_index(const tfjs_model *m, const char *name, size_t len)
{
    int lo = 0, hi = m->nnodes - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        const char *s = m->nodes[m->name_idx[mid]].name;
        int c = strncmp(s, name, len);
        if (c == 0) c = s[len] ? 1 : 0;
        if (c == 0) return m->name_idx[mid];
        if (c < 0) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
}

/* "name", "name:1" -> node index and slot */
int tfjs_resolve(const tfjs_model *m, const char *ref, int *slot)
{
    const char *colon = strrchr(ref, ':');
    size_t len = strlen(ref);
    *slot = 0;
    if (colon) {
        char *end;
        long s = strtol(colon + 1, &end, 10);
        if (*end == 0 && end != colon + 1) {
            int idx = node_index(m, ref, (size_t)(colon - ref));
            if (idx >= 0) { *slot = s < 0 ? -1 : s > TFJS_MAXOUT ? TFJS_MAXOUT : (int)s; return idx; }
        }
    }
    return node_index(m, ref, len);
}

/* Run once every node knows its output count (fuzz_tfjs found "top:2" on
 * a two-output TopKV2, read past its tables while constants were folded). */
static int check_slots(const tfjs_model *m, ierr *e)
{
    for (int i = 0; i < m->nnodes; i++) {
        const tfjs_node *n = &m->nodes[i];
        for (int q = 0; q < n->nin; q++) {
            const tfjs_node *p = &m->nodes[n->in_node[q]];
            if (!tfjs_has_output(p, n->in_slot[q])) {
                err_set(e, "%s: node '%s' reads an output of '%s' (%s) that it does not have", m->path, n->name,
                        p->name, p->op);
                return -1;
            }
        }
    }
    return 0;
}

static void read_shape(const cJSON *shp, tfjs_node *n)
{
    const cJSON *v;
    n->ndim = 0;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(shp, "dim"))
        if (n->ndim < TENSOR_MAXDIM) n->shape[n->ndim++] = (int)jint(cJSON_GetObjectItemCaseSensitive(v, "size"), -1);
}

static int topo_visit(tfjs_model *m, int i, char *state, ierr *e)
{
    if (state[i] == 2) return 0;
    if (state[i] == 1) {
        err_set(e, "%s: graph has a cycle through node '%s'", m->path, m->nodes[i].name);
        return -1;
    }
    state[i] = 1;
    for (int k = 0; k < m->nodes[i].nin; k++)
        if (topo_visit(m, m->nodes[i].in_node[k], state, e)) return -1;
    state[i] = 2;
    if (!m->nodes[i].is_const) m->order[m->norder++] = i;
    return 0;
}

/* Runs nodes whose inputs are all constant once, now. */
static int fold(tfjs_model *m, int i, ierr *e)
{
    tfjs_node *n = &m->nodes[i];
    if (n->is_const) return 0;
    if (!strcmp(n->op, "Placeholder") || n->nin == 0) return 0;
    tensor *in[64];
    if (n->nin > 64) return 0;
    for (int k = 0; k < n->nin; k++) {
        tfjs_node *p = &m->nodes[n->in_node[k]];
        if (!p->is_const) return 0;
        in[k] = p->konst[n->in_slot[k]];
        if (!in[k]) return 0;
    }
    tensor *out[TFJS_MAXOUT] = {0};
    if (tfjs_op_run(m, n, in, out, e)) {
        err_prefix(e, "%s: node '%s' (%s)", m->path, n->name, n->op);
        return -1;
    }
    for (int k = 0; k < TFJS_MAXOUT; k++) n->konst[k] = out[k];
    n->is_const = 1;
    return 0;
}

static int find_io(tfjs_model *m, const cJSON *root, ierr *e)
{
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(root, "signature");
    const cJSON *sin = cJSON_GetObjectItemCaseSensitive(sig, "inputs");
    const cJSON *sout = cJSON_GetObjectItemCaseSensitive(sig, "outputs");
    /* a signature may list a node more than once, so its entries count too */
    size_t nout_max = (size_t)m->nnodes + (size_t)cJSON_GetArraySize(sout) + 1;
    m->inputs = xcalloc((size_t)m->nnodes + 1, sizeof(int));
    m->outputs = xcalloc(nout_max, sizeof(int));
    m->out_slot = xcalloc(nout_max, sizeof(int));
    m->output_names = xcalloc(nout_max, sizeof(char *));
    const cJSON *v;
    if (cJSON_GetArraySize(sin) > 0) {
        cJSON_ArrayForEach(v, sin) {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(v, "name");
            int slot, idx = cJSON_IsString(nm) ? tfjs_resolve(m, nm->valuestring, &slot) : -1;
            if (idx < 0 && v->string) idx = tfjs_resolve(m, v->string, &slot);
            if (idx < 0 || strcmp(m->nodes[idx].op, "Placeholder")) continue;
            for (int k = 0; k < m->ninputs; k++)
                if (m->inputs[k] == idx) {
                    err_set(e, "%s: signature names input '%s' twice", m->path, m->nodes[idx].name);
                    return -1;
                }
            m->inputs[m->ninputs++] = idx;
        }
    }
    if (!m->ninputs)
        for (int i = 0; i < m->nnodes; i++)
            if (!strcmp(m->nodes[i].op, "Placeholder")) m->inputs[m->ninputs++] = i;
    if (cJSON_GetArraySize(sout) > 0) {
        cJSON_ArrayForEach(v, sout) {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(v, "name");
            /* an array's items have no key: v->string is NULL there */
            const char *ref = cJSON_IsString(nm) ? nm->valuestring : v->string;
            if (!ref) {
                err_set(e, "%s: signature output %d has no name", m->path, m->noutputs + 1);
                return -1;
            }
            int slot, idx = tfjs_resolve(m, ref, &slot);
            if (idx < 0) {
                err_set(e, "%s: signature output '%s' names no node", m->path, ref);
                return -1;
            }
            m->output_names[m->noutputs] = xstrdup(v->string ? v->string : ref);
            m->out_slot[m->noutputs] = slot;
            m->outputs[m->noutputs++] = idx;
        }
    } else {
        char *used = xcalloc((size_t)m->nnodes, 1);
        for (int i = 0; i < m->nnodes; i++)
            for (int k = 0; k < m->nodes[i].nin; k++) used[m->nodes[i].in_node[k]] = 1;
        for (int i = 0; i < m->nnodes; i++)
            if (!used[i] && strcmp(m->nodes[i].op, "Const") && strcmp(m->nodes[i].op, "Placeholder")) {
                m->output_names[m->noutputs] = xstrdup(m->nodes[i].name);
                m->outputs[m->noutputs++] = i;
            }
        free(used);
    }
    if (!m->noutputs) {
        err_set(e, "%s: model has no outputs", m->path);
        return -1;
    }
    return 0;
}

tfjs_model *tfjs_load(const char *path, ierr *e)
{
    size_t len;
    char *text = (char *)file_read_all(path, &len, e);
    if (!text) return NULL;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!root) {
        err_set(e, "%s: not valid JSON", path);
        return NULL;
    }
    tfjs_model *m = xcalloc(1, sizeof *m);
    m->path = xstrdup(path);
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "modelTopology"), "node");
    const cJSON *manifest = cJSON_GetObjectItemCaseSensitive(root, "weightsManifest");
    if (!cJSON_IsArray(nodes) || !cJSON_GetArraySize(nodes)) {
        err_set(e, "%s: no modelTopology.node list (not a tfjs graph model)", path);
        goto fail;
    }
    m->nnodes = cJSON_GetArraySize(nodes);
    m->nodes = xcalloc((size_t)m->nnodes, sizeof(tfjs_node));
    int i = 0;
    const cJSON *jn;
    cJSON_ArrayForEach(jn, nodes) {
        tfjs_node *n = &m->nodes[i++];
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(jn, "name");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(jn, "op");
        n->name = xstrdup(cJSON_IsString(nm) ? nm->valuestring : "");
        n->op = xstrdup(cJSON_IsString(op) ? op->valuestring : "");
        if (!n->name[0] || !n->op[0]) {
            err_set(e, "%s: node %d has no name or op", path, i - 1);
            goto fail;
        }
        if (parse_attrs(m, n, jn, e)) goto fail;
        if (!strcmp(n->op, "Placeholder")) {
            read_shape(cJSON_GetObjectItemCaseSensitive(attr(jn, "shape"), "shape"), n);
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(attr(jn, "dtype"), "type");
            n->dtype = cJSON_IsString(t) ? dtype_of(t->valuestring) : DT_F32;
        }
    }
    m->name_idx = xmalloc(sizeof(int) * (size_t)m->nnodes);
    name_model = m;
    for (i = 0; i < m->nnodes; i++) m->name_idx[i] = i;
    qsort(m->name_idx, (size_t)m->nnodes, sizeof(int), cmp_name);
    i = 0;
    cJSON_ArrayForEach(jn, nodes) {
        tfjs_node *n = &m->nodes[i++];
        const cJSON *ins = cJSON_GetObjectItemCaseSensitive(jn, "input"), *v;
        int cnt = cJSON_GetArraySize(ins);
        n->in_node = xcalloc((size_t)cnt + 1, sizeof(int));
        n->in_slot = xcalloc((size_t)cnt + 1, sizeof(int));
        cJSON_ArrayForEach(v, ins) {
            if (!cJSON_IsString(v) || v->valuestring[0] == '^') continue;  /* control edge */
            int slot, idx = tfjs_resolve(m, v->valuestring, &slot);
            if (idx < 0) {
                err_set(e, "%s: node '%s' reads '%s', which is not in the graph", path, n->name, v->valuestring);
                goto fail;
            }
            n->in_node[n->nin] = idx;
            n->in_slot[n->nin++] = slot;
        }
        if (tfjs_op_prepare(m, n, e)) goto fail;
    }
    if (check_slots(m, e)) goto fail;
    if (load_weights(m, manifest, e)) goto fail;
    for (i = 0; i < m->nnodes; i++) {
        tfjs_node *n = &m->nodes[i];
        if (!strcmp(n->op, "Const")) {
            if (!n->konst[0]) {
                err_set(e, "%s: constant '%s' has no data in weightsManifest", path, n->name);
                goto fail;
            }
            n->is_const = 1;
        }
    }
    if (find_io(m, root, e)) goto fail;
    /* order the whole graph (so folding sees producers first), fold, then
     * order again keeping only what the outputs need */
    m->order = xmalloc(sizeof(int) * (size_t)m->nnodes);
    char *state = xcalloc((size_t)m->nnodes, 1);
    for (i = 0; i < m->nnodes; i++)
        if (topo_visit(m, i, state, e)) { free(state); goto fail; }
    int nall = m->norder;
    int *all = xmalloc(sizeof(int) * (size_t)(nall + 1));
    memcpy(all, m->order, sizeof(int) * (size_t)nall);
    for (int k = 0; k < nall; k++)
        if (fold(m, all[k], e)) { free(all); free(state); goto fail; }
    free(all);
    tfjs_fuse(m);
    memset(state, 0, (size_t)m->nnodes);
    m->norder = 0;
    for (int k = 0; k < m->noutputs; k++)
        if (topo_visit(m, m->outputs[k], state, e)) { free(state); goto fail; }
    free(state);
    for (int k = 0; k < m->noutputs; k++)
        if (!tfjs_has_output(&m->nodes[m->outputs[k]], m->out_slot[k])) {
            err_set(e, "%s: output '%s' names a missing slot", path, m->output_names[k]);
            goto fail;
        }
    m->uses = xcalloc((size_t)m->nnodes, sizeof(int));
    for (int k = 0; k < m->norder; k++) {
        tfjs_node *n = &m->nodes[m->order[k]];
        for (int q = 0; q < n->nin; q++) m->uses[n->in_node[q]]++;
    }
    for (int k = 0; k < m->noutputs; k++) m->uses[m->outputs[k]]++;
    cJSON_Delete(root);
    return m;
fail:
    cJSON_Delete(root);
    tfjs_free(m);
    return NULL;
}

void tfjs_free(tfjs_model *m)
{
    if (!m) return;
    for (int i = 0; i < m->nnodes; i++) {
        tfjs_node *n = &m->nodes[i];
        free(n->name);
        free(n->op);
        free(n->in_node);
        free(n->in_slot);
        for (int k = 0; k < TFJS_MAXOUT; k++) tensor_free(n->konst[k]);
    }
    if (m->output_names)
        for (int k = 0; k < m->noutputs; k++) free(m->output_names[k]);
    free(m->output_names);
    free(m->nodes);
    free(m->inputs);
    free(m->outputs);
    free(m->out_slot);
    free(m->order);
    free(m->uses);
    free(m->name_idx);
    free(m->path);
    free(m);
}
