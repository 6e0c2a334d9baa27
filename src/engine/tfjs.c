/* tfjs.c — running a loaded tfjs graph model: feed the inputs, execute the
 * nodes in topological order, free every intermediate right after its last
 * consumer (so peak memory is a few activations, not the whole graph), and
 * hand the outputs to the caller.  Loading is in tfjs_load.c, the op
 * dispatch in tfjs_ops.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "engine/engine.h"
#include "engine/tfjs_impl.h"

/* With one engine thread, time ops by this thread's CPU clock: the figure
 * then does not depend on what else the machine is running. */
static double node_clock(void)
{
    if (engine_threads() == 1) {
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
    }
    return now_seconds();
}

int tfjs_num_inputs(const tfjs_model *m) { return m->ninputs; }
int tfjs_num_outputs(const tfjs_model *m) { return m->noutputs; }

const char *tfjs_input_name(const tfjs_model *m, int i)
{
    return i >= 0 && i < m->ninputs ? m->nodes[m->inputs[i]].name : NULL;
}

const char *tfjs_output_name(const tfjs_model *m, int i)
{
    return i >= 0 && i < m->noutputs ? m->output_names[i] : NULL;
}

int tfjs_input_shape(const tfjs_model *m, int i, int *shape)
{
    if (i < 0 || i >= m->ninputs) return 0;
    const tfjs_node *n = &m->nodes[m->inputs[i]];
    memcpy(shape, n->shape, sizeof(int) * (size_t)n->ndim);
    return n->ndim;
}

int tfjs_output_shape(const tfjs_model *m, int i, int *shape)
{
    (void)m; (void)i; (void)shape;
    return 0;   /* only known after a run; the graph does not declare it reliably */
}

/* "name", "name:0" and the signature key all match */
static int same_ref(const char *a, const char *b)
{
    size_t la = strcspn(a, ":"), lb = strcspn(b, ":");
    if (la != lb || strncmp(a, b, la)) return 0;
    const char *sa = a[la] ? a + la + 1 : "0", *sb = b[lb] ? b + lb + 1 : "0";
    return !strcmp(sa, sb);
}

int tfjs_input_index(const tfjs_model *m, const char *name)
{
    for (int i = 0; i < m->ninputs; i++)
        if (same_ref(m->nodes[m->inputs[i]].name, name)) return i;
    return -1;
}

int tfjs_output_index(const tfjs_model *m, const char *name)
{
    for (int i = 0; i < m->noutputs; i++)
        if (same_ref(m->output_names[i], name) || same_ref(m->nodes[m->outputs[i]].name, name))
            return i;
    return -1;
}

double tfjs_last_run_flops(const tfjs_model *m) { return 2 * m->last_macs; }
double tfjs_last_run_conv_seconds(const tfjs_model *m) { return m->last_conv_s; }

