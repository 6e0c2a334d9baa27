/* joint.c — loading, running and writing imgdex's own trained model
 * (joint.h; the file format is in docs/models.md).
 *
 * The file is checked whole at open, and the text side is converted to
 * float32 then.  The image and tagger layer stacks (85 % of the shipped
 * model's weights) are converted on their first use: a query process never
 * runs them, and converting them was most of its start.  The file stays
 * mapped until joint_close for that.  Apart from that one-time conversion,
 * under a lock, calls after joint_open only read the model, so one model
 * may serve any number of threads.
 */
#include "models/joint.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/safetensors.h"

#define FORMAT_NAME "imgdex-joint"
#define FORMAT_VERSION "1"

typedef struct stack {
    const char *prefix;       /* "image", "tagger": tensors <prefix>.<l>.weight / .bias */
    int layers;
    int sizes[JOINT_MAX_LAYERS + 1];
    float *w[JOINT_MAX_LAYERS], *b[JOINT_MAX_LAYERS];
    int ready;                /* converted (under the model's lock) */
} stack;

struct joint_model {
    char *path;
    st_file *f;               /* mapped while the layer stacks may still be converted */
    pthread_mutex_t lazy;
    char id[96];
    char kind[64];
    int fdim, dim;
    float *fmean, *fscale;
    stack img, tag;
    int nwords, wdim;
    char **words;
    int *word_order;          /* word indices sorted by word, for bsearch */
    float *wvec, *tw, *tb;
    int ntags;
    char **tags;
    int *tag_order;
    char **mkey, **mval;
    int nmeta;
};

/* ---- loading ------------------------------------------------------------ */

static float *take(const st_file *f, const char *name, int ndim, long long d0, long long d1, ierr *e)
{
    long long shape[2] = {d0, d1};
    float *owned = NULL;
    const float *p = st_get_f32(f, name, ndim, shape, &owned, e);
    if (!p) return NULL;
    if (owned) return owned;
    size_t n = (size_t)shape[0] * (ndim > 1 ? (size_t)shape[1] : 1);
    float *c = xmalloc(n * sizeof *c + 1);
    memcpy(c, p, n * sizeof *c);
    return c;
}

static int meta_int(const st_file *f, const char *key, int *out, ierr *e)
{
    const char *v = st_meta(f, key);
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || end == v || x < 0 || x > 100000000) {
        err_set(e, "%s: metadata '%s' is missing or not a count", st_path(f), key);
        return -1;
    }
    *out = (int)x;
    return 0;
}

/* Split a newline-joined list into exactly n strings. */
static char **split_lines(const st_file *f, const char *key, int n, ierr *e)
{
    const char *v = st_meta(f, key);
    if (!v) {
        err_set(e, "%s: metadata '%s' is missing", st_path(f), key);
        return NULL;
    }
    char **out = xcalloc((size_t)n + 1, sizeof *out);
    int k = 0;
    const char *p = v;
    while (n > 0 && k < n) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        out[k] = xmalloc(len + 1);
        memcpy(out[k], p, len);
        out[k][len] = 0;
        k++;
        if (!nl) break;
        p = nl + 1;
    }
    if (k != n || (n > 0 && strchr(p, '\n'))) {
        err_set(e, "%s: metadata '%s' lists %d%s entries, the tensors say %d", st_path(f), key, k,
                k == n ? "+" : "", n);
        for (int i = 0; i < k; i++) free(out[i]);
        free(out);
        return NULL;
    }
    return out;
}

static int cmp_ix_by(char **w, int a, int b) { return strcmp(w[a], w[b]); }

/* Sorted index of a word list (qsort has no context argument: a merge sort
 * with the list passed down). */
static void msort(int *a, int *tmp, int n, char **w)
{
    if (n < 2) return;
    int h = n / 2;
    msort(a, tmp, h, w);
    msort(a + h, tmp, n - h, w);
    int i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = cmp_ix_by(w, a[i], a[j]) <= 0 ? a[i++] : a[j++];
    while (i < h) tmp[k++] = a[i++];
    while (j < n) tmp[k++] = a[j++];
    memcpy(a, tmp, (size_t)n * sizeof *a);
}

