/* test_describe.c — the model-free parts of the describer: colour naming on
 * synthetic patches, relation grading on synthetic boxes, the mask format,
 * captions, and a whole description of a synthetic image (JSON included).
 * Expected colour names are what a person calls these well-known colours,
 * not values read back from the code. */
#include <cjson/cJSON.h>

#include "test.h"

#include "describe/internal.h"

static const struct { int r, g, b; const char *name; } named[] = {
    {255, 0, 0, "red"}, {200, 30, 30, "red"}, {139, 0, 0, "red"}, {220, 20, 60, "red"},
    {255, 140, 0, "orange"}, {255, 165, 0, "orange"}, {240, 120, 30, "orange"},
    {255, 255, 0, "yellow"}, {255, 215, 0, "yellow"}, {240, 230, 90, "yellow"},
    {0, 128, 0, "green"}, {0, 255, 0, "green"}, {34, 139, 34, "green"}, {107, 142, 35, "green"},
    {0, 0, 255, "blue"}, {0, 0, 128, "blue"}, {135, 206, 235, "blue"}, {70, 130, 180, "blue"},
    {65, 105, 225, "blue"}, {0, 160, 200, "blue"},
    {128, 0, 128, "purple"}, {148, 0, 211, "purple"}, {106, 13, 173, "purple"},
    {255, 192, 203, "pink"}, {255, 105, 180, "pink"}, {255, 20, 147, "pink"},
    {139, 69, 19, "brown"}, {101, 67, 33, "brown"}, {160, 82, 45, "brown"}, {120, 90, 60, "brown"},
    {0, 0, 0, "black"}, {20, 20, 20, "black"}, {30, 28, 35, "black"},
    {255, 255, 255, "white"}, {245, 245, 245, "white"}, {250, 250, 240, "white"},
    {128, 128, 128, "grey"}, {169, 169, 169, "grey"}, {90, 90, 95, "grey"},
};

TEST(colour_names_of_known_colours)
{
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        int got = rgb_colour_name(named[i].r, named[i].g, named[i].b);
        float L, A, B;
        srgb_to_lab(named[i].r, named[i].g, named[i].b, &L, &A, &B);
        int exact = lab_colour_name(L, A, B);
        CHECKF(!strcmp(palette_name(exact), named[i].name), "(%d,%d,%d) named %s, expected %s", named[i].r,
               named[i].g, named[i].b, palette_name(exact), named[i].name);
        CHECKF(!strcmp(palette_name(got), named[i].name), "(%d,%d,%d) table says %s, expected %s",
               named[i].r, named[i].g, named[i].b, palette_name(got), named[i].name);
    }
}

TEST(lab_of_reference_colours)
{
    /* CIELAB D65 of sRGB primaries, as published (e.g. Lindbloom's calculator). */
    float L, A, B;
    srgb_to_lab(255, 0, 0, &L, &A, &B);
    CHECK_NEAR(L, 53.24, 0.1); CHECK_NEAR(A, 80.09, 0.2); CHECK_NEAR(B, 67.20, 0.2);
    srgb_to_lab(0, 0, 255, &L, &A, &B);
    CHECK_NEAR(L, 32.30, 0.1); CHECK_NEAR(A, 79.19, 0.2); CHECK_NEAR(B, -107.86, 0.2);
    srgb_to_lab(255, 255, 255, &L, &A, &B);
    CHECK_NEAR(L, 100, 0.05); CHECK_NEAR(A, 0, 0.05); CHECK_NEAR(B, 0, 0.05);
}

/* A w×h image filled with bg, with a rectangle [x0,x1)×[y0,y1) of fg. */
static img patch_image(int w, int h, const uint8_t bg[3], const uint8_t fg[3], int x0, int y0, int x1, int y1)
{
    img im = {w, h, malloc((size_t)w * h * 3)};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *c = x >= x0 && x < x1 && y >= y0 && y < y1 ? fg : bg;
            memcpy(im.px + ((size_t)y * w + x) * 3, c, 3);
        }
    return im;
}