static int check_input(const tfjs_model *m, int i, const tensor *t, ierr *e)
{
    const tfjs_node *n = &m->nodes[m->inputs[i]];
    char got[128];
    if (!t) {
        err_set(e, "%s: input '%s' missing", m->path, n->name);
        return -1;
    }
    if (t->dtype != n->dtype) {
        err_set(e, "%s: input '%s' must be %s, got %s", m->path, n->name,
                n->dtype == DT_F32 ? "float32" : "int32", tensor_shape_str(t, got, sizeof got));
        return -1;
    }
    int bad = n->ndim && t->ndim != n->ndim;
    for (int d = 0; !bad && d < n->ndim; d++)
        if (n->shape[d] >= 0 && t->shape[d] != n->shape[d]) bad = 1;
    if (bad) {
        char want[128] = "[";
        for (int d = 0; d < n->ndim; d++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%d", d ? "," : "", n->shape[d]);
        err_set(e, "%s: input '%s' must have shape %s], got %s", m->path, n->name, want,
                tensor_shape_str(t, got, sizeof got));
        return -1;
    }
    return 0;
}

/* Runs the graph; on success out_nodes[k]'s value (slot) is moved into outputs[k]. */
static int run(tfjs_model *m, const tensor *const *inputs, int nin, const int *want,
               const int *want_slot, tensor **outputs, int nout, ierr *e)
{
    if (nin != m->ninputs) {
        err_set(e, "%s: model takes %d inputs, got %d", m->path, m->ninputs, nin);
        return -1;
    }
    for (int i = 0; i < nin; i++)
        if (check_input(m, i, inputs[i], e)) return -1;
    int nn = m->nnodes;
    tensor **val = xcalloc((size_t)nn * TFJS_MAXOUT, sizeof(tensor *));
    char *owned = xcalloc((size_t)nn, 1);     /* val[] of this node is ours to free */
    /* Only the nodes the wanted values depend on run: asking for an
     * intermediate (centernet's heatmap) skips the graph's own decoding
     * tail, which may also hold shapes frozen for the declared input size. */
    char *need = xcalloc((size_t)nn, 1);
    for (int k = 0; k < nout; k++) need[want[k]] = 1;
    for (int k = m->norder - 1; k >= 0; k--) {
        const tfjs_node *n = &m->nodes[m->order[k]];
        if (need[m->order[k]])
            for (int q = 0; q < n->nin; q++) need[n->in_node[q]] = 1;
    }
    /* Consumers still to run per value; requested values live to the end. */
    int *left = xcalloc((size_t)nn, sizeof(int));
    for (int k = 0; k < m->norder; k++) {
        const tfjs_node *n = &m->nodes[m->order[k]];
        if (need[m->order[k]])
            for (int q = 0; q < n->nin; q++) left[n->in_node[q]]++;
    }
    for (int k = 0; k < nout; k++) left[want[k]] += 1;
    for (int i = 0; i < nn; i++)
        if (m->nodes[i].is_const)
            for (int s = 0; s < TFJS_MAXOUT; s++) val[i * TFJS_MAXOUT + s] = m->nodes[i].konst[s];
    for (int i = 0; i < nin; i++) val[m->inputs[i] * TFJS_MAXOUT] = (tensor *)inputs[i];
    ops_macs = 0;
    m->last_conv_s = 0;
    int rc = 0;
    /* IMGDEX_TFJS_PROFILE=1: time per op type on stderr, to see where a
     * model spends its time */
    const char *pe = getenv("IMGDEX_TFJS_PROFILE");
    int prof = pe && *pe == '1';
    double *ptime = prof ? xcalloc((size_t)nn, sizeof(double)) : NULL;
    double *pmacs = prof ? xcalloc((size_t)nn, sizeof(double)) : NULL;
    for (int k = 0; k < m->norder && !rc; k++) {
        int id = m->order[k];
        tfjs_node *n = &m->nodes[id];
        if (!need[id]) continue;
        if (!strcmp(n->op, "Placeholder")) {
            if (!val[id * TFJS_MAXOUT]) {
                err_set(e, "%s: placeholder '%s' is not a model input", m->path, n->name);
                rc = -1;
            }
            continue;
        }
        tensor *in[64];
        if (n->nin > 64) {
            err_set(e, "%s: node '%s' has too many inputs", m->path, n->name);
            rc = -1;
            break;
        }
        for (int q = 0; q < n->nin; q++) {
            in[q] = val[n->in_node[q] * TFJS_MAXOUT + n->in_slot[q]];
            if (!in[q]) {
                err_set(e, "%s: node '%s' (%s): input %d has no value", m->path, n->name, n->op, q);
                rc = -1;
                break;
            }
        }
        if (rc) break;
        tensor **out = &val[id * TFJS_MAXOUT];
        double t0 = node_clock(), m0 = ops_macs;
        int p0 = n->nin ? n->in_node[0] : -1;
        if (tfjs_op_is_view(n) && p0 >= 0 && owned[p0] && left[p0] == 1 && n->in_slot[0] == 0) {
            /* Identity/Reshape/ExpandDims/Squeeze of a value nobody else
             * needs: retag its buffer instead of copying it */
            int shape[TENSOR_MAXDIM] = {0}, nd = tfjs_op_view_shape(n, in, shape, e);
            if (nd < 0 || tensor_reshape(in[0], nd, shape) != 0) {
                if (!e->set) err_set(e, "cannot reshape");
                err_prefix(e, "%s: node '%s' (%s)", m->path, n->name, n->op);
                rc = -1;
                break;
            }
            out[0] = in[0];
            val[p0 * TFJS_MAXOUT] = NULL;
        } else if (tfjs_op_run(m, n, in, out, e)) {
            err_prefix(e, "%s: node '%s' (%s)", m->path, n->name, n->op);
            rc = -1;
            break;
        }
        owned[id] = 1;
        double dt = node_clock() - t0;
        if (ops_macs > m0) m->last_conv_s += dt;
        if (prof) {
            ptime[id] = dt;
            pmacs[id] = ops_macs - m0;
        }
        for (int q = 0; q < n->nin; q++) {
            int p = n->in_node[q];
            if (--left[p] == 0 && owned[p]) {
                for (int s = 0; s < TFJS_MAXOUT; s++) {
                    tensor_free(val[p * TFJS_MAXOUT + s]);
                    val[p * TFJS_MAXOUT + s] = NULL;
                }
            }
        }
    }
    m->last_macs = ops_macs;
    if (prof) {
        /* sum by op name, print slowest first */
        double total = 0;
        for (int i = 0; i < nn; i++) total += ptime[i];
        fprintf(stderr, "profile %s: %.2f ms, %.3f GFLOP\n", m->path, total * 1e3, 2 * ops_macs / 1e9);
        char *done = xcalloc((size_t)nn, 1);
        for (int i = 0; i < nn; i++) {
            if (done[i] || ptime[i] == 0) continue;
            double t = 0, mc = 0;
            int cnt = 0;
            for (int j = i; j < nn; j++)
                if (!done[j] && ptime[j] > 0 && !strcmp(m->nodes[j].op, m->nodes[i].op)) {
                    t += ptime[j];
                    mc += pmacs[j];
                    cnt++;
                    done[j] = 1;
                }
            fprintf(stderr, "  %-28s %4d nodes %8.2f ms  %5.1f%%", m->nodes[i].op, cnt, t * 1e3,
                    100 * t / (total > 0 ? total : 1));
            if (mc > 0) fprintf(stderr, "  %6.1f GFLOP/s", 2 * mc / t / 1e9);
            fprintf(stderr, "\n");
        }
        if (getenv("IMGDEX_TFJS_PROFILE_NODES"))
            for (int i = 0; i < nn; i++)
                if (ptime[i] > 0)
                    fprintf(stderr, "    %-60.60s %-16s %7.2f ms %6.1f GFLOP/s\n", m->nodes[i].name,
                            m->nodes[i].op, ptime[i] * 1e3, 2 * pmacs[i] / ptime[i] / 1e9);
        free(done);
        free(ptime);
        free(pmacs);
    }
    if (!rc) {
        for (int k = 0; k < nout; k++) {
            tensor *t = val[want[k] * TFJS_MAXOUT + want_slot[k]];
            if (!t) {
                err_set(e, "%s: output '%s' has no value", m->path, m->nodes[want[k]].name);
                rc = -1;
                break;
            }
            /* the same value may be asked for twice, and constants and
             * inputs are not ours: hand out copies then */
            int dup = 0;
            for (int q = 0; q < k; q++) if (want[q] == want[k] && want_slot[q] == want_slot[k]) dup = 1;
            outputs[k] = (owned[want[k]] && !dup) ? t : tensor_clone(t);
        }
        if (rc)
            for (int k = 0; k < nout; k++) outputs[k] = NULL;
    }
    /* free everything still held except what was handed out */
    for (int i = 0; i < nn; i++) {
        if (!owned[i]) continue;
        for (int s = 0; s < TFJS_MAXOUT; s++) {
            tensor *t = val[i * TFJS_MAXOUT + s];
            int given = 0;
            for (int k = 0; !rc && k < nout; k++) if (outputs[k] == t) given = 1;
            if (!given) tensor_free(t);
        }
    }
    free(val);
    free(owned);
    free(left);
    free(need);
    return rc;
}

int tfjs_run(tfjs_model *m, const tensor *const *inputs, int nin, tensor **outputs, int nout, ierr *e)
{
    if (nout > m->noutputs) nout = m->noutputs;
    return run(m, inputs, nin, m->outputs, m->out_slot, outputs, nout, e);
}

int tfjs_run_named(tfjs_model *m, const tensor *const *inputs, int nin, const char *const *names,
                   tensor **outputs, int nout, ierr *e)
{
    int *want = xcalloc((size_t)nout + 1, sizeof(int)), *slot = xcalloc((size_t)nout + 1, sizeof(int));
    int rc = 0;
    for (int k = 0; k < nout; k++) {
        int o = tfjs_output_index(m, names[k]);
        if (o >= 0) {
            want[k] = m->outputs[o];
            slot[k] = m->out_slot[o];
            continue;
        }
        /* any node, "name" or "name:1" */
        want[k] = tfjs_resolve(m, names[k], &slot[k]);
        if (want[k] < 0) {
            err_set(e, "%s: no node named '%s'", m->path, names[k]);
            rc = -1;
            break;
        }
        if (!tfjs_has_output(&m->nodes[want[k]], slot[k])) {
            err_set(e, "%s: node '%s' (%s) has no output '%s'", m->path, m->nodes[want[k]].name,
                    m->nodes[want[k]].op, names[k]);
            rc = -1;
            break;
        }
    }
    if (!rc) rc = run(m, inputs, nin, want, slot, outputs, nout, e);
    free(want);
    free(slot);
    return rc;
}

int tfjs_set_input_size(tfjs_model *m, int h, int w, ierr *e)
{
    if (m->ninputs < 1) { err_set(e, "%s: model has no input", m->path); return -1; }
    tfjs_node *in = &m->nodes[m->inputs[0]];
    if (in->ndim != 4 || in->shape[1] < 1 || in->shape[2] < 1) {
        err_set(e, "%s: input '%s' is not an image of known size", m->path, in->name);
        return -1;
    }
    if (!m->in_h0) {
        /* First call: remember the sizes as loaded, to scale from them. */
        m->in_h0 = in->shape[1];
        m->in_w0 = in->shape[2];
        for (int i = 0; i < m->nnodes; i++) {
            tfjs_node *n = &m->nodes[i];
            if (strcmp(n->op, "ResizeBilinear") && strcmp(n->op, "ResizeNearestNeighbor")) continue;
            const tensor *sz = n->nin == 2 && m->nodes[n->in_node[1]].is_const ? m->nodes[n->in_node[1]].konst[0] : NULL;
            if (!sz || sz->dtype != DT_I32 || sz->n != 2) continue;   /* computed at run time: scales itself */
            n->a.size0[0] = sz->i[0];
            n->a.size0[1] = sz->i[1];
        }
    }
    if (h <= 0 || w <= 0) { h = m->in_h0; w = m->in_w0; }
    /* Check every resize first, so a refused size changes nothing. */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < m->nnodes; i++) {
            tfjs_node *n = &m->nodes[i];
            if (!n->a.size0[0]) continue;
            long sh = (long)n->a.size0[0] * h, sw = (long)n->a.size0[1] * w;
            if (sh % m->in_h0 || sw % m->in_w0) {
                err_set(e, "%s: cannot run at %dx%d: resize '%s' would be %ld/%d x %ld/%d pixels", m->path, h, w,
                        n->name, sh, m->in_h0, sw, m->in_w0);
                return -1;
            }
            if (pass) {
                tensor *sz = m->nodes[n->in_node[1]].konst[0];
                sz->i[0] = (int32_t)(sh / m->in_h0);
                sz->i[1] = (int32_t)(sw / m->in_w0);
            }
        }
    in->shape[1] = h;
    in->shape[2] = w;
    return 0;
}
