/* test_image_resize.c — resampling: img_resize_bicubic against PIL's
 * Image.resize(BICUBIC) run by /usr/bin/python3 on the same pixels,
 * img_resize against PIL's BOX filter (exact area averaging) when shrinking
 * and against hand-computed values, img_crop clamping. */
#include "test.h"

#include "image/image.h"
#include "test_image_util.h"

static const char *PY = "/usr/bin/python3";

static int have_pil(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "%s -c 'import PIL.Image' >/dev/null 2>&1", PY);
    return system(cmd) == 0;
}

/* Photo-like test content: smooth gradients, a sharp edge, noise. */
static void fill(img *im, int w, int h, unsigned seed)
{
    im->w = w, im->h = h;
    im->px = malloc((size_t)w * h * 3);
    srand(seed);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = im->px + ((size_t)y * w + x) * 3;
            int edge = x > w / 3 && y < 2 * h / 3 ? 120 : 0;
            p[0] = (uint8_t)((x * 255 / (w > 1 ? w - 1 : 1) + edge) % 256);
            p[1] = (uint8_t)(y * 255 / (h > 1 ? h - 1 : 1));
            p[2] = (uint8_t)(rand() & 255);
        }
}

/* The oracles run in one python process (its start-up is the slow part):
 * jobs are queued as files, run() answers them all, fetch() reads one back.
 * BICUBIC and BOX are PIL's Image.resize filters; AREA is exact area
 * averaging written with numpy: out = Ay · img · Axᵀ, where A[i][j] is the
 * overlap of output pixel i's footprint with source pixel j. */
static FILE *jobs;
static int njobs;

static int oracle_queue(const img *src, int w, int h, const char *filter)
{
    char in[32];
    snprintf(in, sizeof in, "in%d.rgb", njobs);
    if (tu_write(in, src->px, (size_t)src->w * src->h * 3) != 0) return -1;
    if (!jobs) jobs = fopen(tu_path("jobs.txt"), "w");
    fprintf(jobs, "%s %s out%d.rgb %d %d %d %d\n", filter, tu_path(in), njobs, src->w, src->h, w, h);
    return njobs++;
}

