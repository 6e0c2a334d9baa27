/* metrics.h — retrieval metrics over the rank of the right answer.
 *
 * A rank is 1-based and may be fractional: when the engine does not return
 * the right image at all, its rank is the expected rank under a random
 * order of everything not returned (eval_expected_rank), so "not found"
 * neither vanishes from the statistics nor counts as an arbitrary constant.
 */
#ifndef IMGDEX_METRICS_H
#define IMGDEX_METRICS_H

typedef struct eval_metrics {
    int n;                   /* queries */
    double r1, r5, r10;      /* fraction of queries with rank <= K */
    double median_rank;      /* median (mean of the two middle ranks when n is even) */
    double mean_rank;
    double mrr;              /* mean of 1/rank */
} eval_metrics;

/* Fills m from n ranks (each >= 1).  n == 0 gives all zeros. */
void eval_metrics_compute(const double *ranks, int n, eval_metrics *m);

/* Rank of an item that is not among the `returned` results, when the
 * collection holds `total` items: returned + (total - returned + 1) / 2. */
double eval_expected_rank(int returned, int total);

/* The p-th percentile (0..100) of v, interpolating linearly between the
 * closest ranks (p50 of {1,2,3,4} is 2.5).  v is sorted in place.  0 when n == 0. */
double eval_percentile(double *v, int n, double p);

#endif
