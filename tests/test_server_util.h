/* test_server_util.h — for the server tests: a small catalogue of real
 * photos with hand-written descriptions (no models needed, so every box
 * is known), including a file whose name is an HTML injection attempt,
 * and a tiny HTTP client (libcurl). */
#ifndef IMGDEX_TEST_SERVER_UTIL_H
#define IMGDEX_TEST_SERVER_UTIL_H

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "describe/internal.h"
#include "image/image.h"
#include "index/catalogue.h"
#include "server/server.h"

#define XSS_NAME "<img src=x onerror=alert(1)>.jpg"
#define XSS_OCR "<script>alert(2)</script>"

/* regions: "label score x0 y0 x1 y1 colour:share..." separated by ';'
 * ("segment:label ..." for a SAM segment with a mask) */
static inline void fx_regions(description *ds, const char *spec)
{
    ds->regions = calloc(12, sizeof(region));
    region *r = &ds->regions[ds->nregions++];
    r->kind = REGION_IMAGE;
    snprintf(r->label, sizeof r->label, "image");
    r->x1 = r->y1 = r->area = r->score = 1;
    r->cx = r->cy = 0.5f;
    r->size = SIZE_LARGE;
    snprintf(r->position, sizeof r->position, "middle centre");
    snprintf(r->colours[0].name, sizeof r->colours[0].name, "green");
    r->colours[0].share = 0.4f;
    snprintf(r->colours[1].name, sizeof r->colours[1].name, "white");
    r->colours[1].share = 0.3f;
    r->ncolours = 2;
    char buf[1024], *save;
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *s = strtok_r(buf, ";", &save); s && ds->nregions < 12; s = strtok_r(NULL, ";", &save)) {
        r = &ds->regions[ds->nregions++];
        int used = 0;
        sscanf(s, " %47s %f %f %f %f %f%n", r->label, &r->score, &r->x0, &r->y0, &r->x1, &r->y1, &used);
        r->kind = !strcmp(r->label, "face") ? REGION_FACE : REGION_OBJECT;
        if (!strncmp(r->label, "segment:", 8)) {
            /* "segment:bird": a SAM segment, its mask an ellipse in its box
             * (24 x 16 cells) */
            r->kind = REGION_SEGMENT;
            memmove(r->label, r->label + 8, strlen(r->label + 8) + 1);
            uint8_t m[24 * 16];
            for (int y = 0; y < 16; y++)
                for (int x = 0; x < 24; x++) {
                    float dx = ((float)x + 0.5f) / 12 - 1, dy = ((float)y + 0.5f) / 8 - 1;
                    m[y * 24 + x] = dx * dx + dy * dy <= 1 ? 255 : 0;
                }
            r->mask_rle = mask_rle_encode(m, 24, 16, &r->mask_len);
        }
        r->cx = (r->x0 + r->x1) / 2;
        r->cy = (r->y0 + r->y1) / 2;
        r->area = (r->x1 - r->x0) * (r->y1 - r->y0);
        r->size = r->area < 0.05f ? SIZE_SMALL : r->area < 0.25f ? SIZE_MEDIUM : SIZE_LARGE;
        snprintf(r->position, sizeof r->position, "%s %s", r->cy < 0.33f ? "top" : r->cy < 0.66f ? "middle" : "bottom",
                 r->cx < 0.33f ? "left" : r->cx < 0.66f ? "centre" : "right");
        char *csave;
        for (char *t = strtok_r(s + used, " ", &csave); t && r->ncolours < DESC_MAX_COLOURS;
             t = strtok_r(NULL, " ", &csave)) {
            char *colon = strchr(t, ':');
            if (!colon) continue;
            *colon = 0;
            snprintf(r->colours[r->ncolours].name, sizeof r->colours[0].name, "%s", t);
            r->colours[r->ncolours++].share = (float)atof(colon + 1);
        }
    }
}

static inline int fx_copy(const char *from, const char *to)
{
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    return system(cmd);
}