TEST(region_colours_of_a_patch_ignore_the_background)
{
    const uint8_t white[3] = {250, 250, 250}, red[3] = {210, 25, 30};
    /* A red square covering the middle third of a box that is otherwise the
     * same white as the surroundings: the object is red even though most of
     * the box is white. */
    img im = patch_image(300, 300, white, red, 120, 120, 180, 180);
    region r = {0};
    region_colours(&im, 0.3f, 0.3f, 0.7f, 0.7f, NULL, 0, 0, 1, NULL, 0, &r);
    CHECK(r.ncolours >= 1);
    CHECK_STR(r.colours[0].name, "red");
    /* Without the context weighting the box is mostly white. */
    region plain = {0};
    region_colours(&im, 0.3f, 0.3f, 0.7f, 0.7f, NULL, 0, 0, 0, NULL, 0, &plain);
    CHECK_STR(plain.colours[0].name, "white");
    CHECK(plain.ncolours == 2);
    CHECK_NEAR(plain.colours[1].share, 60.0 * 60 / (120.0 * 120), 0.05);
    /* A mask selecting the square says red, fully. */
    uint8_t mask[100];
    for (int i = 0; i < 100; i++) mask[i] = (i / 10 >= 4 && i / 10 < 6 && i % 10 >= 4 && i % 10 < 6) ? 255 : 0;
    region m = {0};
    region_colours(&im, 0.3f, 0.3f, 0.7f, 0.7f, mask, 10, 10, 1, NULL, 0, &m);
    CHECK_STR(m.colours[0].name, "red");
    CHECK(m.colours[0].share > 0.9f);
    free(im.px);
}

TEST(brightness_of_flat_images)
{
    const uint8_t black[3] = {0, 0, 0}, grey[3] = {128, 128, 128};
    img im = patch_image(64, 48, black, grey, 0, 0, 32, 48);
    CHECK_NEAR(image_brightness(&im), 0.5 * 128 / 255.0, 0.02);
    free(im.px);
}

static float grade(box a, box b, const char *rel)
{
    float g[REL_N];
    relation_grades(a, b, g);
    for (int i = 0; i < REL_N; i++)
        if (!strcmp(rel_names[i], rel)) return g[i];
    return -1;
}

TEST(relations_graded_on_synthetic_boxes)
{
    box left = {0.05f, 0.4f, 0.25f, 0.7f}, right = {0.6f, 0.4f, 0.85f, 0.7f};
    CHECK(grade(left, right, "left_of") > 0.9f);
    CHECK(grade(left, right, "right_of") < 0.05f);
    CHECK(grade(right, left, "right_of") > 0.9f);
    CHECK(grade(left, right, "above") < 0.05f);
    CHECK(grade(left, right, "below") < 0.05f);
    /* diagonal: still somewhat left, somewhat above */
    box tl = {0.0f, 0.0f, 0.2f, 0.2f}, br = {0.5f, 0.5f, 0.7f, 0.7f};
    float l = grade(tl, br, "left_of"), a = grade(tl, br, "above");
    CHECK(l > 0.5f && l < 0.9f);
    CHECK(a > 0.5f && a < 0.9f);
    /* overlapping centres: no direction */
    box big = {0.2f, 0.2f, 0.8f, 0.8f}, mid = {0.4f, 0.4f, 0.6f, 0.6f};
    CHECK(grade(mid, big, "left_of") < 0.05f);
    CHECK(grade(mid, big, "inside") > 0.9f);
    CHECK(grade(big, mid, "inside") < 0.05f);
    /* on: a cup on a table */
    box table = {0.2f, 0.5f, 0.8f, 0.9f}, cup = {0.4f, 0.38f, 0.5f, 0.52f};
    CHECK(grade(cup, table, "on") > 0.8f);
    CHECK(grade(table, cup, "on") < 0.05f);
    CHECK(grade(cup, table, "above") > 0.5f);
    box floating = {0.4f, 0.05f, 0.5f, 0.2f};
    CHECK(grade(floating, table, "on") < 0.05f);
    /* beside and near */
    box b1 = {0.1f, 0.4f, 0.3f, 0.8f}, b2 = {0.32f, 0.45f, 0.52f, 0.8f};
    CHECK(grade(b1, b2, "next_to") > 0.8f);
    CHECK(grade(b1, b2, "near") > 0.8f);
    CHECK(grade(b1, b2, "far") < 0.1f);
    box tiny_far = {0.93f, 0.02f, 0.98f, 0.07f};
    CHECK(grade(b1, tiny_far, "near") < 0.2f);
    CHECK(grade(b1, tiny_far, "far") > 0.7f);
    CHECK(grade(b1, tiny_far, "next_to") < 0.1f);
    /* depth: a dog in front of a car it overlaps, lower in the frame */
    box car = {0.3f, 0.3f, 0.9f, 0.6f}, dog = {0.4f, 0.45f, 0.6f, 0.85f};
    CHECK(grade(dog, car, "in_front") > 0.8f);
    CHECK(grade(car, dog, "behind") > 0.8f);
    CHECK(grade(car, dog, "in_front") < 0.05f);
    /* a rider on a horse is on it, not behind it */
    box horse = {0.3f, 0.4f, 0.8f, 0.95f}, rider = {0.45f, 0.1f, 0.65f, 0.7f};
    CHECK(grade(rider, horse, "on") > 0.7f);
    CHECK(grade(rider, horse, "behind") < 0.3f);
    /* all grades stay in 0..1 */
    for (int i = 0; i < 200; i++) {
        box p = {(float)(i % 7) / 10, (float)(i % 5) / 10, 0, 0}, q = {(float)(i % 3) / 10, (float)(i % 11) / 20, 0, 0};
        p.x1 = p.x0 + 0.05f + (float)(i % 4) / 10; p.y1 = p.y0 + 0.05f + (float)(i % 6) / 10;
        q.x1 = q.x0 + 0.1f + (float)(i % 9) / 20; q.y1 = q.y0 + 0.1f;
        float g[REL_N];
        relation_grades(p, q, g);
        for (int k = 0; k < REL_N; k++) CHECKF(g[k] >= 0 && g[k] <= 1, "%s = %g", rel_names[k], g[k]);
    }
}