static int *sorted_index(char **w, int n, const char *path, const char *what, ierr *e)
{
    int *ix = xmalloc(((size_t)n + 1) * sizeof *ix), *tmp = xmalloc(((size_t)n + 1) * sizeof *tmp);
    for (int i = 0; i < n; i++) ix[i] = i;
    msort(ix, tmp, n, w);
    free(tmp);
    for (int i = 1; i < n; i++)
        if (!strcmp(w[ix[i]], w[ix[i - 1]])) {
            err_set(e, "%s: %s '%s' is listed twice", path, what, w[ix[i]]);
            free(ix);
            return NULL;
        }
    return ix;
}

static int lookup(char **w, const int *order, int n, const char *s)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2, c = strcmp(w[order[mid]], s);
        if (!c) return order[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

/* A float tensor of exactly rows x cols (rows < 0: any), checked without
 * converting it; returns its row count or -1 with e set. */
static long long check_matrix(const st_file *f, const char *name, int ndim, long long rows, long long cols, ierr *e)
{
    const st_tensor *t = st_find(f, name);
    if (!t) {
        err_set(e, "%s: no tensor '%s'", st_path(f), name);
        return -1;
    }
    if (t->dtype != ST_F32 && t->dtype != ST_F16 && t->dtype != ST_BF16) {
        err_set(e, "%s: tensor '%s' is %s (only F32, F16 and BF16 are supported)", st_path(f), name, t->dtype_name);
        return -1;
    }
    long long want[2] = {rows < 0 ? (t->ndim > 0 ? t->shape[0] : -1) : rows, cols};
    if (t->ndim != ndim || t->shape[0] != want[0] || (ndim > 1 && t->shape[1] != want[1])) {
        err_set(e, "%s: tensor '%s' is %dD %lldx%lld, expected %lldx%lld", st_path(f), name, t->ndim,
                t->ndim > 0 ? t->shape[0] : 0, t->ndim > 1 ? t->shape[1] : 1, want[0], ndim > 1 ? want[1] : 1);
        return -1;
    }
    return t->shape[0];
}

/* The stack's sizes and tensors, checked; converted later (convert_stack). */
static int load_stack(const st_file *f, const char *prefix, const char *count_key, int in, int out,
                      stack *s, ierr *e)
{
    s->prefix = prefix;
    if (meta_int(f, count_key, &s->layers, e) != 0) return -1;
    if (s->layers == 0 && !strcmp(prefix, "tagger")) return 0;
    if (s->layers < 1 || s->layers > JOINT_MAX_LAYERS) {
        err_set(e, "%s: %s has %d layers (1..%d)", st_path(f), prefix, s->layers, JOINT_MAX_LAYERS);
        return -1;
    }
    s->sizes[0] = in;
    for (int l = 0; l < s->layers; l++) {
        char name[64];
        snprintf(name, sizeof name, "%s.%d.weight", prefix, l);
        long long rows = check_matrix(f, name, 2, l == s->layers - 1 ? out : -1, in, e);
        if (rows < 0) return -1;
        if (rows < 1 || rows > 1000000) {
            err_set(e, "%s: tensor '%s' has %lld rows", st_path(f), name, rows);
            return -1;
        }
        s->sizes[l + 1] = (int)rows;
        snprintf(name, sizeof name, "%s.%d.bias", prefix, l);
        if (check_matrix(f, name, 1, rows, 0, e) < 0) return -1;
        in = (int)rows;
    }
    return 0;
}

/* The stack's weights as float32, once (the file was checked at open). */
static void convert_stack(joint_model *m, stack *s)
{
    pthread_mutex_lock(&m->lazy);
    for (int l = 0; !__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE) && l < s->layers; l++) {
        char name[64];
        ierr e = {0};
        snprintf(name, sizeof name, "%s.%d.weight", s->prefix, l);
        s->w[l] = take(m->f, name, 2, s->sizes[l + 1], s->sizes[l], &e);
        snprintf(name, sizeof name, "%s.%d.bias", s->prefix, l);
        s->b[l] = take(m->f, name, 1, s->sizes[l + 1], 0, &e);
        if (!s->w[l] || !s->b[l]) {   /* checked at open: cannot happen */
            fprintf(stderr, "imgdex: %s\n", e.msg);
            abort();
        }
    }
    __atomic_store_n(&s->ready, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&m->lazy);
}

