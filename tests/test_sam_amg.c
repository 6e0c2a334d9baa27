/* test_sam_amg.c — automatic mask generation: the filters on hand-made
 * masks, and the whole generator against tests/sam_ref.py's on a random
 * checkpoint and a synthetic photo. */
#include "test.h"

#include "models/sam/sam.h"
#include "models/sam/sam_impl.h"
#include "sam_test_util.h"

static const char *tmp;
static int suite_ok;

/* Masks drawn as text: '#' set. */
static uint8_t *draw(const char *const *rows, int h, int *w)
{
    *w = (int)strlen(rows[0]);
    uint8_t *m = xmalloc((size_t)*w * h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < *w; x++) m[y * *w + x] = rows[y][x] == '#';
    return m;
}

static int same(const uint8_t *m, const char *const *rows, int h, int w)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (m[y * w + x] != (rows[y][x] == '#')) return 0;
    return 1;
}

TEST(small_regions)
{
    static const char *const in[] = {
        "#######.....",
        "#..####.....",
        "#######...#.",
        "#######..#..",
        "............",
    };
    static const char *const filled[] = {
        "#######.....",
        "#######.....",
        "#######...#.",
        "#######..#..",
        "............",
    };
    static const char *const cleaned[] = {
        "#######.....",
        "#######.....",
        "#######.....",
        "#######.....",
        "............",
    };
    int w;
    uint8_t *m = draw(in, 5, &w);
    /* The hole has 2 pixels: an area of 2 keeps it, 3 fills it. */
    CHECK(sam_remove_small(m, w, 5, 2, 1) == 0);
    CHECK(same(m, in, 5, w));
    CHECK(sam_remove_small(m, w, 5, 3, 1) == 1);
    CHECK(same(m, filled, 5, w));
    /* The diagonal island is one 8-connected region of 2 pixels. */
    CHECK(sam_remove_small(m, w, 5, 2, 0) == 0);
    CHECK(sam_remove_small(m, w, 5, 3, 0) == 1);
    CHECK(same(m, cleaned, 5, w));
    /* Every island small: the largest stays (reported as a change, as the
     * reference does). */
    CHECK(sam_remove_small(m, w, 5, 1000, 0) == 1);
    CHECK(same(m, cleaned, 5, w));
    free(m);
    static const char *const two[] = {"##..#", "##...", "....."};
    m = draw(two, 3, &w);
    CHECK(sam_remove_small(m, w, 3, 1000, 0) == 1);
    static const char *const big[] = {"##...", "##...", "....."};
    CHECK(same(m, big, 3, w));
    free(m);
}

TEST(box_nms)
{
    /* IoU(a, b) = 64 / (100 + 100 - 64) = 0.47; c lies far away; d equals a. */
    const int box[4][4] = {{0, 0, 10, 10}, {2, 2, 12, 12}, {50, 50, 60, 60}, {0, 0, 10, 10}};
    const float score[4] = {0.5f, 0.9f, 0.7f, 0.5f};
    int keep[4];
    int n = sam_box_nms(box, score, 4, 0.5f, keep);
    CHECK_EQ_INT(n, 3);   /* b, c, a (d: IoU 1 with a, which is first among equals) */
    CHECK_EQ_INT(keep[0], 1);
    CHECK_EQ_INT(keep[1], 2);
    CHECK_EQ_INT(keep[2], 0);
    n = sam_box_nms(box, score, 4, 0.4f, keep);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(keep[0], 1);
    CHECK_EQ_INT(keep[1], 2);
    n = sam_box_nms(box, score, 4, 1.0f, keep);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_INT(keep[2], 0);
    CHECK_EQ_INT(keep[3], 3);
}

/* A segment is named after the detector box that holds most of it. */
TEST(segment_labels_from_boxes)
{
    /* 10 x 4 image; the mask is columns 1..3 of every row (12 pixels). */
    uint32_t counts[] = {4, 12, 24};
    sam_segment s = {.w = 10, .h = 4, .ncounts = 3, .counts = counts, .area = 12};
    uint8_t *m = sam_segment_mask(&s);
    CHECK(m[0] == 0 && m[1] == 1 && m[3] == 1 && m[4] == 0 && m[3 * 10 + 2] == 1);
    free(m);
    det_box boxes[3] = {
        {0.0f, 0.0f, 0.25f, 1.0f, 0.9f, 0, "person"},   /* centres x 0.05..0.25: columns 0..2 */
        {0.1f, 0.0f, 1.0f, 1.0f, 0.3f, 1, "bicycle"},    /* columns 1..9: all of it */
        {0.6f, 0.0f, 1.0f, 1.0f, 0.99f, 2, "car"},       /* none of it */
    };
    float share;
    CHECK_EQ_INT(sam_segment_box(&s, boxes, 3, 0.5f, &share), 1);
    CHECK_NEAR(share, 1.0, 1e-6);
    CHECK_EQ_INT(sam_segment_box(&s, boxes, 1, 0.5f, &share), 0);
    CHECK_NEAR(share, 8.0 / 12, 1e-6);
    CHECK_EQ_INT(sam_segment_box(&s, boxes, 1, 0.7f, &share), -1);
    CHECK_EQ_INT(sam_segment_box(&s, boxes + 2, 1, 0.1f, &share), -1);
    CHECK_NEAR(share, 0.0, 1e-9);
}

