/* bench_decode.c — images/s for decode + resize to 224 (shorter side), on
 * the Flickr8k dev images and on a generated 12 MP JPEG, next to libjpeg-
 * turbo's own `djpeg -scale n/8` decoding the same files at the same scale
 * in the same run.
 *
 * djpeg runs as one process per file (that is how it is used from a
 * shell), so its figure includes process start; we also time spawning
 * `djpeg -version` and print djpeg's rate with that start cost removed,
 * which is the fair decode-only peer.  Single thread on both sides.
 *   IMGDEX_BENCH_N=200   limit the number of dev images
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "image/image.h"

extern char **environ;

#define SIDE 224

static int scale_for(int w, int h)
{
    long s = w < h ? w : h;
    for (int n = 1; n < 8; n++)
        if ((s * n + 7) / 8 >= SIDE) return n;
    return 8;
}

static int run(char *const argv[])
{
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return -1;
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Ours: decode with DCT scaling, then area-resize the shorter side to 224. */
static int ours(const char *path, int *scale)
{
    img_load_opts o = {SIDE, 0};
    img im, out;
    img_meta m;
    ierr e = {0};
    if (img_load(path, &o, &im, &m, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return -1;
    }
    int w = im.w <= im.h ? SIDE : (int)((long)im.w * SIDE / im.h);
    int h = im.w <= im.h ? (int)((long)im.h * SIDE / im.w) : SIDE;
    img_resize(&im, w, h, &out);
    img_free(&im);
    img_free(&out);
    *scale = scale_for(m.orig_w, m.orig_h);
    return 0;
}

static int djpeg(const char *path, int scale)
{
    char sc[8];
    snprintf(sc, sizeof sc, "%d/8", scale);
    char *argv[] = {"djpeg", "-scale", sc, "-ppm", "-outfile", "/dev/null", (char *)path, NULL};
    return run(argv);
}

static void compare(const char *what, char **files, int n, int reps)
{
    int *scales = xcalloc((size_t)n, sizeof(int));
    double t0 = now_seconds();
    int ok = 0;
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < n; i++) ok += ours(files[i], &scales[i]) == 0;
    double t_ours = now_seconds() - t0;
    t0 = now_seconds();
    int dok = 0;
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < n; i++) dok += djpeg(files[i], scales[i] ? scales[i] : 8) == 0;
    double t_dj = now_seconds() - t0;
    char *ver[] = {"djpeg", "-version", NULL};
    t0 = now_seconds();
    for (int i = 0; i < 20; i++) run(ver);
    double spawn = (now_seconds() - t0) / 20;
    int total = n * reps;
    double r_ours = ok / t_ours, r_dj = dok / t_dj, net = t_dj - spawn * total;
    double r_dj_net = net > 0 ? dok / net : 0;
    printf("%-26s %5d images  imgdex decode+resize %7.1f img/s | djpeg -scale %7.1f img/s (%6.1f without %.1f ms process start)"
           " | ratio %.2fx (%.2fx vs decode-only)\n",
           what, total, r_ours, r_dj, r_dj_net, spawn * 1e3, r_ours / r_dj, r_dj_net > 0 ? r_ours / r_dj_net : 0);
    if (ok != total || dok != total) printf("  (failures: imgdex %d, djpeg %d)\n", total - ok, total - dok);
    free(scales);
}

int main(void)
{
    const char *srcdir = getenv("IMGDEX_SRCDIR") ? getenv("IMGDEX_SRCDIR") : IMGDEX_SRCDIR;
    char data[1024], list[1200];
    if (getenv("IMGDEX_DATA"))
        snprintf(data, sizeof data, "%s/flickr8k", getenv("IMGDEX_DATA"));
    else
        snprintf(data, sizeof data, "%s/../shared/data/flickr8k", srcdir);
    snprintf(list, sizeof list, "%s/dev.txt", data);
    if (run((char *[]){"djpeg", "-version", NULL}) != 0) {
        printf("SKIP bench_decode: djpeg (libjpeg-turbo-progs) not installed\n");
        return 0;
    }
    int limit = getenv("IMGDEX_BENCH_N") ? atoi(getenv("IMGDEX_BENCH_N")) : 1000;
    FILE *f = fopen(list, "r");
    if (!f) {
        printf("SKIP flickr8k dev images: %s not found\n", list);
    } else {
        char **files = NULL, line[512];
        int n = 0;
        while (n < limit && fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = 0;
            if (!line[0]) continue;
            files = xrealloc(files, sizeof(char *) * (size_t)(n + 1));
            char p[2048];
            snprintf(p, sizeof p, "%s/images/%s", data, line);
            files[n++] = xstrdup(p);
        }
        fclose(f);
        compare("flickr8k dev (~500x375)", files, n, 1);
        for (int i = 0; i < n; i++) free(files[i]);
        free(files);
    }
    /* A 12 MP JPEG with photo-like texture, encoded by libjpeg at q 90. */
    img big = {4000, 3000, xmalloc((size_t)4000 * 3000 * 3)};
    srand(1);
    for (int y = 0; y < 3000; y++)
        for (int x = 0; x < 4000; x++) {
            uint8_t *p = big.px + ((size_t)y * 4000 + x) * 3;
            p[0] = (uint8_t)(x / 16 + (rand() & 7));
            p[1] = (uint8_t)(y / 12 + (rand() & 3));
            p[2] = (uint8_t)(((x / 40) ^ (y / 40)) & 1 ? 200 : 40);
        }
    unsigned char *jpg;
    size_t len;
    ierr e = {0};
    if (img_encode_jpeg(&big, 90, &jpg, &len, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return 2;
    }
    free(big.px);
    char tmp[] = "/tmp/imgdex-bench-12mp-XXXXXX";
    int fd = mkstemp(tmp);
    if (fd < 0 || write(fd, jpg, len) != (ssize_t)len) return 2;
    close(fd);
    free(jpg);
    char *one[] = {tmp}, what[64];
    snprintf(what, sizeof what, "12 MP 4000x3000 (%.1f MB)", len / 1e6);
    compare(what, one, 1, 20);
    unlink(tmp);
    return 0;
}