TEST(relations_only_between_things)
{
    region rs[3] = {0};
    rs[0].kind = REGION_IMAGE; rs[0].x1 = rs[0].y1 = 1;
    rs[1].kind = REGION_OBJECT; rs[1].x0 = 0.05f; rs[1].y0 = 0.4f; rs[1].x1 = 0.25f; rs[1].y1 = 0.7f;
    rs[2].kind = REGION_OBJECT; rs[2].x0 = 0.6f; rs[2].y0 = 0.4f; rs[2].x1 = 0.85f; rs[2].y1 = 0.7f;
    relation *rel;
    int n = relations_compute(rs, 3, 0.3f, &rel);
    CHECK(n > 0);
    int saw_left = 0, saw_right = 0;
    for (int i = 0; i < n; i++) {
        CHECK(rel[i].a != 0 && rel[i].b != 0);
        CHECK(rel[i].weight >= 0.3f);
        if (!strcmp(rel[i].rel, "left_of") && rel[i].a == 1 && rel[i].b == 2) saw_left = 1;
        if (!strcmp(rel[i].rel, "right_of") && rel[i].a == 2 && rel[i].b == 1) saw_right = 1;
    }
    free(rel);
    CHECK(saw_left && saw_right);
}

/* SAM segments: a named one relates to the other things, not to the box
 * it was named after; an unnamed one to nothing. */
TEST(relations_of_segments)
{
    region rs[5] = {0};
    rs[0].kind = REGION_IMAGE; rs[0].x1 = rs[0].y1 = 1;
    rs[1].kind = REGION_OBJECT; snprintf(rs[1].label, sizeof rs[1].label, "dog");
    rs[1].x0 = 0.1f; rs[1].y0 = 0.3f; rs[1].x1 = 0.4f; rs[1].y1 = 0.7f;
    rs[2].kind = REGION_SEGMENT; snprintf(rs[2].label, sizeof rs[2].label, "dog");   /* the dog's own mask */
    rs[2].x0 = 0.12f; rs[2].y0 = 0.32f; rs[2].x1 = 0.38f; rs[2].y1 = 0.7f;
    rs[3].kind = REGION_SEGMENT; snprintf(rs[3].label, sizeof rs[3].label, "bench");   /* named by CLIP */
    rs[3].x0 = 0.6f; rs[3].y0 = 0.3f; rs[3].x1 = 0.9f; rs[3].y1 = 0.7f;
    rs[4].kind = REGION_SEGMENT;   /* unnamed */
    rs[4].x0 = 0.5f; rs[4].y0 = 0.0f; rs[4].x1 = 1.0f; rs[4].y1 = 0.2f;
    relation *rel;
    int n = relations_compute(rs, 5, 0.3f, &rel);
    int dog_left_of_bench = 0, seg_left_of_bench = 0;
    for (int i = 0; i < n; i++) {
        CHECK(!((rel[i].a == 1 && rel[i].b == 2) || (rel[i].a == 2 && rel[i].b == 1)));
        CHECK(rel[i].a != 4 && rel[i].b != 4);
        dog_left_of_bench |= rel[i].a == 1 && rel[i].b == 3 && !strcmp(rel[i].rel, "left_of");
        seg_left_of_bench |= rel[i].a == 2 && rel[i].b == 3 && !strcmp(rel[i].rel, "left_of");
    }
    free(rel);
    CHECK(dog_left_of_bench && seg_left_of_bench);
    CHECK_STR(region_kind_name(REGION_SEGMENT), "segment");
}