static uint8_t *decode_counts(const cJSON *counts, int w, int h)
{
    sam_segment s = {0};
    s.w = w, s.h = h;
    s.ncounts = cJSON_GetArraySize(counts);
    s.counts = xmalloc((size_t)(s.ncounts ? s.ncounts : 1) * sizeof *s.counts);
    int i = 0;
    for (const cJSON *c = counts->child; c; c = c->next) s.counts[i++] = (uint32_t)c->valuedouble;
    uint8_t *m = sam_segment_mask(&s);
    free(s.counts);
    return m;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return v ? v->valuedouble : NAN;
}

/* Run both generators with these options and compare. */
static void compare(const char *tag, int pps, float iou_t, float stab_t, float nms, int min_area, int min_masks)
{
    if (!clip_have_torch()) SKIP("/usr/bin/python3 with torch, numpy and PIL is needed for the reference");
    CHECKF(suite_ok, "sam_ref.py failed to generate the checkpoint");
    char args[4096], out[1100], path[1100];
    snprintf(out, sizeof out, "%s/%s.json", tmp, tag);
    snprintf(path, sizeof path, "%s/photo.png", tmp);
    snprintf(args, sizeof args,
             "amg '%s/ckpt' '%s' --points-per-side %d --pred-iou-thresh %g --stability-thresh %g --nms %g --min-area %d",
             tmp, path, pps, iou_t, stab_t, nms, min_area);
    CHECK(sam_ref(args, out) == 0);
    cJSON *ref = sam_json_file(out);
    CHECK(ref && cJSON_IsArray(ref));

    ierr e = {0};
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/ckpt", tmp);
    sam_model *m = sam_open(dir, &e);
    CHECKF(m, "%s", e.msg);
    img im = {0};
    CHECKF(img_load(path, NULL, &im, NULL, &e) == 0, "%s", e.msg);
    sam_amg_opts o;
    sam_amg_defaults(&o);
    o.points_per_side = pps;
    o.points_per_batch = 7;          /* batches do not change the answer */
    o.pred_iou_thresh = iou_t;
    o.stability_thresh = stab_t;
    o.box_nms_thresh = nms;
    o.min_region_area = min_area;
    sam_segment *seg;
    int n;
    CHECKF(sam_generate(m, &im, &o, &seg, &n, &e) == 0, "%s", e.msg);
    int nref = cJSON_GetArraySize(ref);
    printf("  %s: %d masks (reference %d)\n", tag, n, nref);
    CHECK_EQ_INT(n, nref);
    CHECKF(n >= min_masks, "%s: only %d masks: the case tests too little", tag, n);
    int i = 0;
    long differing = 0;
    for (const cJSON *r = ref->child; r; r = r->next, i++) {
        const sam_segment *s = &seg[i];
        CHECK_NEAR(s->iou, num(r, "predicted_iou"), 1e-4);
        CHECK_NEAR(s->stability, num(r, "stability_score"), 2e-3);
        const cJSON *pt = cJSON_GetObjectItemCaseSensitive(r, "point");
        CHECK_NEAR(s->point[0], pt->child->valuedouble, 1e-3);
        CHECK_NEAR(s->point[1], pt->child->next->valuedouble, 1e-3);
        const cJSON *bb = cJSON_GetObjectItemCaseSensitive(r, "bbox");
        int rb[4], k = 0;
        for (const cJSON *v = bb->child; v && k < 4; v = v->next) rb[k++] = (int)v->valuedouble;
        CHECK_EQ_INT(s->box[0], rb[0]);
        CHECK_EQ_INT(s->box[1], rb[1]);
        CHECK_EQ_INT(s->box[2] - s->box[0], rb[2]);
        CHECK_EQ_INT(s->box[3] - s->box[1], rb[3]);
        /* Pixels: float32 against float64 may flip a logit within ~1e-5 of
         * zero; nothing else may differ. */
        uint8_t *rm = decode_counts(cJSON_GetObjectItemCaseSensitive(r, "counts"), im.w, im.h);
        uint8_t *cm = sam_segment_mask(s);
        int d = 0;
        for (int p = 0; p < im.w * im.h; p++) d += rm[p] != cm[p];
        differing += d;
        CHECKF(d <= 1, "%s: mask %d differs in %d pixels", tag, i, d);
        CHECK(abs(s->area - (int)num(r, "area")) <= d);
        free(rm);
        free(cm);
    }
    if (differing) printf("  %s: %ld pixels differ in all\n", tag, differing);
    sam_segments_free(seg, n);
    img_free(&im);
    sam_close(m);
    cJSON_Delete(ref);
}

/* No NMS suppression: every mask above the thresholds, in score order. */
TEST(reference_amg_all) { compare("all", 5, 0, 0.2f, 1.0f, 0, 20); }
/* The reference's NMS and both small-region passes. */
TEST(reference_amg_filtered) { compare("filtered", 4, 0.05f, 0.25f, 0.7f, 40, 1); }

int main(void)
{
    tmp = test_tmpdir("sam-amg");
    if (clip_have_torch()) {
        char args[4096];
        snprintf(args, sizeof args, "image '%s/photo.png' 48 40 --seed 3", tmp);
        suite_ok = sam_ref(args, NULL) == 0;
        snprintf(args, sizeof args, "gen '%s/ckpt' --seed 1", tmp);
        suite_ok = suite_ok && sam_ref(args, NULL) == 0;
    }
    RUN(small_regions);
    RUN(box_nms);
    RUN(segment_labels_from_boxes);
    RUN(reference_amg_all);
    RUN(reference_amg_filtered);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd)) {}
    return test_summary();
}
