/* test_tfjs_loader.c — the tfjs graph-model loader and runner on a small
 * model written here: uint8 and float16 quantized weights, a fused conv,
 * "node:1" outputs, control inputs, output order, and the errors for bad
 * files (each must name the file and the reason). */
#include "test.h"
#include "engine/tfjs.h"

static const char *dir;

static void write_file(const char *name, const void *data, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(2); }
    fwrite(data, 1, n, f);
    fclose(f);
}

/* x[1,2,2,1] -> conv 1x1 to 2 channels (w = {0, 2} as uint8 with scale 0.5,
 * min -1; bias {1, -0.5} as float16) + relu -> reshape [1,8] -> top 2. */
static const char *model_json(const char *op, const char *bin)
{
    static char buf[8192];
    snprintf(buf, sizeof buf,
        "{\"format\":\"graph-model\",\"modelTopology\":{\"node\":["
        "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},"
        "  \"shape\":{\"shape\":{\"dim\":[{\"size\":\"-1\"},{\"size\":\"2\"},{\"size\":\"2\"},{\"size\":\"1\"}]}}}},"
        "{\"name\":\"w\",\"op\":\"Const\"},{\"name\":\"b\",\"op\":\"Const\"},"
        "{\"name\":\"k\",\"op\":\"Const\"},{\"name\":\"shape\",\"op\":\"Const\"},"
        "{\"name\":\"conv\",\"op\":\"%s\",\"input\":[\"x\",\"w\",\"b\"],\"attr\":{"
        "  \"strides\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}},\"padding\":{\"s\":\"VkFMSUQ=\"},"
        "  \"data_format\":{\"s\":\"TkhXQw==\"},\"num_args\":{\"i\":\"1\"},"
        "  \"fused_ops\":{\"list\":{\"s\":[\"Qmlhc0FkZA==\",\"UmVsdQ==\"]}}}},"
        "{\"name\":\"r\",\"op\":\"Reshape\",\"input\":[\"conv\",\"shape\"]},"
        "{\"name\":\"top\",\"op\":\"TopKV2\",\"input\":[\"r\",\"k\"],\"attr\":{\"sorted\":{\"b\":true}}},"
        "{\"name\":\"values\",\"op\":\"Identity\",\"input\":[\"top\"]},"
        "{\"name\":\"indices\",\"op\":\"Cast\",\"input\":[\"top:1\",\"^x\"],"
        "  \"attr\":{\"SrcT\":{\"type\":\"DT_INT32\"},\"DstT\":{\"type\":\"DT_FLOAT\"}}}"
        "]},\"weightsManifest\":[{\"paths\":[\"%s\"],\"weights\":["
        "{\"name\":\"w\",\"shape\":[1,1,1,2],\"dtype\":\"float32\","
        "  \"quantization\":{\"dtype\":\"uint8\",\"scale\":0.5,\"min\":-1}},"
        "{\"name\":\"b\",\"shape\":[2],\"dtype\":\"float32\","
        "  \"quantization\":{\"dtype\":\"float16\",\"original_dtype\":\"float32\"}},"
        "{\"name\":\"k\",\"shape\":[],\"dtype\":\"int32\"},"
        "{\"name\":\"shape\",\"shape\":[2],\"dtype\":\"int32\"}]}]}",
        op, bin);
    return buf;
}

static const unsigned char weights[18] = {
    2, 6,                       /* uint8: 2*0.5-1 = 0, 6*0.5-1 = 2 */
    0x00, 0x3c, 0x00, 0xb8,     /* float16: 1.0, -0.5 */
    2, 0, 0, 0,                 /* k = 2 */
    1, 0, 0, 0, 8, 0, 0, 0,     /* shape = [1, 8] */
};

static char jpath[1024];

static void setup(const char *op, const char *bin, size_t nweights)
{
    const char *j = model_json(op, bin);
    write_file("m.json", j, strlen(j));
    write_file("m.bin", weights, nweights);
    snprintf(jpath, sizeof jpath, "%s/m.json", dir);
}

/* The small model with its first `from` replaced by `to`, as m.json. */
static int write_edited_model(const char *from, const char *to)
{
    const char *j = model_json("_FusedConv2D", "m.bin");
    const char *at = strstr(j, from);
    if (!at) return -1;
    char buf[8400];
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - j), j, to, at + strlen(from));
    write_file("m.json", buf, strlen(buf));
    snprintf(jpath, sizeof jpath, "%s/m.json", dir);
    return 0;
}

/* The small model with `from` replaced by `to` and its weights, loaded:
 * the model, or NULL with the loader's error (or, if `from` is not in
 * the model, an error saying so, so the test fails rather than loading
 * the unedited model). */