joint_model *joint_open(const char *path, ierr *e)
{
    char def[4096];
    if (!path) path = path_joint_model(def, sizeof def);
    st_file *f = st_open(path, e);
    if (!f) return NULL;
    joint_model *m = xcalloc(1, sizeof *m);
    m->path = xstrdup(path);
    m->f = f;
    pthread_mutex_init(&m->lazy, NULL);
    const char *fmt = st_meta(f, "format"), *ver = st_meta(f, "format_version");
    const char *kind = st_meta(f, "feature_kind"), *name = st_meta(f, "name");
    if (!fmt || strcmp(fmt, FORMAT_NAME)) {
        err_set(e, "%s: not an imgdex joint model (metadata format is '%s', expected '" FORMAT_NAME "')",
                path, fmt ? fmt : "(none)");
        goto fail;
    }
    if (!ver || strcmp(ver, FORMAT_VERSION)) {
        err_set(e, "%s: format version %s (this imgdex reads version " FORMAT_VERSION ")", path,
                ver ? ver : "(none)");
        goto fail;
    }
    if (!kind || !*kind || strlen(kind) >= sizeof m->kind) {
        err_set(e, "%s: metadata 'feature_kind' is missing", path);
        goto fail;
    }
    snprintf(m->kind, sizeof m->kind, "%s", kind);
    if (meta_int(f, "feature_dim", &m->fdim, e) != 0 || meta_int(f, "dim", &m->dim, e) != 0 ||
        meta_int(f, "nwords", &m->nwords, e) != 0 || meta_int(f, "ntags", &m->ntags, e) != 0)
        goto fail;
    if (m->fdim < 1 || m->dim < 1) {
        err_set(e, "%s: feature_dim %d, dim %d", path, m->fdim, m->dim);
        goto fail;
    }
    if (!(m->fmean = take(f, "features.mean", 1, m->fdim, 0, e)) ||
        !(m->fscale = take(f, "features.scale", 1, m->fdim, 0, e)))
        goto fail;
    if (load_stack(f, "image", "image_layers", m->fdim, m->dim, &m->img, e) != 0) goto fail;
    if (load_stack(f, "tagger", "tagger_layers", m->fdim, m->ntags, &m->tag, e) != 0) goto fail;
    if (m->tag.layers == 0 && m->ntags) {
        err_set(e, "%s: %d tags but no tagger layers", path, m->ntags);
        goto fail;
    }
    {
        const st_tensor *t = st_find(f, "text.embedding");
        m->wdim = t && t->ndim == 2 ? (int)t->shape[1] : -1;
        if (!(m->wvec = take(f, "text.embedding", 2, m->nwords, m->wdim, e))) goto fail;
        if (st_find(f, "text.proj.weight")) {
            if (!(m->tw = take(f, "text.proj.weight", 2, m->dim, m->wdim, e)) ||
                !(m->tb = take(f, "text.proj.bias", 1, m->dim, 0, e)))
                goto fail;
        } else if (m->wdim != m->dim) {
            err_set(e, "%s: word vectors of %d without a projection to the joint %d", path, m->wdim, m->dim);
            goto fail;
        }
    }
    if (!(m->words = split_lines(f, "words", m->nwords, e))) goto fail;
    if (!(m->word_order = sorted_index(m->words, m->nwords, path, "word", e))) goto fail;
    if (m->ntags) {
        if (!(m->tags = split_lines(f, "tags", m->ntags, e))) goto fail;
        if (!(m->tag_order = sorted_index(m->tags, m->ntags, path, "tag", e))) goto fail;
    }
    /* keep the metadata strings (provenance) */
    {
        static const char *const keep[] = {"name", "trained_on", "split", "epochs", "seed", "dev",
                                           "licence", "created", "loss", "command", "tagger_dev_map",
                                           "train_seconds", NULL};
        int nk = 0;
        while (keep[nk]) nk++;
        m->mkey = xcalloc((size_t)nk, sizeof *m->mkey);
        m->mval = xcalloc((size_t)nk, sizeof *m->mval);
        for (int i = 0; keep[i]; i++) {
            const char *v = st_meta(f, keep[i]);
            if (!v) continue;
            m->mkey[m->nmeta] = xstrdup(keep[i]);
            m->mval[m->nmeta++] = xstrdup(v);
        }
    }
    {
        char sha[65];
        if (file_sha256(path, sha, e) != 0) goto fail;
        snprintf(m->id, sizeof m->id, "%.64s@%.8s", name && *name ? name : "joint", sha);
    }
    return m;
fail:
    joint_close(m);   /* closes f */
    return NULL;
}