static int oracle_run(void)
{
    if (!jobs) return 0;
    fclose(jobs);
    jobs = NULL;
    const char *script =
        "import sys, numpy as np, PIL.Image as I\n"
        "def A(n, m):\n"
        "  s = n / m; a = np.zeros((m, n))\n"
        "  for i in range(m):\n"
        "    for j in range(int(i * s), min(n, int((i + 1) * s) + 1)):\n"
        "      a[i, j] = max(0.0, min((i + 1) * s, j + 1) - max(i * s, j)) / s\n"
        "  return a\n"
        "d = sys.argv[1]\n"
        "for line in open(d + '/jobs.txt'):\n"
        "  f, inp, out, w, h, W, H = line.split(); w, h, W, H = int(w), int(h), int(W), int(H)\n"
        "  raw = open(inp, 'rb').read()\n"
        "  if f == 'AREA':\n"
        "    x = np.frombuffer(raw, np.uint8).reshape(h, w, 3).astype(float)\n"
        "    y = np.einsum('ij,jkc->ikc', A(h, H), x); y = np.einsum('ikc,lk->ilc', y, A(w, W))\n"
        "    res = np.clip(np.floor(y + 0.5), 0, 255).astype(np.uint8).tobytes()\n"
        "  else:\n"
        "    res = I.frombytes('RGB', (w, h), raw).resize((W, H), getattr(I, f)).tobytes()\n"
        "  open(d + '/' + out, 'wb').write(res)\n";
    if (tu_write("oracle.py", script, strlen(script)) != 0) return -1;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s '%s' '%s'", PY, tu_path("oracle.py"), tu_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int oracle_fetch(int job, int w, int h, img *out)
{
    char name[32];
    snprintf(name, sizeof name, "out%d.rgb", job);
    size_t n;
    out->px = tu_read(name, &n);
    out->w = w, out->h = h;
    if (!out->px || n != (size_t)w * h * 3) {
        free(out->px);
        out->px = NULL;
        return -1;
    }
    return 0;
}

static int max_diff(const img *a, const img *b)
{
    int m = 0;
    for (size_t k = 0; k < (size_t)a->w * a->h * 3; k++)
        if (abs(a->px[k] - b->px[k]) > m) m = abs(a->px[k] - b->px[k]);
    return m;
}

static const int sizes[][4] = {
    {640, 480, 224, 224},   /* CLIP-style shrink, aspect changes */
    {97, 61, 32, 20},       /* odd factors */
    {50, 40, 123, 77},      /* upscale */
    {300, 200, 300, 100},   /* vertical pass only */
    {300, 200, 150, 200},   /* horizontal pass only */
    {13, 17, 7, 29},        /* shrink one axis, grow the other */
    {500, 375, 224, 168},   /* a Flickr8k photo */
    {5, 3, 1, 1},
};
#define NSIZES (int)(sizeof sizes / sizeof sizes[0])

static const int whole[][4] = {{640, 480, 320, 240}, {300, 200, 100, 50}, {64, 64, 8, 8}};
#define NWHOLE 3

/* Results computed up front (in one oracle run), compared per test. */
static img mine_bicubic[NSIZES], mine_area[NSIZES], mine_box[NWHOLE];
static int job_bicubic[NSIZES], job_area[NSIZES], job_box[NWHOLE];
static int oracle_ok;

static void prepare(void)
{
    for (int i = 0; i < NSIZES; i++) {
        img src;
        fill(&src, sizes[i][0], sizes[i][1], 100u + (unsigned)i);
        img_resize_bicubic(&src, sizes[i][2], sizes[i][3], &mine_bicubic[i]);
        job_bicubic[i] = oracle_queue(&src, sizes[i][2], sizes[i][3], "BICUBIC");
        job_area[i] = -1;
        if (sizes[i][2] <= sizes[i][0] && sizes[i][3] <= sizes[i][1]) {   /* shrinking only */
            img_resize(&src, sizes[i][2], sizes[i][3], &mine_area[i]);
            job_area[i] = oracle_queue(&src, sizes[i][2], sizes[i][3], "AREA");
        }
        img_free(&src);
    }
    for (int i = 0; i < NWHOLE; i++) {
        img src;
        fill(&src, whole[i][0], whole[i][1], 300u + (unsigned)i);
        img_resize(&src, whole[i][2], whole[i][3], &mine_box[i]);
        job_box[i] = oracle_queue(&src, whole[i][2], whole[i][3], "BOX");
        img_free(&src);
    }
    oracle_ok = have_pil() && oracle_run() == 0;
}

static int compare(const img *mine, int job, const int *sz, const char *what)
{
    img ref;
    if (oracle_fetch(job, sz[2], sz[3], &ref) != 0) {
        test_fail_(__FILE__, __LINE__, "%s: no oracle output for %dx%d -> %dx%d", what, sz[0], sz[1], sz[2], sz[3]);
        return -1;
    }
    int d = mine->w == sz[2] && mine->h == sz[3] ? max_diff(mine, &ref) : 999;
    img_free(&ref);
    if (d > 1) {
        test_fail_(__FILE__, __LINE__, "%s %dx%d -> %dx%d: max difference %d", what, sz[0], sz[1], sz[2], sz[3], d);
        return -1;
    }
    return 0;
}

TEST(bicubic_matches_pil)
{
    if (!oracle_ok) SKIP("%s with PIL and numpy not available", PY);
    for (int i = 0; i < NSIZES; i++)
        if (compare(&mine_bicubic[i], job_bicubic[i], sizes[i], "BICUBIC") != 0) return;
}

/* img_resize shrinks by exact area averaging (numpy oracle); with whole
 * factors that is also what PIL's BOX filter does. */
TEST(area_downscale_matches_exact_area_and_pil_box)
{
    if (!oracle_ok) SKIP("%s with PIL and numpy not available", PY);
    for (int i = 0; i < NSIZES; i++)
        if (job_area[i] >= 0 && compare(&mine_area[i], job_area[i], sizes[i], "AREA") != 0) return;
    for (int i = 0; i < NWHOLE; i++)
        if (compare(&mine_box[i], job_box[i], whole[i], "BOX") != 0) return;
}

TEST(area_downscale_by_hand)
{
    /* 4x2 -> 2x1: each output is the mean of a 2x2 block. */
    uint8_t px[4 * 2 * 3];
    for (int k = 0; k < 24; k++) px[k] = (uint8_t)(k * 10);
    img src = {4, 2, px}, dst;
    img_resize(&src, 2, 1, &dst);
    for (int c = 0; c < 3; c++) {
        int a = (px[c] + px[3 + c] + px[12 + c] + px[15 + c] + 2) / 4;
        int b = (px[6 + c] + px[9 + c] + px[18 + c] + px[21 + c] + 2) / 4;
        CHECK(abs(dst.px[c] - a) <= 1 && abs(dst.px[3 + c] - b) <= 1);
    }
    img_free(&dst);
    /* A one-pixel checkerboard shrunk 3x is flat grey (no aliasing). */
    img cb = {300, 300, malloc(300 * 300 * 3)};
    for (int y = 0; y < 300; y++)
        for (int x = 0; x < 300; x++) memset(cb.px + ((size_t)y * 300 + x) * 3, (x + y) & 1 ? 255 : 0, 3);
    img_resize(&cb, 100, 100, &dst);
    free(cb.px);
    int lo = 255, hi = 0;
    for (int k = 0; k < 100 * 100 * 3; k++) {
        if (dst.px[k] < lo) lo = dst.px[k];
        if (dst.px[k] > hi) hi = dst.px[k];
    }
    img_free(&dst);
    CHECKF(lo >= 110 && hi <= 145, "checkerboard shrank to %d..%d", lo, hi);
    /* Upscaling a 2x1 black|white ramps monotonically, ends exact. */
    uint8_t two[6] = {0, 0, 0, 255, 255, 255};
    img s2 = {2, 1, two};
    img_resize(&s2, 8, 1, &dst);
    CHECK(dst.px[0] == 0 && dst.px[21] == 255);
    for (int x = 1; x < 8; x++) CHECK(dst.px[3 * x] >= dst.px[3 * (x - 1)]);
    img_free(&dst);
}

TEST(crop_clamps)
{
    img src, dst;
    fill(&src, 20, 10, 1);
    img_crop(&src, 5, 2, 4, 3, &dst);
    CHECK(dst.w == 4 && dst.h == 3);
    CHECK(!memcmp(dst.px, src.px + (2 * 20 + 5) * 3, 12));
    CHECK(!memcmp(dst.px + 2 * 12, src.px + (4 * 20 + 5) * 3, 12));
    img_free(&dst);
    img_crop(&src, -5, -5, 100, 100, &dst);
    CHECK(dst.w == 20 && dst.h == 10 && !memcmp(dst.px, src.px, 600));
    img_free(&dst);
    img_crop(&src, 50, 50, 10, 10, &dst);   /* entirely outside: 1x1 at the corner */
    CHECK(dst.w == 1 && dst.h == 1 && !memcmp(dst.px, src.px + (9 * 20 + 19) * 3, 3));
    img_free(&dst);
    img_free(&src);
}

int main(void)
{
    snprintf(tu_dir, sizeof tu_dir, "%s", test_tmpdir("resize"));
    prepare();
    RUN(bicubic_matches_pil);
    RUN(area_downscale_matches_exact_area_and_pil_box);
    RUN(area_downscale_by_hand);
    RUN(crop_clamps);
    for (int i = 0; i < NSIZES; i++) img_free(&mine_bicubic[i]), img_free(&mine_area[i]);
    for (int i = 0; i < NWHOLE; i++) img_free(&mine_box[i]);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tu_dir);
    if (system(cmd) != 0) return 2;
    return test_summary();
}
