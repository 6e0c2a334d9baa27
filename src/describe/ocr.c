/* ocr.c — text in the image, through Tesseract's C API.
 *
 * Tesseract costs a few hundred milliseconds per photo, and most photos
 * have no text, so a cheap test runs first (ocr_text_likely): text is rows
 * of thin high-contrast strokes, bounded above and below by calmer rows.
 * Only images that pass are recognised.
 *
 * Threads: one TessBaseAPI per describer (one describer per thread).
 * Tesseract's LSTM parallelises with OpenMP; with one describer per core
 * that only oversubscribes, so OpenMP parallel regions are switched off
 * (omp_set_max_active_levels(0), looked up at run time because libgomp
 * comes in through libtesseract, and setting OMP_THREAD_LIMIT from inside
 * the process is too late for libgomp, which reads it when loaded).
 */
#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tesseract/capi.h>

#include "describe/stages.h"

struct ocr_engine {
    TessBaseAPI *api;
    char name[32];
};

static void omp_single(void)
{
    void (*set_levels)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_max_active_levels");
    if (set_levels) set_levels(0);
}
static pthread_once_t omp_once = PTHREAD_ONCE_INIT;

ocr_engine *ocr_open(ierr *e)
{
    setenv("OMP_THREAD_LIMIT", "1", 0);   /* for any child process */
    pthread_once(&omp_once, omp_single);
    TessBaseAPI *api = TessBaseAPICreate();
    if (!api) { err_set(e, "tesseract: cannot create an engine"); return NULL; }
    /* Init prints to stderr when the language data is missing; the message
     * we return says it in one line instead. */
    if (TessBaseAPIInit3(api, NULL, "eng") != 0) {
        TessBaseAPIDelete(api);
        err_set(e, "tesseract: English language data not found (Debian: tesseract-ocr-eng)");
        return NULL;
    }
    /* Photos: text anywhere, in any amount ("sparse text"); no per-page
     * debug chatter ("Estimating resolution as ...") on stderr. */
    TessBaseAPISetPageSegMode(api, PSM_SPARSE_TEXT);
    TessBaseAPISetVariable(api, "debug_file", "/dev/null");
    ocr_engine *o = xcalloc(1, sizeof *o);
    o->api = api;
    const char *v = TessVersion();
    snprintf(o->name, sizeof o->name, "tesseract-%s", v ? v : "?");
    for (char *p = o->name; *p; p++) if (*p == ' ') *p = '-';
    return o;
}

const char *ocr_name(const ocr_engine *o) { return o->name; }

void ocr_close(ocr_engine *o)
{
    if (!o) return;
    TessBaseAPIEnd(o->api);
    TessBaseAPIDelete(o->api);
    free(o);
}

/* ---- the cheap "is there text?" test ------------------------------------ */

enum { CELL = 12, AW = 480 };

int ocr_text_likely(const img *im)
{
    if (!im || im->w < 16 || im->h < 16) return 0;
    /* Luma at up to AW columns (nearest sample: strokes survive better
     * than under averaging, and it is cheaper). */
    int W = im->w < AW ? im->w : AW;
    int H = (int)((long)im->h * W / im->w);
    if (H < CELL * 3) return 0;
    uint8_t *g = xmalloc((size_t)W * (size_t)H);
    for (int y = 0; y < H; y++) {
        const uint8_t *row = im->px + (size_t)((long)y * im->h / H) * (size_t)im->w * 3;
        for (int x = 0; x < W; x++) {
            const uint8_t *p = row + (size_t)((long)x * im->w / W) * 3;
            g[(size_t)y * W + x] = (uint8_t)((77 * p[0] + 150 * p[1] + 29 * p[2]) >> 8);
        }
    }
    /* Strokes per cell: along each row, a strong edge followed within a
     * few pixels by a strong edge of the opposite sign is a thin line. */
    int cw = W / CELL, ch = H / CELL;
    int *strokes = xcalloc((size_t)cw * (size_t)ch, sizeof *strokes);
    const int T = 28, MAXW = 7;
    for (int y = 0; y < ch * CELL; y++) {
        const uint8_t *r = g + (size_t)y * W;
        int last_x = -100, last_sign = 0;
        for (int x = 1; x < W - 1; x++) {
            int d = (int)r[x + 1] - (int)r[x - 1];
            if (d > T || d < -T) {
                int s = d > 0 ? 1 : -1;
                if (last_sign == -s && x - last_x <= MAXW) {
                    int cx = x / CELL;
                    if (cx < cw) strokes[(y / CELL) * cw + cx]++;
                    last_sign = 0;
                } else {
                    last_x = x;
                    last_sign = s;
                }
            }
        }
    }
    /* A text-like cell has a moderate stroke density; a text line is a
     * horizontal run of them whose cells above or below are calmer (texture
     * such as grass or leaves fills whole areas instead). */
    const int lo = 10, hi = 70;
    int lines = 0;
    for (int cy = 0; cy < ch && !lines; cy++) {
        int run = 0, calm = 0;
        for (int cx = 0; cx <= cw; cx++) {
            int s = cx < cw ? strokes[cy * cw + cx] : 0;
            if (s >= lo && s <= hi) {
                run++;
                int up = cy > 0 ? strokes[(cy - 1) * cw + cx] : 0;
                int dn = cy + 1 < ch ? strokes[(cy + 1) * cw + cx] : 0;
                if (up * 2 < s || dn * 2 < s) calm++;
            } else {
                if (run >= 3 && calm * 3 >= run * 2) { lines++; break; }
                run = calm = 0;
            }
        }
    }
    free(strokes);
    free(g);
    return lines > 0;
}

