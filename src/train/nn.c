/* nn.c — dense layers, Adam and friends for the trainer (nn.h). */
#include "train/nn.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

float rng_uniform(rng *r) { return (float)(rng_next(r) >> 40) / (float)(1 << 24); }

float rng_normal(rng *r)
{
    /* Box–Muller; one of the pair is enough here. */
    double u = ((double)(rng_next(r) >> 11) + 1) / 9007199254740993.0;
    double v = (double)(rng_next(r) >> 11) / 9007199254740992.0;
    return (float)(sqrt(-2 * log(u)) * cos(2 * M_PI * v));
}

int rng_below(rng *r, int n) { return n > 0 ? (int)(rng_next(r) % (uint64_t)n) : 0; }

void rng_shuffle(rng *r, int *a, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = rng_below(r, i + 1), t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

void param_init(param *p, size_t n, float decay)
{
    p->n = n;
    p->w = xcalloc(n + 1, sizeof *p->w);
    p->g = xcalloc(n + 1, sizeof *p->g);
    p->m = xcalloc(n + 1, sizeof *p->m);
    p->v = xcalloc(n + 1, sizeof *p->v);
    p->decay = decay;
}

void param_free(param *p)
{
    free(p->w);
    free(p->g);
    free(p->m);
    free(p->v);
    memset(p, 0, sizeof *p);
}

void param_zero_grad(param *p) { memset(p->g, 0, p->n * sizeof *p->g); }

void adam_step(adam *a, param *const *p, int np)
{
    a->t++;
    float c1 = 1 - powf(a->b1, (float)a->t), c2 = 1 - powf(a->b2, (float)a->t);
    float step = a->lr * sqrtf(c2) / c1;
    for (int k = 0; k < np; k++) {
        param *q = p[k];
        float wd = a->lr * q->decay;
        for (size_t i = 0; i < q->n; i++) {
            float g = q->g[i];
            q->m[i] = a->b1 * q->m[i] + (1 - a->b1) * g;
            q->v[i] = a->b2 * q->v[i] + (1 - a->b2) * g * g;
            q->w[i] -= step * q->m[i] / (sqrtf(q->v[i]) + a->eps) + wd * q->w[i];
        }
        param_zero_grad(q);
    }
}

void dense_init(dense *l, int in, int out, float decay, rng *r)
{
    l->in = in;
    l->out = out;
    param_init(&l->W, (size_t)in * out, decay);
    param_init(&l->b, (size_t)out, 0);
    /* He-style scale for ReLU stacks; the last layer is rescaled by nothing:
     * normalised outputs make its scale irrelevant. */
    float s = sqrtf(2.0f / (float)in);
    for (size_t i = 0; i < l->W.n; i++) l->W.w[i] = rng_normal(r) * s;
}

void dense_free(dense *l)
{
    param_free(&l->W);
    param_free(&l->b);
}

void dense_forward(const dense *l, const float *x, int B, float *y)
{
    for (int i = 0; i < B; i++) memcpy(y + (size_t)i * l->out, l->b.w, (size_t)l->out * sizeof *y);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, l->out, l->in, 1.0f, x, l->in, l->W.w, l->in,
                1.0f, y, l->out);
}

void dense_backward(dense *l, const float *x, const float *dy, int B, float *dx)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, l->out, l->in, B, 1.0f, dy, l->out, x, l->in, 1.0f,
                l->W.g, l->in);
    for (int i = 0; i < B; i++) {
        const float *d = dy + (size_t)i * l->out;
        for (int o = 0; o < l->out; o++) l->b.g[o] += d[o];
    }
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, l->in, l->out, 1.0f, dy, l->out, l->W.w,
                    l->in, 0.0f, dx, l->in);
}

void mlp_init(mlp *m, int layers, const int *sizes, int maxB, float decay, rng *r)
{
    memset(m, 0, sizeof *m);
    m->layers = layers;
    m->maxB = maxB;
    for (int k = 0; k <= layers; k++) {
        m->sizes[k] = sizes[k];
        m->act[k] = xcalloc((size_t)maxB * sizes[k] + 1, sizeof(float));
    }
    for (int k = 0; k < layers; k++) {
        dense_init(&m->l[k], sizes[k], sizes[k + 1], decay, r);
        m->mask[k] = xcalloc((size_t)maxB * sizes[k] + 1, 1);
    }
}