/* Put one file with a description into the catalogue; its id or -1. */
static inline int64_t fx_put(catalogue *c, const char *path, const char *regions, const char *caption, const char *ocr,
                      const char *camera)
{
    img im;
    img_meta m;
    ierr e = {0};
    if (img_load(path, NULL, &im, &m, &e) != 0) {
        fprintf(stderr, "fixture: %s\n", e.msg);
        return -1;
    }
    description ds;
    memset(&ds, 0, sizeof ds);
    ds.width = im.w;
    ds.height = im.h;
    img_free(&im);
    fx_regions(&ds, regions);
    snprintf(ds.caption, sizeof ds.caption, "%s", caption);
    snprintf(ds.scene, sizeof ds.scene, "bright outdoor");
    ds.brightness = 0.6f;
    if (ocr) {
        ds.words = calloc(1, sizeof(ocr_word));
        snprintf(ds.words[0].text, sizeof ds.words[0].text, "%s", ocr);
        ds.words[0].conf = 0.9f;
        ds.words[0].x0 = 0.1f, ds.words[0].y0 = 0.1f, ds.words[0].x1 = 0.5f, ds.words[0].y1 = 0.2f;
        ds.nwords = 1;
    }
    if (camera) snprintf(m.camera, sizeof m.camera, "%s", camera);
    struct stat st;
    char hash[65];
    if (stat(path, &st) != 0 || file_sha256(path, hash, &e) != 0) return -1;
    cat_file f = {.path = path, .size = st.st_size, .mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL,
                  .hash = hash, .meta = &m, .describer = "test-fixture"};
    int64_t id = cat_put(c, &f, &ds, &e);
    description_free(&ds);
    if (id <= 0) fprintf(stderr, "fixture: cat_put %s: %s\n", path, e.msg);
    return id > 0 ? id : -1;
}

/* The fixture: darknet's sample photos (when installed) plus generated
 * ones, into dir/photos, catalogued in dir/fx.db.  Returns the count. */
static inline int fx_build(const char *dir, char *db, size_t dbn)
{
    char photos[1024], p[1400];
    snprintf(photos, sizeof photos, "%s/photos", dir);
    mkdir(photos, 0755);
    snprintf(db, dbn, "%s/fx.db", dir);
    ierr e = {0};
    catalogue *c = cat_open(db, 0, &e);
    if (!c) {
        fprintf(stderr, "fixture: %s\n", e.msg);
        return -1;
    }
    static const struct { const char *file, *regions, *caption, *ocr; } dn[] = {
        {"dog.jpg", "bicycle 0.92 0.17 0.22 0.74 0.75 white:0.5 red:0.2; dog 0.95 0.16 0.38 0.42 0.94 brown:0.5 white:0.3;"
                    "truck 0.81 0.61 0.13 0.90 0.30 white:0.7",
         "a dog to the left of a bicycle, a truck in the top right", NULL},
        {"person.jpg", "person 0.97 0.29 0.18 0.47 0.88 blue:0.4; horse 0.94 0.63 0.25 0.95 0.86 brown:0.6;"
                       "dog 0.90 0.10 0.62 0.30 0.83 black:0.5; face 0.8 0.34 0.19 0.41 0.30",
         "a person between a dog and a horse", NULL},
        {"horses.jpg", "horse 0.93 0.0 0.25 0.28 0.87 brown:0.6; horse 0.91 0.27 0.30 0.55 0.88 white:0.5;"
                       "horse 0.9 0.50 0.22 0.77 0.85 brown:0.6; horse 0.88 0.75 0.35 0.95 0.75 black:0.5",
         "four horses in a field", NULL},
        {"giraffe.jpg", "giraffe 0.95 0.33 0.05 0.83 0.98 brown:0.5 yellow:0.3; zebra 0.9 0.38 0.52 0.58 0.93 white:0.5",
         "a giraffe next to a zebra", NULL},
        {"eagle.jpg", "bird 0.96 0.17 0.13 0.84 0.88 brown:0.6; segment:bird 0.8 0.2 0.15 0.8 0.85 brown:0.7",
         "a bird in the centre", NULL},
    };
    int n = 0;
    for (size_t i = 0; i < sizeof dn / sizeof dn[0]; i++) {
        char src[512];
        snprintf(src, sizeof src, "/usr/share/darknet/data/%s", dn[i].file);
        snprintf(p, sizeof p, "%s/%s", photos, dn[i].file);
        if (access(src, R_OK) != 0 || fx_copy(src, p) != 0) continue;
        if (fx_put(c, p, dn[i].regions, dn[i].caption, dn[i].ocr, i == 0 ? "Canon EOS 5D" : NULL) > 0) n++;
    }
    /* Generated: a red square on white, named to inject HTML, with OCR text
     * that is a script tag.  Both must show as text in the page. */
    img g = {320, 240, malloc(320 * 240 * 3)};
    for (int y = 0; y < 240; y++)
        for (int x = 0; x < 320; x++) {
            uint8_t *px = g.px + ((size_t)y * 320 + x) * 3;
            int in = x >= 40 && x < 160 && y >= 60 && y < 200;
            px[0] = in ? 210 : 245, px[1] = in ? 30 : 245, px[2] = in ? 40 : 240;
        }
    unsigned char *jpg;
    size_t len;
    img_encode_jpeg(&g, 90, &jpg, &len, &e);
    free(g.px);
    snprintf(p, sizeof p, "%s/%s", photos, XSS_NAME);
    FILE *f = fopen(p, "wb");
    if (f) {
        fwrite(jpg, 1, len, f);
        fclose(f);
        if (fx_put(c, p, "dog 0.7 0.12 0.25 0.5 0.83 red:0.8", "<b>bold</b> a red dog", XSS_OCR, NULL) > 0) n++;
    }
    free(jpg);
    cat_close(c);
    return n;
}

