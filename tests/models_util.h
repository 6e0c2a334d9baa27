/* models_util.h — helpers for the model tests: load a JPEG through
 * `djpeg -pnm` into an img (the same pixels tests/node/vision-ref.js is
 * given), so these tests do not depend on the image module. */
#ifndef IMGDEX_TEST_MODELS_UTIL_H
#define IMGDEX_TEST_MODELS_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

/* Reads a binary PPM (P6, maxval 255).  0 on success. */
static int mu_read_ppm(const char *path, img *im)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    int w, h, maxv, c;
    char magic[3] = {0};
    int ok = fscanf(f, "%2s", magic) == 1 && !strcmp(magic, "P6");
    /* djpeg writes no comments, so plain fscanf of the three numbers works. */
    ok = ok && fscanf(f, "%d %d %d", &w, &h, &maxv) == 3 && maxv == 255 && w > 0 && h > 0;
    ok = ok && (c = fgetc(f)) != EOF;
    if (!ok) {
        fclose(f);
        return -1;
    }
    im->w = w;
    im->h = h;
    im->px = malloc((size_t)w * h * 3);
    ok = fread(im->px, 1, (size_t)w * h * 3, f) == (size_t)w * h * 3;
    fclose(f);
    if (!ok) {
        free(im->px);
        im->px = NULL;
        return -1;
    }
    return 0;
}

/* JPEG -> PPM at ppm_out (kept, for the JS reference) -> img.  0 on success. */
static int mu_load_jpeg(const char *jpeg, const char *ppm_out, img *im)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "djpeg -pnm '%s' > '%s' 2>/dev/null", jpeg, ppm_out);
    if (system(cmd) != 0) return -1;
    return mu_read_ppm(ppm_out, im);
}

static void img_free_px(img *im) { free(im->px); im->px = NULL; }

/* One scratch directory per test program (test_tmpdir makes a new one). */
static const char *test_tmpdir_once(void)
{
    static char dir[512];
    if (!dir[0]) snprintf(dir, sizeof dir, "%s", test_tmpdir("models"));
    return dir;
}

static int mu_exists(const char *p) { FILE *f = fopen(p, "rb"); if (f) fclose(f); return f != NULL; }

#endif