static void free_list(char **l, int n)
{
    for (int i = 0; l && i < n; i++) free(l[i]);
    free(l);
}

void joint_close(joint_model *m)
{
    if (!m) return;
    st_close(m->f);
    pthread_mutex_destroy(&m->lazy);
    free(m->path);
    free(m->fmean);
    free(m->fscale);
    for (int l = 0; l < JOINT_MAX_LAYERS; l++) {
        free(m->img.w[l]);
        free(m->img.b[l]);
        free(m->tag.w[l]);
        free(m->tag.b[l]);
    }
    free(m->wvec);
    free(m->tw);
    free(m->tb);
    free_list(m->words, m->nwords);
    free(m->word_order);
    free_list(m->tags, m->ntags);
    free(m->tag_order);
    free_list(m->mkey, m->nmeta);
    free_list(m->mval, m->nmeta);
    free(m);
}

const char *joint_id(const joint_model *m) { return m->id; }
const char *joint_feature_kind(const joint_model *m) { return m->kind; }
int joint_feature_dim(const joint_model *m) { return m->fdim; }
int joint_dim(const joint_model *m) { return m->dim; }
int joint_ntags(const joint_model *m) { return m->ntags; }
int joint_nwords(const joint_model *m) { return m->nwords; }
const char *joint_path(const joint_model *m) { return m->path; }

const char *joint_word(const joint_model *m, int i)
{
    return i >= 0 && i < m->nwords ? m->words[i] : NULL;
}

const char *joint_tag_word(const joint_model *m, int i)
{
    return i >= 0 && i < m->ntags ? m->tags[i] : NULL;
}

const char *joint_meta(const joint_model *m, const char *key)
{
    for (int i = 0; i < m->nmeta; i++)
        if (!strcmp(m->mkey[i], key)) return m->mval[i];
    return NULL;
}

int joint_word_index(const joint_model *m, const char *lemma)
{
    return lemma ? lookup(m->words, m->word_order, m->nwords, lemma) : -1;
}

int joint_tag_index(const joint_model *m, const char *lemma)
{
    return lemma && m->ntags ? lookup(m->tags, m->tag_order, m->ntags, lemma) : -1;
}

/* ---- inference ---------------------------------------------------------- */

static void normalise(float *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)v[i] * v[i];
    if (s <= 0) return;
    float k = (float)(1.0 / sqrt(s));
    for (int i = 0; i < n; i++) v[i] *= k;
}

/* The layer stack on standardised features; out gets sizes[layers]. */
static void run_stack(const joint_model *m, const stack *s, const float *feat, float *out)
{
    int widest = m->fdim;
    for (int l = 1; l <= s->layers; l++) if (s->sizes[l] > widest) widest = s->sizes[l];
    float *a = xmalloc((size_t)widest * sizeof *a), *b = xmalloc((size_t)widest * sizeof *b);
    for (int i = 0; i < m->fdim; i++) a[i] = (feat[i] - m->fmean[i]) * m->fscale[i];
    for (int l = 0; l < s->layers; l++) {
        int in = s->sizes[l], o = s->sizes[l + 1];
        float *dst = l == s->layers - 1 ? out : b;
        memcpy(dst, s->b[l], (size_t)o * sizeof *dst);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, o, in, 1.0f, s->w[l], in, a, 1, 1.0f, dst, 1);
        if (l < s->layers - 1) {
            for (int i = 0; i < o; i++) if (dst[i] < 0) dst[i] = 0;
            float *t = a; a = b; b = t;
        }
    }
    free(a);
    free(b);
}

