/* test_image_util.h — helpers shared by the image tests: scratch files, a
 * test pattern written as PPM (no library involved), running ImageMagick. */
#ifndef IMGDEX_TEST_IMAGE_UTIL_H
#define IMGDEX_TEST_IMAGE_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char tu_dir[512];

static inline const char *tu_path(const char *name)
{
    static char buf[4][1024];
    static int k;
    k = (k + 1) & 3;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tu_dir, name);
    return buf[k];
}

static inline int tu_write(const char *name, const void *d, size_t n)
{
    FILE *f = fopen(tu_path(name), "wb");
    if (!f) return -1;
    int ok = fwrite(d, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static inline unsigned char *tu_read(const char *name, size_t *n)
{
    FILE *f = fopen(tu_path(name), "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *d = malloc((size_t)len + 1);
    *n = fread(d, 1, (size_t)len, f);
    fclose(f);
    return d;
}

/* Four flat quadrants: top-left red, top-right green, bottom-left blue,
 * bottom-right yellow.  Few colours, so even GIF keeps it exactly. */
static const uint8_t tu_quad[4][3] = {{220, 20, 30}, {20, 200, 40}, {30, 40, 210}, {240, 230, 20}};

static inline void tu_quadrants(uint8_t *px, int w, int h)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(px + ((size_t)y * w + x) * 3, tu_quad[(y >= h / 2) * 2 + (x >= w / 2)], 3);
}

static inline int tu_write_ppm(const char *name, const uint8_t *px, int w, int h)
{
    FILE *f = fopen(tu_path(name), "wb");
    if (!f) return -1;
    fprintf(f, "P6\n%d %d\n255\n", w, h);
    fwrite(px, 1, (size_t)w * h * 3, f);
    return fclose(f);
}

static inline int tu_have_convert(void) { return system("convert -version >/dev/null 2>&1") == 0; }

/* convert IN [ARGS] OUT inside the scratch dir. */
static inline int tu_convert(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && convert %s 2>/dev/null", tu_dir, args);
    return system(cmd);
}

#endif