/* The share of a mask's cells: what the BLIP stage sizes segments by. */
TEST(mask_fill)
{
    uint8_t m[4 * 5] = {0};
    for (int i = 0; i < 6; i++) m[i * 3] = 255;
    size_t len;
    uint8_t *rle = mask_rle_encode(m, 4, 5, &len);
    CHECK_NEAR(mask_rle_fill(rle, len), 6.0 / 20, 1e-6);
    CHECK_NEAR(mask_rle_fill(rle, 2), -1, 0);
    free(rle);
}

TEST(mask_rle_round_trip_and_rejects_garbage)
{
    enum { W = 37, H = 23 };
    uint8_t m[W * H];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) m[y * W + x] = (x - 18) * (x - 18) + (y - 11) * (y - 11) < 80 ? 255 : 0;
    size_t len;
    uint8_t *rle = mask_rle_encode(m, W, H, &len);
    CHECK(len < 100);   /* a disc is a few runs per row */
    int w, h;
    uint8_t *back = mask_rle_decode(rle, len, &w, &h);
    CHECK(back);
    CHECK_EQ_INT(w, W);
    CHECK_EQ_INT(h, H);
    CHECK(memcmp(back, m, sizeof m) == 0);
    free(back);
    /* truncated, bad magic, runs that overflow the grid */
    CHECK(mask_rle_decode(rle, len - 1, &w, &h) == NULL);
    rle[0] = 'X';
    CHECK(mask_rle_decode(rle, len, &w, &h) == NULL);
    free(rle);
    const uint8_t over[] = {'M', '1', 2, 2, 3, 5};
    CHECK(mask_rle_decode(over, sizeof over, &w, &h) == NULL);
    const uint8_t all_in[] = {'M', '1', 2, 2, 0, 4};
    uint8_t *full = mask_rle_decode(all_in, sizeof all_in, &w, &h);
    CHECK(full && full[0] == 255 && full[3] == 255);
    free(full);
}

TEST(plurals_and_counts)
{
    char b[64];
    CHECK_STR(plural("dog", b, sizeof b), "dogs");
    CHECK_STR(plural("person", b, sizeof b), "people");
    CHECK_STR(plural("bus", b, sizeof b), "buses");
    CHECK_STR(plural("sandwich", b, sizeof b), "sandwiches");
    CHECK_STR(plural("teddy bear", b, sizeof b), "teddy bears");
    CHECK_STR(plural("sheep", b, sizeof b), "sheep");
    CHECK_STR(plural("butterfly", b, sizeof b), "butterflies");
    CHECK_STR(count_word(2, b, sizeof b), "two");
    CHECK_STR(count_word(40, b, sizeof b), "40");
}

static region obj(const char *label, float x0, float y0, float x1, float y1, const char *colour)
{
    region r = {0};
    r.kind = REGION_OBJECT;
    snprintf(r.label, sizeof r.label, "%s", label);
    r.score = 0.8f;
    r.x0 = x0; r.y0 = y0; r.x1 = x1; r.y1 = y1;
    region_geometry(&r);
    if (colour) { snprintf(r.colours[0].name, sizeof r.colours[0].name, "%s", colour); r.colours[0].share = 0.7f; r.ncolours = 1; }
    return r;
}

TEST(caption_from_structure)
{
    description ds = {0};
    ds.width = 640; ds.height = 480;
    region rs[5];
    rs[0] = obj("image", 0, 0, 1, 1, "green");
    rs[0].kind = REGION_IMAGE;
    rs[1] = obj("dog", 0.05f, 0.5f, 0.3f, 0.9f, "brown");
    rs[2] = obj("dog", 0.35f, 0.5f, 0.6f, 0.9f, NULL);
    rs[3] = obj("person", 0.65f, 0.1f, 0.95f, 0.95f, NULL);
    rs[4] = obj("frisbee", 0.05f, 0.05f, 0.12f, 0.1f, "red");
    ds.regions = rs; ds.nregions = 5;
    ocr_word w = {"STOP", 0.9f, 0.1f, 0.1f, 0.2f, 0.15f};
    ds.words = &w; ds.nwords = 1;
    char cap[512];
    caption_build(&ds, "field", cap, sizeof cap);
    CHECKF(strstr(cap, "two dogs and a person on a field") == cap, "caption: %s", cap);
    CHECKF(strstr(cap, "text: 'STOP'"), "caption: %s", cap);
    CHECKF(strstr(cap, "a brown dog at the bottom left"), "caption: %s", cap);
    CHECKF(strstr(cap, "a red frisbee at the top left"), "caption: %s", cap);
    caption_build(&ds, "", cap, sizeof cap);
    CHECKF(strstr(cap, "two dogs and a person;") == cap, "caption: %s", cap);
    /* nothing detected: describe the look */
    ds.nregions = 1; ds.nwords = 0; ds.brightness = 0.1f;
    caption_build(&ds, NULL, cap, sizeof cap);
    CHECK_STR(cap, "a dark photo, mostly green");
}