static tfjs_model *load_edited(const char *from, const char *to, ierr *e)
{
    if (write_edited_model(from, to) != 0) {
        snprintf(e->msg, sizeof e->msg, "test: '%s' is not in the model", from);
        return NULL;
    }
    write_file("m.bin", weights, sizeof weights);
    return tfjs_load(jpath, e);
}

TEST(loads_and_runs_small_model)
{
    setup("_FusedConv2D", "m.bin", sizeof weights);
    ierr e = {0};
    tfjs_model *m = tfjs_load(jpath, &e);
    CHECKF(m, "%s", e.msg);
    CHECK_EQ_INT(tfjs_num_inputs(m), 1);
    CHECK_STR(tfjs_input_name(m, 0), "x");
    int s[TENSOR_MAXDIM];
    CHECK_EQ_INT(tfjs_input_shape(m, 0, s), 4);
    CHECK_EQ_INT(s[0], -1);
    CHECK_EQ_INT(tfjs_num_outputs(m), 2);
    CHECK_STR(tfjs_output_name(m, 0), "values");
    CHECK_STR(tfjs_output_name(m, 1), "indices");
    CHECK_EQ_INT(tfjs_output_index(m, "indices:0"), 1);
    float xv[4] = {1, 2, 3, 4};
    tensor *x = tensor_wrap(DT_F32, 4, (int[]){1, 2, 2, 1}, xv);
    const tensor *in[1] = {x};
    tensor *out[2] = {0};
    CHECKF(tfjs_run(m, in, 1, out, 2, &e) == 0, "%s", e.msg);
    /* channel 1 = relu(2x - 0.5) = 1.5, 3.5, 5.5, 7.5; channel 0 = 1 */
    CHECK(out[0]->n == 2 && out[1]->n == 2);
    CHECK_NEAR(out[0]->f[0], 7.5, 1e-6);
    CHECK_NEAR(out[0]->f[1], 5.5, 1e-6);
    CHECK(out[1]->dtype == DT_F32 && out[1]->f[0] == 7 && out[1]->f[1] == 5);
    tensor_free(out[0]); tensor_free(out[1]);
    /* by name, including an inner node and the same output twice */
    const char *names[3] = {"indices", "r", "indices"};
    tensor *o3[3] = {0};
    CHECKF(tfjs_run_named(m, in, 1, names, o3, 3, &e) == 0, "%s", e.msg);
    CHECK(o3[1]->n == 8 && o3[1]->f[0] == 1 && o3[1]->f[1] == 1.5f);
    CHECK(o3[0] != o3[2] && o3[2]->f[0] == 7);
    for (int k = 0; k < 3; k++) tensor_free(o3[k]);
    CHECK_NEAR(tfjs_last_run_flops(m), 2 * 4 * 2, 1e-9);
    /* an inner node's second output by name; a slot the node lacks, or one
     * that is not a number, is an error (was quietly slot 0) */
    const char *second[1] = {"top:1"};
    tensor *o1[1] = {0};
    CHECKF(tfjs_run_named(m, in, 1, second, o1, 1, &e) == 0, "%s", e.msg);
    CHECK(o1[0] && o1[0]->dtype == DT_I32 && o1[0]->n == 2 && o1[0]->i[0] == 7 && o1[0]->i[1] == 5);
    tensor_free(o1[0]);
    static const char *wrong[] = {"top:2", "r:1", "top:-1", "top:x"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        o1[0] = NULL;
        err_clear(&e);
        CHECKF(tfjs_run_named(m, in, 1, &wrong[i], o1, 1, &e) == -1, "ran '%s'", wrong[i]);
        tensor_free(o1[0]);
        CHECKF(strstr(e.msg, "m.json") && strstr(e.msg, wrong[i]), "'%s' for %s", e.msg, wrong[i]);
    }
    err_clear(&e);
    /* a batch of 2 is accepted by the free dimension, wrong H is not */
    float x2v[8] = {0};
    tensor *x2 = tensor_wrap(DT_F32, 4, (int[]){1, 2, 4, 1}, x2v);
    const tensor *in2[1] = {x2};
    CHECK(tfjs_run(m, in2, 1, out, 2, &e) == -1);
    CHECK(strstr(e.msg, "m.json") && strstr(e.msg, "shape"));
    tensor_free(x2);
    tensor_free(x);
    tfjs_free(m);
}

TEST(unknown_op_names_op_and_model)
{
    setup("FancyConv3000", "m.bin", sizeof weights);
    ierr e = {0};
    CHECK(tfjs_load(jpath, &e) == NULL);
    CHECK(strstr(e.msg, "FancyConv3000") && strstr(e.msg, "m.json"));
}

