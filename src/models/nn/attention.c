/* attention.c — multi-head attention blocks over packed sequences. */
#include "models/nn/blocks.h"

#include <stddef.h>

void nn_attn_split_qkv(nn_attn *a, const float *qkv_w, const float *qkv_b)
{
    size_t blk = (size_t)a->inner * a->dq;
    a->q_w = qkv_w;
    a->k_w = qkv_w + blk;
    a->v_w = qkv_w + 2 * blk;
    a->q_b = qkv_b;
    a->k_b = qkv_b ? qkv_b + a->inner : NULL;
    a->v_b = qkv_b ? qkv_b + 2 * a->inner : NULL;
}

/* q, k, v weights (and biases, if any) back to back: one GEMM does all three. */
static int fused(const nn_attn *a)
{
    size_t blk = (size_t)a->inner * a->dq;
    if (a->dq != a->dkv || a->k_w != a->q_w + blk || a->v_w != a->k_w + blk) return 0;
    if (!a->q_b) return !a->k_b && !a->v_b;
    return a->k_b == a->q_b + a->inner && a->v_b == a->k_b + a->inner;
}

void nn_attn_project_q(const nn_attn *a, const float *x, int rows, float *q)
{
    nn_linear(x, rows, a->dq, a->q_w, a->q_b, a->inner, q, 0);
}

void nn_attn_project_kv(const nn_attn *a, const float *xkv, int rows, float *k, int ldk, float *v,
                        int ldv)
{
    nn_linear_ld(xkv, rows, a->dkv, a->k_w, a->k_b, a->inner, k, ldk, 0);
    nn_linear_ld(xkv, rows, a->dkv, a->v_w, a->v_b, a->inner, v, ldv, 0);
}

void nn_attn_output(const nn_attn *a, const float *ctx, int rows, float *y, int accumulate)
{
    nn_linear(ctx, rows, a->inner, a->o_w, a->o_b, a->dout, y, accumulate);
}

typedef struct seq_hook {
    nn_seq_score_fn fn;
    void *ctx;
    int seq;
} seq_hook;

static void call_hook(void *ctx, int head, float *scores, int Tq, int Tk)
{
    seq_hook *h = ctx;
    h->fn(h->ctx, h->seq, head, scores, Tq, Tk);
}

void nn_attn_forward(const nn_attn *a, const float *xq, const float *xkv, int nseq, const int *lq,
                     const int *lkv, int causal, nn_seq_score_fn hook, void *hook_ctx, float *y,
                     int accumulate, nn_work *w)
{
    int E = a->inner, Rq = 0, Rk = 0, tq = 0, tk = 0;
    if (!xkv) lkv = lq;
    for (int s = 0; s < nseq; s++) {
        Rq += lq[s];
        Rk += lkv[s];
        if (lq[s] > tq) tq = lq[s];
        if (lkv[s] > tk) tk = lkv[s];
    }
    float *ctx = nn_work_get(w, 2, (size_t)Rq * E);
    float *scores = nn_work_get(w, 3, (size_t)tq * tk);
    const float *q, *k, *v;
    int ldq, ldkv;
    if (!xkv) {
        /* q, k and v side by side in one R x 3E matrix. */
        float *qkv = nn_work_get(w, 1, (size_t)Rq * 3 * E);
        if (fused(a)) {
            nn_linear(xq, Rq, a->dq, a->q_w, a->q_b, 3 * E, qkv, 0);
        } else {
            nn_linear_ld(xq, Rq, a->dq, a->q_w, a->q_b, E, qkv, 3 * E, 0);
            nn_attn_project_kv(a, xq, Rq, qkv + E, 3 * E, qkv + 2 * E, 3 * E);
        }
        q = qkv, k = qkv + E, v = qkv + 2 * E;
        ldq = ldkv = 3 * E;
    } else {
        float *buf = nn_work_get(w, 1, (size_t)Rq * E + (size_t)Rk * 2 * E);
        float *qb = buf, *kv = buf + (size_t)Rq * E;
        nn_attn_project_q(a, xq, Rq, qb);
        nn_attn_project_kv(a, xkv, Rk, kv, 2 * E, kv + E, 2 * E);
        q = qb, k = kv, v = kv + E;
        ldq = E, ldkv = 2 * E;
    }
    for (int s = 0, oq = 0, ok = 0; s < nseq; oq += lq[s], ok += lkv[s], s++) {
        seq_hook h = {hook, hook_ctx, s};
        nn_attention_ex(q + (size_t)oq * ldq, ldq, k + (size_t)ok * ldkv, ldkv, v + (size_t)ok * ldkv,
                        ldkv, lq[s], lkv[s], E, a->heads, causal ? 0 : -1, hook ? call_hook : NULL,
                        &h, ctx + (size_t)oq * E, E, scores);
    }
    nn_attn_output(a, ctx, Rq, y, accumulate);
}
