/* test_sam_real.c — the published weights, when present.
 *
 * With IMGDEX_SAM_DIR pointing at facebook/sam-vit-base (Hugging Face
 * layout, config.json + model.safetensors), a Flickr8k dev photo's image
 * embeddings and the masks of a point, a box and both must agree with
 * tests/sam_ref.py on the same weights and pixels (float32 against
 * float64: within 1e-3 here, where values reach tens), and the automatic
 * generator must find confident, stable masks.  Skipped, loudly, without
 * the weights (imgdex models fetch sam-vit-base). */
#include "test.h"

#include "models/sam/sam.h"
#include "sam_test_util.h"

static const char *tmp;

static const char *photo(char *buf, size_t n)
{
    snprintf(buf, n, "%s/flickr8k/images/1022454332_6af2c1449a.jpg", test_datadir());
    return access(buf, R_OK) == 0 ? buf : NULL;
}

TEST(real_weights_match_reference)
{
    const char *dir = getenv("IMGDEX_SAM_DIR");
    if (!dir || !*dir) SKIP("IMGDEX_SAM_DIR is not set (imgdex models fetch sam-vit-base, then point it there)");
    if (!clip_have_torch()) SKIP("/usr/bin/python3 with torch is needed for the reference");
    char path[1024];
    if (!photo(path, sizeof path)) SKIP("the Flickr8k photo %s is missing", path);
    ierr e = {0};
    sam_model *m = sam_open(dir, &e);
    CHECKF(m, "%s", e.msg);
    img im = {0};
    CHECKF(img_load(path, NULL, &im, NULL, &e) == 0, "%s", e.msg);
    int S = sam_image_size(m), g = sam_embed_size(m), C = sam_embed_dim(m), K = sam_mask_tokens(m), G = 4 * g, rw, rh;
    float *px = xmalloc((size_t)3 * S * S * sizeof *px);
    sam_preprocess(&im, S, px, &rw, &rh);
    char pxp[1100], prp[1100], out[1100], args[4096];
    snprintf(pxp, sizeof pxp, "%s/px.f32", tmp);
    FILE *f = fopen(pxp, "wb");
    CHECK(f && fwrite(px, sizeof *px, (size_t)3 * S * S, f) == (size_t)3 * S * S);
    fclose(f);
    float pt[2] = {rw / 2.0f, rh / 2.0f};
    int lab[1] = {1};
    snprintf(prp, sizeof prp, "%s/prompts.json", tmp);
    f = fopen(prp, "w");
    CHECK(f);
    fprintf(f, "[{\"points\": [[%g, %g]], \"labels\": [1]}, {\"box\": [%d, %d, %d, %d]},"
               " {\"points\": [[%g, %g]], \"labels\": [1], \"box\": [%d, %d, %d, %d]}]",
            pt[0], pt[1], rw / 4, rh / 4, 3 * rw / 4, 3 * rh / 4, pt[0], pt[1], rw / 4, rh / 4, 3 * rw / 4, 3 * rh / 4);
    fclose(f);
    snprintf(out, sizeof out, "%s/ref.json", tmp);
    snprintf(args, sizeof args, "run '%s' '%s' '%s' '%s'", dir, pxp, prp, out);
    CHECK(sam_ref(args, NULL) == 0);
    cJSON *ref = sam_json_file(out);
    CHECK(ref);

    float *emb = xmalloc((size_t)C * g * g * sizeof *emb);
    CHECKF(sam_embed_pixels(m, px, emb, &e) == 0, "%s", e.msg);
    int n;
    float *remb = sam_json_floats(ref, "embeddings", &n);
    CHECK(remb && n == C * g * g);
    double de = clip_max_diff(emb, remb, (size_t)n);
    sam_prompt p[3] = {{1, pt, lab, 0, {0}},
                       {0, NULL, NULL, 1, {(float)(rw / 4), (float)(rh / 4), (float)(3 * rw / 4), (float)(3 * rh / 4)}},
                       {1, pt, lab, 1, {(float)(rw / 4), (float)(rh / 4), (float)(3 * rw / 4), (float)(3 * rh / 4)}}};
    float *masks = xmalloc((size_t)3 * K * G * G * sizeof *masks), iou[3 * 8];
    CHECKF(sam_decode(m, emb, p, 3, masks, iou, &e) == 0, "%s", e.msg);
    double dm = 0, di = 0;
    int i = 0;
    for (const cJSON *it = cJSON_GetObjectItemCaseSensitive(ref, "prompts")->child; it; it = it->next, i++) {
        float *rm = sam_json_floats(it, "masks", &n), *ri;
        CHECK(rm && n == K * G * G);
        double d = clip_max_diff(masks + (size_t)i * K * G * G, rm, (size_t)n);
        dm = d > dm ? d : dm;
        ri = sam_json_floats(it, "iou", &n);
        d = clip_max_diff(iou + i * K, ri, (size_t)K);
        di = d > di ? d : di;
        free(rm);
        free(ri);
    }
    printf("  real: max |imgdex - reference| embeddings %.3g, low-res masks %.3g, IoU %.3g; IoU of the point's masks %.3f %.3f %.3f\n",
           de, dm, di, iou[1], iou[2], iou[3]);
    CHECKF(de <= 1e-3 && dm <= 1e-3 && di <= 1e-3, "differences %g %g %g", de, dm, di);

    sam_amg_opts o;
    sam_amg_defaults(&o);
    o.points_per_side = 8;
    sam_segment *seg;
    CHECKF(sam_generate(m, &im, &o, &seg, &n, &e) == 0, "%s", e.msg);
    printf("  real: %d automatic masks at 8 points per side\n", n);
    CHECK(n >= 1);
    for (int k = 0; k < n; k++) CHECK(seg[k].iou > 0.88f && seg[k].stability >= 0.95f && seg[k].area > 0);
    sam_segments_free(seg, n);
    free(emb);
    free(remb);
    free(masks);
    free(px);
    cJSON_Delete(ref);
    img_free(&im);
    sam_close(m);
}

int main(void)
{
    tmp = test_tmpdir("sam-real");
    RUN(real_weights_match_reference);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd)) {}
    return test_summary();
}
