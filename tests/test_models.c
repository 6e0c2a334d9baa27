/* test_models.c — the parts of the vision models that need no engine:
 * COCO labels, resampling, letterbox geometry, NMS, missing-file errors. */
#include "test.h"

#include "models/models.h"
#include "models/prep.h"

/* Darknet's coco.names lists the same 80 classes in the same order, with a
 * few older names. */
TEST(coco_labels_match_darknet_order)
{
    FILE *f = fopen("/usr/share/darknet/data/coco.names", "r");
    if (!f) SKIP("no /usr/share/darknet/data/coco.names (Debian package darknet)");
    static const char *alias[][2] = {{"motorbike", "motorcycle"}, {"aeroplane", "airplane"},
                                     {"sofa", "couch"}, {"pottedplant", "potted plant"},
                                     {"diningtable", "dining table"}, {"tvmonitor", "tv"}};
    char line[128];
    int i = 0, bad = -1;
    while (fgets(line, sizeof line, f) && i < 80) {
        line[strcspn(line, "\r\n")] = 0;
        const char *want = line;
        for (size_t k = 0; k < sizeof alias / sizeof alias[0]; k++)
            if (!strcmp(line, alias[k][0])) want = alias[k][1];
        if (!coco_label(i) || strcmp(coco_label(i), want)) bad = bad < 0 ? i : bad;
        i++;
    }
    fclose(f);
    CHECK_EQ_INT(i, 80);
    CHECKF(bad < 0, "class %d is %s", bad, coco_label(bad));
    CHECK(coco_label(80) == NULL);
    CHECK(coco_label(-1) == NULL);
    CHECK_STR(coco_label(16), "dog");
}

/* 4x2 image shrunk to 2x1: each output pixel is the mean of a 2x2 block. */
TEST(resample_area_average)
{
    uint8_t px[4 * 2 * 3];
    for (int i = 0; i < 8; i++) {
        px[3 * i] = (uint8_t)(i * 10);  /* R: 0 10 20 30 / 40 50 60 70 */
        px[3 * i + 1] = 100;
        px[3 * i + 2] = (uint8_t)(i % 2 ? 255 : 0);
    }
    img im = {4, 2, px};
    float out[6];
    vm_resample(&im, 0, 0, 4, 2, out, 2, 1, 6, 1.f, 0.f);
    CHECK_NEAR(out[0], (0 + 10 + 40 + 50) / 4.0, 1e-4);
    CHECK_NEAR(out[3], (20 + 30 + 60 + 70) / 4.0, 1e-4);
    CHECK_NEAR(out[1], 100, 1e-4);
    CHECK_NEAR(out[2], 127.5, 1e-4);
    /* A third: weights 1/1.5 and 0.5/1.5 on the first two columns of row 0. */
    float o3[3 * 2];
    img row = {3, 1, px};
    vm_resample(&row, 0, 0, 3, 1, o3, 2, 1, 6, 1.f / 255, 0.5f);
    CHECK_NEAR(o3[0], (0 * (1 / 1.5) + 10 * (0.5 / 1.5)) / 255 + 0.5, 1e-5);
    CHECK_NEAR(o3[3], (10 * (0.5 / 1.5) + 20 * (1 / 1.5)) / 255 + 0.5, 1e-5);
}

TEST(resample_upscale_is_linear)
{
    uint8_t px[2 * 1 * 3] = {0, 0, 0, 200, 200, 200};
    img im = {2, 1, px};
    float out[4 * 3];
    vm_resample(&im, 0, 0, 2, 1, out, 4, 1, 12, 1.f, 0.f);
    /* Output centres map to source x = -0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1). */
    CHECK_NEAR(out[0], 0, 1e-4);
    CHECK_NEAR(out[3], 50, 1e-4);
    CHECK_NEAR(out[6], 150, 1e-4);
    CHECK_NEAR(out[9], 200, 1e-4);
}