/* The stacks are converted on first use: the only writes after open, under
 * the model's lock, which is why these two cast away const. */
void joint_embed_image(const joint_model *m, const float *feat, float *out)
{
    if (!__atomic_load_n(&m->img.ready, __ATOMIC_ACQUIRE)) convert_stack((joint_model *)m, (stack *)&m->img);
    run_stack(m, &m->img, feat, out);
    normalise(out, m->dim);
}

void joint_tag_probs(const joint_model *m, const float *feat, float *probs)
{
    if (!m->ntags) return;
    if (!__atomic_load_n(&m->tag.ready, __ATOMIC_ACQUIRE)) convert_stack((joint_model *)m, (stack *)&m->tag);
    run_stack(m, &m->tag, feat, probs);
    for (int i = 0; i < m->ntags; i++) probs[i] = 1.0f / (1.0f + expf(-probs[i]));
}

int joint_embed_lemmas(const joint_model *m, const char *const *lemmas, const float *weights, int n,
                       float *out)
{
    float *p = xcalloc((size_t)m->wdim, sizeof *p);
    double wsum = 0;
    int known = 0;
    for (int i = 0; i < n; i++) {
        int w = joint_word_index(m, lemmas[i]);
        float wt = weights ? weights[i] : 1.0f;
        if (w < 0 || !(wt > 0)) continue;
        const float *v = m->wvec + (size_t)w * m->wdim;
        for (int k = 0; k < m->wdim; k++) p[k] += wt * v[k];
        wsum += wt;
        known++;
    }
    if (!known) {
        memset(out, 0, (size_t)m->dim * sizeof *out);
        free(p);
        return 0;
    }
    for (int k = 0; k < m->wdim; k++) p[k] = (float)(p[k] / wsum);
    if (m->tw) {
        memcpy(out, m->tb, (size_t)m->dim * sizeof *out);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, m->dim, m->wdim, 1.0f, m->tw, m->wdim, p, 1, 1.0f, out, 1);
    } else {
        memcpy(out, p, (size_t)m->dim * sizeof *out);
    }
    free(p);
    normalise(out, m->dim);
    return known;
}

/* ---- writing ------------------------------------------------------------ */

static char *join_lines(const char *const *w, int n)
{
    size_t len = 1;
    for (int i = 0; i < n; i++) len += strlen(w[i]) + 1;
    char *s = xmalloc(len), *p = s;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(w[i]);
        memcpy(p, w[i], l);
        p += l;
        if (i + 1 < n) *p++ = '\n';
    }
    *p = 0;
    return s;
}

static int check_words(const char *path, const char *what, const char *const *w, int n, ierr *e)
{
    for (int i = 0; i < n; i++)
        if (!w[i] || !*w[i] || strchr(w[i], '\n')) {
            err_set(e, "%s: %s %d is empty or holds a newline", path, what, i);
            return -1;
        }
    return 0;
}

