/* tfjs.c — placeholder until the graph runner lands: every call fails cleanly. */
#include "engine/tfjs.h"

tfjs_model *tfjs_load(const char *path, ierr *e) { err_set(e, "%s: tfjs engine not built yet", path); return NULL; }
void tfjs_free(tfjs_model *m) { (void)m; }
int tfjs_num_inputs(const tfjs_model *m) { (void)m; return 0; }
int tfjs_num_outputs(const tfjs_model *m) { (void)m; return 0; }
const char *tfjs_input_name(const tfjs_model *m, int i) { (void)m; (void)i; return NULL; }
const char *tfjs_output_name(const tfjs_model *m, int i) { (void)m; (void)i; return NULL; }
int tfjs_input_shape(const tfjs_model *m, int i, int *s) { (void)m; (void)i; (void)s; return 0; }
int tfjs_output_shape(const tfjs_model *m, int i, int *s) { (void)m; (void)i; (void)s; return 0; }
int tfjs_input_index(const tfjs_model *m, const char *n) { (void)m; (void)n; return -1; }
int tfjs_output_index(const tfjs_model *m, const char *n) { (void)m; (void)n; return -1; }
int tfjs_run(tfjs_model *m, const tensor *const *in, int nin, tensor **out, int nout, ierr *e)
{ (void)m; (void)in; (void)nin; (void)out; (void)nout; err_set(e, "tfjs engine not built yet"); return -1; }
int tfjs_run_named(tfjs_model *m, const tensor *const *in, int nin, const char *const *names,
                   tensor **out, int nout, ierr *e)
{ (void)names; return tfjs_run(m, in, nin, out, nout, e); }
double tfjs_last_run_flops(const tfjs_model *m) { (void)m; return 0; }