TEST(letterbox_places_and_undoes)
{
    /* 8x4 white image into 4x4: 4x2 picture rows 1..2, padding -1. */
    uint8_t px[8 * 4 * 3];
    memset(px, 255, sizeof px);
    img im = {8, 4, px};
    float t[4 * 4 * 3];
    letterbox lb;
    vm_letterbox(&im, 4, t, 2.f / 255, -1.f, &lb);
    CHECK_EQ_INT(lb.nw, 4);
    CHECK_EQ_INT(lb.nh, 2);
    CHECK_EQ_INT(lb.ox, 0);
    CHECK_EQ_INT(lb.oy, 1);
    for (int y = 0; y < 4; y++) {
        float want = y == 1 || y == 2 ? 1.f : -1.f;
        for (int i = 0; i < 12; i++) CHECKF(fabsf(t[y * 12 + i] - want) < 1e-5f, "row %d value %g", y, t[y * 12 + i]);
    }
    CHECK_NEAR(lb_y(&lb, 1), 0, 1e-6);
    CHECK_NEAR(lb_y(&lb, 3), 1, 1e-6);
    CHECK_NEAR(lb_y(&lb, 2), 0.5, 1e-6);
    CHECK_NEAR(lb_y(&lb, 0), 0, 1e-6);   /* in the padding: clamped */
    CHECK_NEAR(lb_x(&lb, 1), 0.25, 1e-6);
}

TEST(nms_is_classwise)
{
    det_box b[5] = {
        {0.0f, 0.0f, 0.5f, 0.5f, 0.6f, 16, "dog"},
        {0.02f, 0.0f, 0.52f, 0.5f, 0.9f, 16, "dog"},  /* overlaps the first, higher */
        {0.0f, 0.0f, 0.5f, 0.5f, 0.7f, 15, "cat"},     /* same box, other class: kept */
        {0.6f, 0.6f, 0.9f, 0.9f, 0.3f, 16, "dog"},     /* elsewhere: kept */
        {0.3f, 0.3f, 0.7f, 0.7f, 0.5f, 16, "dog"},     /* IoU ~0.14 with the best: kept */
    };
    int n = vm_nms(b, 5, 0.5f);
    CHECK_EQ_INT(n, 4);
    CHECK_NEAR(b[0].score, 0.9, 1e-6);
    CHECK_STR(b[1].label, "cat");
    CHECK_NEAR(b[2].score, 0.5, 1e-6);
    CHECK_NEAR(b[3].score, 0.3, 1e-6);
    CHECK_NEAR(vm_iou(&b[0], &b[0]), 1, 1e-6);
    det_box c[2] = {b[0], b[0]};
    CHECK_EQ_INT(vm_nms(c, 2, 1.0f), 2);
}

TEST(missing_model_files_are_named)
{
    const char *dir = test_tmpdir("models-missing");
    setenv("IMGDEX_MODELS", dir, 1);
    ierr e = {0};
    CHECK(detector_open(&e) == NULL);
    CHECKF(strstr(e.msg, "centernet.json") && strstr(e.msg, dir), "message: %s", e.msg);
    err_clear(&e);
    CHECK(faces_open(&e) == NULL);
    CHECKF(strstr(e.msg, "blazeface.json"), "message: %s", e.msg);
    err_clear(&e);
    CHECK(person_mask_open(&e) == NULL);
    CHECKF(strstr(e.msg, "selfie.json"), "message: %s", e.msg);
    const model_info *m = models_find("centernet");
    CHECK(m != NULL);
    long long bytes = -1;
    CHECK_EQ_INT(models_installed(m, &bytes), 0);
    /* Only the weights missing: the message names the .bin. */
    char p[600];
    snprintf(p, sizeof p, "%s/centernet.json", dir);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    fputs("{}", f);
    fclose(f);
    err_clear(&e);
    CHECK(detector_open(&e) == NULL);
    CHECKF(strstr(e.msg, "centernet.bin"), "message: %s", e.msg);
    unsetenv("IMGDEX_MODELS");
}

int main(void)
{
    RUN(coco_labels_match_darknet_order);
    RUN(resample_area_average);
    RUN(resample_upscale_is_linear);
    RUN(letterbox_places_and_undoes);
    RUN(nms_is_classwise);
    RUN(missing_model_files_are_named);
    return test_summary();
}
