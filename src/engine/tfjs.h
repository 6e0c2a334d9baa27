/* tfjs.h — run a TensorFlow.js "graph-model" (model.json + .bin shards) in C.
 *
 * The loader reads modelTopology.node and the weightsManifest (float32/int32,
 * and the uint8/uint16/float16 quantizations), then tfjs_run executes the
 * graph in topological order, freeing each intermediate after its last use.
 * An op the engine does not implement fails tfjs_load with an error naming
 * the op and the model file.
 *
 * Inputs and outputs:
 *   - inputs are the graph's Placeholder nodes, in the order of the
 *     signature's "inputs" when the model has one, else in node order;
 *   - outputs are the signature's "outputs" in the order they appear in
 *     model.json, else every non-Const node nobody consumes, in node order
 *     (this is what tfjs' GraphModel.execute() returns).
 * Input tensors are NHWC float32 (DT_F32) or int32, exactly the shape the
 * Placeholder declares except that -1 dimensions (batch) may be anything.
 * A tfjs_model may be run from one thread at a time; different models may
 * run concurrently.  The engine parallelises inside each op (see
 * engine_set_threads in engine.h).
 */
#ifndef IMGDEX_TFJS_H
#define IMGDEX_TFJS_H

#include "base/base.h"
#include "engine/tensor.h"

typedef struct tfjs_model tfjs_model;

/* Loads model.json and the weight shards named in it (paths relative to the
 * json's directory).  NULL + e ("centernet.json: unsupported op 'Foo' (node
 * 'bar')", "centernet.bin: truncated: ...") on failure. */
tfjs_model *tfjs_load(const char *model_json_path, ierr *e);
void tfjs_free(tfjs_model *m);

int tfjs_num_inputs(const tfjs_model *m);
int tfjs_num_outputs(const tfjs_model *m);
/* Input names are node names ("input_1"); output names are the signature's
 * keys when the model has a signature ("age_output"), else node names —
 * the names tfjs' GraphModel uses. */
const char *tfjs_input_name(const tfjs_model *m, int i);
const char *tfjs_output_name(const tfjs_model *m, int i);
/* Declared shape: returns ndim (0 when unknown) and fills shape[0..ndim-1],
 * -1 for a free dimension.  shape must hold TENSOR_MAXDIM ints. */
int tfjs_input_shape(const tfjs_model *m, int i, int *shape);
int tfjs_output_shape(const tfjs_model *m, int i, int *shape);
/* Index of the input/output with this name (node name, signature key, or
 * "node:0" form all match), -1 when none. */
int tfjs_input_index(const tfjs_model *m, const char *name);
int tfjs_output_index(const tfjs_model *m, const char *name);

/* Runs the model.  inputs[0..nin-1] in input order (nin must equal
 * tfjs_num_inputs).  outputs[0..nout-1] receive new tensors the caller frees
 * with tensor_free, in output order; nout may be smaller than
 * tfjs_num_outputs (the rest are discarded) and outputs may be NULL when
 * nout == 0.  Returns 0, or -1 + e (bad input shape, ...). */
int tfjs_run(tfjs_model *m, const tensor *const *inputs, int nin,
             tensor **outputs, int nout, ierr *e);

/* Same, but outputs picked by name (see tfjs_output_index): names[k] ->
 * outputs[k].  Any graph node name works, not only declared outputs, which
 * is handy for debugging. */
int tfjs_run_named(tfjs_model *m, const tensor *const *inputs, int nin,
                   const char *const *names, tensor **outputs, int nout, ierr *e);

/* Runs a fully convolutional graph at another image size than it declares:
 * input 0 (NHWC) becomes [n, h, w, c].  The converter froze the target size
 * of every resize op for the declared size; those are rescaled in
 * proportion (they must scale to whole numbers, else -1 + e).  Other
 * values frozen from shapes are not: ask tfjs_run_named only for outputs
 * that do not depend on them.  The declared size (h = w = 0) restores the
 * model as loaded. */
int tfjs_set_input_size(tfjs_model *m, int h, int w, ierr *e);

/* Total floating-point operations (2 per multiply-add) of the conv/matmul nodes in the last run
 * (for GFLOP/s figures), and the number of nodes. */
double tfjs_last_run_flops(const tfjs_model *m);
/* Wall seconds the last run spent in those conv/matmul nodes. */
double tfjs_last_run_conv_seconds(const tfjs_model *m);

/* The k-th TensorFlow op name the engine implements (k = 0, 1, ...), NULL
 * after the last: the supported op set. */
const char *tfjs_op_name(int k);

#endif
