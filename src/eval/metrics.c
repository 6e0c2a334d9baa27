/* metrics.c — Recall@K, median rank, MRR, percentiles. */
#include "eval/metrics.h"

#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double eval_percentile(double *v, int n, double p)
{
    if (n <= 0) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    if (p <= 0) return v[0];
    if (p >= 100) return v[n - 1];
    double pos = p / 100.0 * (n - 1);
    int lo = (int)pos;
    double frac = pos - lo;
    return lo + 1 < n ? v[lo] + frac * (v[lo + 1] - v[lo]) : v[lo];
}

double eval_expected_rank(int returned, int total)
{
    if (total < returned) total = returned;
    return returned + (total - returned + 1) / 2.0;
}

void eval_metrics_compute(const double *ranks, int n, eval_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->n = n;
    if (n <= 0) return;
    double sum = 0, inv = 0;
    int h1 = 0, h5 = 0, h10 = 0;
    double *sorted = xmalloc((size_t)n * sizeof *sorted);
    for (int i = 0; i < n; i++) {
        double r = ranks[i] < 1 ? 1 : ranks[i];
        sorted[i] = r;
        sum += r;
        inv += 1.0 / r;
        h1 += r <= 1;
        h5 += r <= 5;
        h10 += r <= 10;
    }
    m->r1 = (double)h1 / n;
    m->r5 = (double)h5 / n;
    m->r10 = (double)h10 / n;
    m->mean_rank = sum / n;
    m->mrr = inv / n;
    m->median_rank = eval_percentile(sorted, n, 50);
    free(sorted);
}