TEST(truncated_weights_name_the_shard)
{
    setup("_FusedConv2D", "m.bin", 10);
    ierr e = {0};
    CHECK(tfjs_load(jpath, &e) == NULL);
    CHECK(strstr(e.msg, "m.bin") && strstr(e.msg, "truncated"));
}

TEST(missing_shard_and_bad_json)
{
    setup("_FusedConv2D", "nope.bin", sizeof weights);
    ierr e = {0};
    CHECK(tfjs_load(jpath, &e) == NULL);
    CHECK(strstr(e.msg, "nope.bin"));
    write_file("m.json", "{\"modelTopology\": [", 19);
    err_clear(&e);
    CHECK(tfjs_load(jpath, &e) == NULL && strstr(e.msg, "m.json"));
    write_file("m.json", "{\"modelTopology\": {}}", 21);
    err_clear(&e);
    CHECK(tfjs_load(jpath, &e) == NULL && strstr(e.msg, "m.json"));
    err_clear(&e);
    char nofile[1100];
    snprintf(nofile, sizeof nofile, "%s/absent.json", dir);
    CHECK(tfjs_load(nofile, &e) == NULL && strstr(e.msg, "absent.json"));
}

/* Shapes no shard could hold: a dim past int range (2e76; an undefined
 * conversion once), and dims whose product wraps size_t to 0 (once loaded
 * as an empty tensor with a huge shape). */
TEST(hostile_weight_shapes_are_refused)
{
    static const char *shapes[] = {"[2e76,1,1,2]", "[65536,65536,65536,65536]", "[-1e300,1,1,2]", "[1,1,1,2e9]"};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        ierr e = {0};
        tfjs_model *m = load_edited("[1,1,1,2]", shapes[i], &e);
        CHECKF(m == NULL, "accepted weight shape %s", shapes[i]);
        if (m) tfjs_free(m);
        CHECKF(strstr(e.msg, "'w'") && strstr(e.msg, "m."), "'%s' for %s", e.msg, shapes[i]);
    }
}

/* A float tensor as Reshape's target shape, holding -1.6e35: a shape
 * error at run time (its conversion to int was undefined; fuzz_tfjs). */
TEST(float_shape_out_of_int_range_is_an_error)
{
    int edited = write_edited_model("{\"name\":\"shape\",\"shape\":[2],\"dtype\":\"int32\"}",
                                    "{\"name\":\"shape\",\"shape\":[2],\"dtype\":\"float32\"}");
    CHECK(edited == 0);
    if (edited) return;
    unsigned char w[sizeof weights];
    memcpy(w, weights, sizeof w);
    float sh[2] = {-1.6e35f, 8};
    memcpy(w + 10, sh, sizeof sh);
    write_file("m.bin", w, sizeof w);
    ierr e = {0};
    tfjs_model *m = tfjs_load(jpath, &e);
    CHECKF(m, "%s", e.msg);
    if (!m) return;
    float xv[4] = {1, 2, 3, 4};
    tensor *x = tensor_wrap(DT_F32, 4, (int[]){1, 2, 2, 1}, xv);
    const tensor *in[1] = {x};
    tensor *out[2] = {0};
    CHECK(tfjs_run(m, in, 1, out, 2, &e) == -1);
    CHECKF(strstr(e.msg, "m.json"), "%s", e.msg);
    tensor_free(x);
    tfjs_free(m);
}

/* "top:2" on a two-output TopKV2 read past the producer's outputs while
 * constants were folded (fuzz_tfjs); every slot a node lacks is an error
 * naming the file and the producer. */
TEST(reading_an_output_the_producer_lacks_is_an_error)
{
    static const char *refs[] = {"top:2", "top:-1", "top:99999999999", "r:1", "k:1"};
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        char quoted[32];
        snprintf(quoted, sizeof quoted, "\"%s\"", refs[i]);
        ierr e = {0};
        tfjs_model *m = load_edited("\"top:1\"", quoted, &e);
        CHECKF(m == NULL, "accepted input '%s'", refs[i]);
        if (m) tfjs_free(m);
        char producer[16];
        snprintf(producer, sizeof producer, "'%.*s'", (int)strcspn(refs[i], ":"), refs[i]);
        CHECKF(strstr(e.msg, "m.json") && strstr(e.msg, producer) && strstr(e.msg, "'indices'"), "'%s' for %s",
               e.msg, refs[i]);
    }
    /* the unmutated model still loads: the check refuses only what is wrong */
    setup("_FusedConv2D", "m.bin", sizeof weights);
    ierr e = {0};
    tfjs_model *m = tfjs_load(jpath, &e);
    CHECKF(m != NULL, "%s", e.msg);
    if (m) tfjs_free(m);
}