/* ---- recognition --------------------------------------------------------- */

int ocr_word_plausible(const char *w, float conf)
{
    int n = 0, alnum = 0, alpha = 0, digit = 0, vowel = 0, upper = 0, lower = 0, weird_case = 0, rep = 1, maxrep = 1;
    for (const char *p = w; *p; p++, n++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c)) alnum++;
        if (isalpha(c)) {
            alpha++;
            if (strchr("aeiouyAEIOUY", c)) vowel++;
            if (isupper(c)) { upper++; if (p > w && islower((unsigned char)p[-1])) weird_case++; }
            else lower++;
        }
        if (isdigit(c)) digit++;
        if (p > w && *p == p[-1]) { if (++rep > maxrep) maxrep = rep; } else rep = 1;
    }
    if (n == 0 || n > 40) return 0;
    if (alnum < 2) return 0;                       /* single marks are noise */
    if (alnum * 10 < n * 7) return 0;              /* mostly punctuation */
    if (maxrep >= 4) return 0;                     /* "IIII", "----" */
    if (alpha >= 4 && !digit && !vowel) return 0;  /* "rtkl" */
    if (weird_case > 1 || (weird_case && upper < 2 && lower > 0 && alpha < 4)) return 0;
    (void)conf;
    return 1;
}

/* Trim leading/trailing punctuation that Tesseract glues to words. */
static void trim_word(char *s)
{
    size_t n = strlen(s);
    while (n && (ispunct((unsigned char)s[n - 1]) && s[n - 1] != '%' && s[n - 1] != '!' && s[n - 1] != '?'))
        s[--n] = 0;
    size_t k = 0;
    while (s[k] && ispunct((unsigned char)s[k]) && s[k] != '#' && s[k] != '$' && s[k] != '@') k++;
    if (k) memmove(s, s + k, strlen(s + k) + 1);
}

int ocr_run(ocr_engine *o, const img *im, ocr_word **words, ierr *e)
{
    *words = NULL;
    TessBaseAPISetImage(o->api, im->px, im->w, im->h, 3, im->w * 3);
    /* Photos carry no resolution; 300 dpi keeps Tesseract from guessing
     * (and from warning that it guessed). */
    TessBaseAPISetSourceResolution(o->api, 300);
    if (TessBaseAPIRecognize(o->api, NULL) != 0) {
        TessBaseAPIClear(o->api);
        err_set(e, "tesseract: recognition failed");
        return -1;
    }
    int n = 0, cap = 0;
    ocr_word *out = NULL;
    TessResultIterator *it = TessBaseAPIGetIterator(o->api);
    if (it) {
        do {
            char *t = TessResultIteratorGetUTF8Text(it, RIL_WORD);
            if (!t) continue;
            float conf = TessResultIteratorConfidence(it, RIL_WORD) / 100.0f;
            int dict = TessResultIteratorWordIsFromDictionary(it);
            int l, tp, r, b;
            const TessPageIterator *pi = TessResultIteratorGetPageIteratorConst(it);
            int have_box = TessPageIteratorBoundingBox(pi, RIL_WORD, &l, &tp, &r, &b);
            char w[64];
            snprintf(w, sizeof w, "%s", t);
            TessDeleteText(t);
            trim_word(w);
            /* Dictionary words are trusted a little earlier than others. */
            float need = dict ? 0.55f : 0.7f;
            if (!have_box || conf < need || !ocr_word_plausible(w, conf)) continue;
            if (n == cap) { cap = cap ? cap * 2 : 16; out = xrealloc(out, (size_t)cap * sizeof *out); }
            ocr_word *ow = &out[n++];
            memset(ow, 0, sizeof *ow);
            snprintf(ow->text, sizeof ow->text, "%s", w);
            ow->conf = conf;
            ow->x0 = (float)l / (float)im->w; ow->y0 = (float)tp / (float)im->h;
            ow->x1 = (float)r / (float)im->w; ow->y1 = (float)b / (float)im->h;
        } while (TessResultIteratorNext(it, RIL_WORD));
        TessResultIteratorDelete(it);
    }
    TessBaseAPIClear(o->api);
    *words = out;
    return n;
}

/* ---- the stage ----------------------------------------------------------- */

int stage_ocr_open(describer *d, stage_state *st, ierr *why)
{
    if (!d->o.ocr) { snprintf(st->model, sizeof st->model, "off"); return -1; }
    ocr_engine *o = ocr_open(why);
    if (!o) { snprintf(st->model, sizeof st->model, "missing"); return -1; }
    st->h = o;
    snprintf(st->model, sizeof st->model, "%s", o->name);
    return 0;
}

int stage_ocr_run(dctx *c, stage_state *st, ierr *e)
{
    if (!ocr_text_likely(c->im)) return 0;
    int n = ocr_run(st->h, c->im, &c->ds->words, e);
    if (n < 0) return -1;
    c->ds->nwords = n;
    return 0;
}

void stage_ocr_close(describer *d, stage_state *st)
{
    (void)d;
    ocr_close(st->h);
    st->h = NULL;
}