void mlp_free(mlp *m)
{
    for (int k = 0; k <= m->layers; k++) free(m->act[k]);
    for (int k = 0; k < m->layers; k++) {
        dense_free(&m->l[k]);
        free(m->mask[k]);
    }
    memset(m, 0, sizeof *m);
}

static void dropout(float *a, uint8_t *mask, size_t n, float p, int train, rng *r)
{
    if (!train || p <= 0) {
        memset(mask, 1, n);
        return;
    }
    float keep = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) {
        mask[i] = rng_uniform(r) >= p;
        a[i] = mask[i] ? a[i] * keep : 0;
    }
}

const float *mlp_forward(mlp *m, const float *x, int B, int train, rng *r)
{
    size_t n0 = (size_t)B * m->sizes[0];
    memcpy(m->act[0], x, n0 * sizeof *x);
    dropout(m->act[0], m->mask[0], n0, m->in_drop, train, r);
    for (int k = 0; k < m->layers; k++) {
        dense_forward(&m->l[k], m->act[k], B, m->act[k + 1]);
        if (k < m->layers - 1) {
            size_t n = (size_t)B * m->sizes[k + 1];
            float *a = m->act[k + 1];
            for (size_t i = 0; i < n; i++) if (a[i] < 0) a[i] = 0;
            dropout(a, m->mask[k + 1], n, m->hid_drop, train, r);
        }
    }
    return m->act[m->layers];
}

void mlp_backward(mlp *m, const float *dout, int B)
{
    int widest = 0;
    for (int k = 0; k <= m->layers; k++) if (m->sizes[k] > widest) widest = m->sizes[k];
    float *d = xmalloc((size_t)B * widest * sizeof *d), *dn = xmalloc((size_t)B * widest * sizeof *dn);
    memcpy(d, dout, (size_t)B * m->sizes[m->layers] * sizeof *d);
    for (int k = m->layers - 1; k >= 0; k--) {
        dense_backward(&m->l[k], m->act[k], d, B, k > 0 ? dn : NULL);
        if (k == 0) break;
        /* through dropout and ReLU of act[k] */
        size_t n = (size_t)B * m->sizes[k];
        float keep = m->hid_drop > 0 ? 1.0f / (1.0f - m->hid_drop) : 1.0f;
        const float *a = m->act[k];
        const uint8_t *mk = m->mask[k];
        for (size_t i = 0; i < n; i++) dn[i] = (mk[i] && a[i] > 0) ? dn[i] * keep : 0;
        float *t = d; d = dn; dn = t;
    }
    free(d);
    free(dn);
}

int mlp_params(mlp *m, param **out)
{
    int n = 0;
    for (int k = 0; k < m->layers; k++) {
        out[n++] = &m->l[k].W;
        out[n++] = &m->l[k].b;
    }
    return n;
}

void l2norm_forward(const float *x, int B, int n, float *y, float *norms)
{
    for (int i = 0; i < B; i++) {
        const float *a = x + (size_t)i * n;
        double s = 0;
        for (int k = 0; k < n; k++) s += (double)a[k] * a[k];
        float nr = (float)sqrt(s) + 1e-8f;
        norms[i] = nr;
        for (int k = 0; k < n; k++) y[(size_t)i * n + k] = a[k] / nr;
    }
}

void l2norm_backward(const float *y, const float *dy, const float *norms, int B, int n, float *dx)
{
    for (int i = 0; i < B; i++) {
        const float *a = y + (size_t)i * n, *g = dy + (size_t)i * n;
        double dot = 0;
        for (int k = 0; k < n; k++) dot += (double)a[k] * g[k];
        for (int k = 0; k < n; k++) dx[(size_t)i * n + k] = (g[k] - a[k] * (float)dot) / norms[i];
    }
}