/* A signature entry is checked like a node input: a slot its node lacks,
 * entries that are not objects, more entries than nodes, an input named
 * twice.  No fuzz seed had a signature: entries that are not objects
 * crashed (a NULL name looked up), and more outputs than nodes wrote past
 * the output table. */
TEST(hostile_signatures_are_refused)
{
    /* "k:1" names a second output of a constant, which the first check
     * (68aaacf) let through; "top:1" is a slot TopKV2 has */
    static const char *outs[] = {"top:2", "k:1", "top:1"};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        char sig[96];
        snprintf(sig, sizeof sig, "]},\"signature\":{\"outputs\":{\"o\":{\"name\":\"%s\"}}},\"weightsManifest\"",
                 outs[i]);
        ierr e = {0};
        tfjs_model *m = load_edited("]},\"weightsManifest\"", sig, &e);
        if (!strcmp(outs[i], "top:1")) {
            CHECKF(m && tfjs_num_outputs(m) == 1, "'%s' for %s", e.msg, outs[i]);
        } else {
            CHECKF(m == NULL, "accepted signature output '%s'", outs[i]);
            CHECKF(strstr(e.msg, "m.json") && strstr(e.msg, "missing slot"), "'%s' for %s", e.msg, outs[i]);
        }
        if (m) tfjs_free(m);
    }
    /* a signature whose entries are not objects (arrays of numbers) names
     * nothing: an error, not a NULL name looked up */
    static const char *odd[] = {"{\"inputs\":[1],\"outputs\":{\"o\":{\"name\":\"top:1\"}}}",
                                "{\"outputs\":[2]}"};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        char sig[160];
        snprintf(sig, sizeof sig, "]},\"signature\":%s,\"weightsManifest\"", odd[i]);
        ierr e = {0};
        tfjs_model *m = load_edited("]},\"weightsManifest\"", sig, &e);
        if (i == 0) {   /* the odd inputs are ignored: x is found as the graph's Placeholder */
            CHECKF(m && tfjs_num_inputs(m) == 1, "'%s' for %s", e.msg, odd[i]);
        } else {
            CHECKF(m == NULL && strstr(e.msg, "m.json") && strstr(e.msg, "signature"), "'%s' for %s", e.msg, odd[i]);
        }
        if (m) tfjs_free(m);
    }
    /* a signature listing more entries than the graph has nodes (outputs
     * may repeat; an input named twice is an error) */
    char many[1200] = "]},\"signature\":{\"outputs\":{";
    for (int k = 0; k < 30; k++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%s\"o%d\":{\"name\":\"top:1\"}", k ? "," : "", k);
    strcat(many, "}},\"weightsManifest\"");
    CHECK(write_edited_model("]},\"weightsManifest\"", many) == 0);
    ierr e = {0};
    tfjs_model *m = tfjs_load(jpath, &e);
    CHECKF(m && tfjs_num_outputs(m) == 30, "%s", e.msg);
    if (m) tfjs_free(m);
    CHECK(write_edited_model("]},\"weightsManifest\"",
                             "]},\"signature\":{\"inputs\":{\"a\":{\"name\":\"x\"},\"b\":{\"name\":\"x:0\"}}},"
                             "\"weightsManifest\"") == 0);
    err_clear(&e);
    m = tfjs_load(jpath, &e);
    CHECKF(m == NULL && strstr(e.msg, "m.json") && strstr(e.msg, "'x' twice"), "%s", e.msg);
    if (m) tfjs_free(m);
}

TEST(op_set_is_listed)
{
    int n = 0, conv = 0, topk = 0;
    for (const char *s; (s = tfjs_op_name(n)); n++) {
        if (!strcmp(s, "_FusedConv2D")) conv = 1;
        if (!strcmp(s, "TopKV2")) topk = 1;
    }
    CHECK(n > 40 && conv && topk);
}

int main(void)
{
    dir = test_tmpdir("tfjs-loader");
    RUN(loads_and_runs_small_model);
    RUN(hostile_weight_shapes_are_refused);
    RUN(float_shape_out_of_int_range_is_an_error);
    RUN(unknown_op_names_op_and_model);
    RUN(truncated_weights_name_the_shard);
    RUN(missing_shard_and_bad_json);
    RUN(reading_an_output_the_producer_lacks_is_an_error);
    RUN(hostile_signatures_are_refused);
    RUN(op_set_is_listed);
    return test_summary();
}