TEST(scene_words_from_meta)
{
    description ds = {0};
    region r = obj("image", 0, 0, 1, 1, "blue");
    ds.regions = &r; ds.nregions = 1;
    ds.width = 400; ds.height = 800; ds.brightness = 0.8f;
    img_meta meta = {0};
    snprintf(meta.taken_at, sizeof meta.taken_at, "2012-06-03 19:20:00");
    snprintf(meta.camera, sizeof meta.camera, "Canon EOS 5D");
    char s[256];
    scene_build(&ds, &meta, s, sizeof s);
    CHECK_STR(s, "bright portrait blue 2012 june evening camera canon eos 5d");
}

TEST(describe_synthetic_image_and_json)
{
    describe_opts o;
    describe_opts_default(&o);
    o.ocr = 0; o.clip = 0;
    ierr e = {0};
    describer *d = describer_open(&o, &e);
    CHECK(d);
    const char *v = describer_version(d);
    CHECK(strstr(v, "ocr:off") && strstr(v, "clip:off"));
    const uint8_t blue[3] = {40, 80, 200}, yellow[3] = {250, 220, 20};
    img im = patch_image(320, 200, blue, yellow, 0, 150, 320, 200);
    description ds;
    CHECK(describe_image(d, &im, NULL, &ds, &e) == 0);
    CHECK_EQ_INT(ds.width, 320);
    CHECK_EQ_INT(ds.height, 200);
    CHECK(ds.nregions >= 1);
    CHECK_EQ_INT(ds.regions[0].kind, REGION_IMAGE);
    CHECK_STR(ds.regions[0].colours[0].name, "blue");
    CHECK_NEAR(ds.regions[0].colours[0].share, 0.75, 0.03);
    CHECK_STR(ds.regions[0].colours[1].name, "yellow");
    CHECK(ds.brightness > 0.2f && ds.brightness < 0.6f);
    CHECKF(strstr(ds.scene, "landscape") && strstr(ds.scene, "blue"), "scene: %s", ds.scene);
    CHECK(ds.caption[0]);
    char *js = description_to_json(&ds);
    CHECK(js);
    cJSON *root = cJSON_Parse(js);
    free(js);
    CHECK(root);
    cJSON *regs = cJSON_GetObjectItem(root, "regions");
    CHECK(cJSON_GetArraySize(regs) == ds.nregions);
    cJSON *r0 = cJSON_GetArrayItem(regs, 0);
    CHECK_STR(cJSON_GetObjectItem(r0, "kind")->valuestring, "image");
    cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(r0, "colours"), 0);
    CHECK_STR(cJSON_GetObjectItem(c0, "name")->valuestring, "blue");
    CHECK_STR(cJSON_GetObjectItem(root, "caption")->valuestring, ds.caption);
    cJSON_Delete(root);
    description_free(&ds);
    CHECK(ds.regions == NULL && ds.nregions == 0);
    /* bad input is an error, not a crash */
    img empty = {0, 0, NULL};
    CHECK(describe_image(d, &empty, NULL, &ds, &e) == -1);
    CHECK(e.set);
    free(im.px);
    describer_close(d);
}

int main(void)
{
    RUN(colour_names_of_known_colours);
    RUN(lab_of_reference_colours);
    RUN(region_colours_of_a_patch_ignore_the_background);
    RUN(brightness_of_flat_images);
    RUN(relations_graded_on_synthetic_boxes);
    RUN(relations_only_between_things);
    RUN(relations_of_segments);
    RUN(mask_fill);
    RUN(mask_rle_round_trip_and_rejects_garbage);
    RUN(plurals_and_counts);
    RUN(caption_from_structure);
    RUN(scene_words_from_meta);
    RUN(describe_synthetic_image_and_json);
    return test_summary();
}