/* ---- HTTP --------------------------------------------------------------- */

typedef struct http_res {
    long status;
    char *body;
    size_t len;
    char headers[8192];
} http_res;

static inline size_t fx_body(char *p, size_t sz, size_t n, void *u)
{
    http_res *r = u;
    size_t k = sz * n;
    r->body = realloc(r->body, r->len + k + 1);
    memcpy(r->body + r->len, p, k);
    r->len += k;
    r->body[r->len] = 0;
    return k;
}

static inline size_t fx_header(char *p, size_t sz, size_t n, void *u)
{
    http_res *r = u;
    size_t k = sz * n, have = strlen(r->headers);
    if (have + k < sizeof r->headers) {
        memcpy(r->headers + have, p, k);
        r->headers[have + k] = 0;
    }
    return k;
}

/* GET (or `method`) base+path sent verbatim (no ../ squashing), with up to
 * two extra header lines.  Returns the status, 0 on transport failure. */
static inline long http(const char *base, const char *path, const char *method, const char *h1, const char *h2,
                 http_res *r)
{
    memset(r, 0, sizeof *r);
    char url[8192];
    snprintf(url, sizeof url, "%s%s", base, path);
    CURL *c = curl_easy_init();
    struct curl_slist *hs = NULL;
    if (h1) hs = curl_slist_append(hs, h1);
    if (h2) hs = curl_slist_append(hs, h2);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fx_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, fx_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (method) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (method && !strcmp(method, "HEAD")) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (hs) curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hs);
    curl_easy_cleanup(c);
    if (!r->body) r->body = calloc(1, 1);
    return r->status;
}

/* The value of header `name` (case-insensitive) in r, or "" — static buffer. */
static inline const char *http_header(const http_res *r, const char *name)
{
    static char v[1024];
    v[0] = 0;
    size_t n = strlen(name);
    for (const char *l = r->headers; *l;) {
        const char *end = strstr(l, "\r\n");
        if (!end) end = l + strlen(l);
        if (!strncasecmp(l, name, n) && l[n] == ':') {
            const char *s = l + n + 1;
            while (*s == ' ') s++;
            size_t k = (size_t)(end - s) < sizeof v - 1 ? (size_t)(end - s) : sizeof v - 1;
            memcpy(v, s, k);
            v[k] = 0;
            return v;
        }
        l = *end ? end + 2 : end;
    }
    return v;
}

#endif