int joint_save(const char *path, const joint_spec *s, ierr *e)
{
    if (s->image_layers < 1 || s->image_layers > JOINT_MAX_LAYERS || s->tagger_layers < 0 ||
        s->tagger_layers > JOINT_MAX_LAYERS || s->feature_dim < 1 || s->dim < 1 || s->nwords < 0 ||
        (!s->text_w && s->word_dim != s->dim) || (s->ntags && !s->tagger_layers)) {
        err_set(e, "%s: inconsistent model layout", path);
        return -1;
    }
    if (s->image_sizes[0] != s->feature_dim || s->image_sizes[s->image_layers] != s->dim ||
        (s->tagger_layers && (s->tagger_sizes[0] != s->feature_dim ||
                              s->tagger_sizes[s->tagger_layers] != s->ntags))) {
        err_set(e, "%s: layer sizes do not match the feature, joint or tag sizes", path);
        return -1;
    }
    if (check_words(path, "word", s->words, s->nwords, e) || check_words(path, "tag", s->tags, s->ntags, e))
        return -1;
    st_dtype dt = s->f32 ? ST_F32 : ST_F16;
    st_out t[4 + 4 * JOINT_MAX_LAYERS];
    char names[4 * JOINT_MAX_LAYERS][32];
    int n = 0, nn = 0;
    t[n++] = (st_out){"features.mean", s->feat_mean, 1, {s->feature_dim}, ST_F32};
    t[n++] = (st_out){"features.scale", s->feat_scale, 1, {s->feature_dim}, ST_F32};
    for (int pass = 0; pass < 2; pass++) {
        int layers = pass ? s->tagger_layers : s->image_layers;
        const int *sz = pass ? s->tagger_sizes : s->image_sizes;
        const float *const *w = pass ? s->tagger_w : s->image_w, *const *b = pass ? s->tagger_b : s->image_b;
        for (int l = 0; l < layers; l++) {
            snprintf(names[nn], sizeof names[nn], "%s.%d.weight", pass ? "tagger" : "image", l);
            t[n++] = (st_out){names[nn++], w[l], 2, {sz[l + 1], sz[l]}, dt};
            snprintf(names[nn], sizeof names[nn], "%s.%d.bias", pass ? "tagger" : "image", l);
            t[n++] = (st_out){names[nn++], b[l], 1, {sz[l + 1]}, ST_F32};
        }
    }
    t[n++] = (st_out){"text.embedding", s->word_vecs, 2, {s->nwords, s->word_dim}, dt};
    if (s->text_w) {
        t[n++] = (st_out){"text.proj.weight", s->text_w, 2, {s->dim, s->word_dim}, dt};
        t[n++] = (st_out){"text.proj.bias", s->text_b, 1, {s->dim}, ST_F32};
    }
    enum { NFIXED = 11 };
    const char **keys = xcalloc((size_t)(NFIXED + 1 + s->nmeta), sizeof *keys);
    const char **vals = xcalloc((size_t)(NFIXED + 1 + s->nmeta), sizeof *vals);
    char num[6][16];
    snprintf(num[0], 16, "%d", s->feature_dim);
    snprintf(num[1], 16, "%d", s->dim);
    snprintf(num[2], 16, "%d", s->nwords);
    snprintf(num[3], 16, "%d", s->ntags);
    snprintf(num[4], 16, "%d", s->image_layers);
    snprintf(num[5], 16, "%d", s->tagger_layers);
    char *words = join_lines(s->words, s->nwords), *tags = join_lines(s->tags, s->ntags);
    const char *fixed[NFIXED][2] = {
        {"format", FORMAT_NAME}, {"format_version", FORMAT_VERSION},
        {"name", s->name ? s->name : "joint"}, {"feature_kind", s->feature_kind},
        {"feature_dim", num[0]}, {"dim", num[1]}, {"nwords", num[2]}, {"ntags", num[3]},
        {"image_layers", num[4]}, {"tagger_layers", num[5]}, {"words", words},
    };
    int nm = 0;
    for (int i = 0; i < NFIXED; i++) {
        keys[nm] = fixed[i][0];
        vals[nm++] = fixed[i][1];
    }
    keys[nm] = "tags";
    vals[nm++] = tags;
    for (int i = 0; i < s->nmeta; i++) {
        int dup = 0;
        for (int k = 0; k < nm; k++) if (!strcmp(keys[k], s->meta_keys[i])) dup = 1;
        if (dup) continue;   /* the layout keys are not the caller's to change */
        keys[nm] = s->meta_keys[i];
        vals[nm++] = s->meta_vals[i];
    }
    int rc = st_write(path, t, n, keys, vals, nm, e);
    free(words);
    free(tags);
    free(keys);
    free(vals);
    return rc;
}
