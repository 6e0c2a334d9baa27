/* ocr.c — text in the image, through Tesseract's C API.
 *
 * Tesseract costs a few hundred milliseconds per photo, and most photos
 * have no text, so a cheap test runs first (ocr_text_likely): text is rows
 * of thin high-contrast strokes, bounded above and below by calmer rows.
 * Only images that pass are recognised.
 *
 * Threads: one TessBaseAPI per describer (one describer per thread).
 * Tesseract's LSTM parallelises with OpenMP; with one describer per core
 * that only oversubscribes, so OpenMP parallel regions are switched off:
 * OMP_THREAD_LIMIT=1 is set before Tesseract (and with it libgomp) is
 * loaded (tess.h), and omp_set_max_active_levels(0) for a caller that set
 * its own limit.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "describe/stages.h"
#include "describe/tess.h"

struct ocr_engine {
    const tess_api *T;   /* Tesseract, loaded on first use (tess.h) */
    TessBaseAPI *api;
    char name[32];
};

static void omp_single(void)
{
    /* Leptonica reports harmless geometry complaints on stderr ("box outside
     * rectangle") while Tesseract lays out photos; silence them. */
    ierr e = {0};
    const tess_api *T = tess_load(&e);
    if (!T) return;
    T->LeptMsgSeverity(L_SEVERITY_NONE);
    if (T->OmpMaxActiveLevels) T->OmpMaxActiveLevels(0);
}
static pthread_once_t omp_once = PTHREAD_ONCE_INIT;

ocr_engine *ocr_open(ierr *e)
{
    setenv("OMP_THREAD_LIMIT", "1", 0);   /* for any child process */
    const tess_api *T = tess_load(e);
    if (!T) return NULL;
    pthread_once(&omp_once, omp_single);
    TessBaseAPI *api = T->Create();
    if (!api) { err_set(e, "tesseract: cannot create an engine"); return NULL; }
    /* Init prints to stderr when the language data is missing; the message
     * we return says it in one line instead. */
    if (T->Init3(api, NULL, "eng") != 0) {
        T->Delete(api);
        err_set(e, "tesseract: English language data not found (Debian: tesseract-ocr-eng)");
        return NULL;
    }
    /* No per-page debug chatter on stderr. */
    T->SetVariable(api, "debug_file", "/dev/null");
    ocr_engine *o = xcalloc(1, sizeof *o);
    o->api = api;
    o->T = T;
    const char *v = T->Version();
    snprintf(o->name, sizeof o->name, "tesseract-%s", v ? v : "?");
    for (char *p = o->name; *p; p++) if (*p == ' ') *p = '-';
    return o;
}

const char *ocr_name(const ocr_engine *o) { return o->name; }

void ocr_close(ocr_engine *o)
{
    if (!o) return;
    o->T->End(o->api);
    o->T->Delete(o->api);
    free(o);
}

/* ---- the cheap "is there text?" test ------------------------------------ */

/* Text is a row of dark-on-light (or light-on-dark) blobs of one height,
 * side by side, their bottoms on one line.  So: threshold against the local
 * mean, label connected blobs, keep the letter-shaped ones, and look for
 * three or more in a row.  Foliage and gravel make blobs too, but rarely of
 * one height on one baseline.  About a millisecond at the working size. */

enum { AW = 512, MAXBLOBS = 4096 };

typedef struct blob { int x0, y0, x1, y1, n; } blob;

static int uf_find(int *p, int i)
{
    while (p[i] != i) { p[i] = p[p[i]]; i = p[i]; }
    return i;
}

/* Letter-shaped blobs of one polarity: m[i] = 1 where the pixel is on.
 * lab and map are scratch of W*H ints. */
static int find_blobs(const uint8_t *m, int W, int H, int *lab, int *map, blob *out, int max)
{
    int n = W * H;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int i = y * W + x;
            lab[i] = m[i] ? i : -1;
            if (lab[i] < 0) continue;
            if (x > 0 && lab[i - 1] >= 0) lab[i] = uf_find(lab, i - 1);
            if (y > 0 && lab[i - W] >= 0) {
                int a = uf_find(lab, i - W), b = uf_find(lab, i);
                if (a != b) lab[a > b ? a : b] = a > b ? b : a;
            }
        }
    int nb = 0;
    for (int i = 0; i < n; i++) map[i] = -1;
    for (int i = 0; i < n; i++) {
        if (lab[i] < 0) continue;
        int r = uf_find(lab, i);
        if (map[r] < 0) {
            if (nb == max) continue;
            map[r] = nb;
            out[nb++] = (blob){i % W, i / W, i % W, i / W, 0};
        }
        blob *b = &out[map[r]];
        int x = i % W, y = i / W;
        if (x < b->x0) b->x0 = x;
        if (x > b->x1) b->x1 = x;
        if (y > b->y1) b->y1 = y;   /* rows arrive in order: y0 is the first */
        b->n++;
    }
    return nb;
}

/* Keeps the letter shapes of b[0..n) in place, for an image H pixels
 * tall: not tiny, not huge, not a thin line, not solid. */
static int keep_letters(blob *b, int n, int H)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        int w = b[i].x1 - b[i].x0 + 1, h = b[i].y1 - b[i].y0 + 1;
        float fill = (float)b[i].n / (float)(w * h);
        if (h < 7 || h > H / 3 || w > 2 * h || w * 8 < h || fill < 0.12f || fill > 0.85f) continue;
        b[k++] = b[i];
    }
    return k;
}

/* The blobs as they would be in the W×H image turned a quarter, so that
 * columns become rows: anticlockwise (cw = 0) sets upright text that reads
 * downwards, clockwise (cw = 1) text that reads upwards. */
static void turn_blobs(const blob *in, int n, int W, int H, int cw, blob *out)
{
    for (int i = 0; i < n; i++) {
        const blob *b = &in[i];
        out[i] = cw ? (blob){H - 1 - b->y1, b->x0, H - 1 - b->y0, b->x1, b->n}
                    : (blob){b->y0, W - 1 - b->x1, b->y1, W - 1 - b->x0, b->n};
    }
}

static int by_x0(const void *a, const void *b)
{
    const blob *p = a, *q = b;
    return (p->x0 > q->x0) - (p->x0 < q->x0);
}

/* Blobs in a row: each next blob of about the same height as the row's
 * first (letters of one size), bottoms on one line, gaps under a letter
 * height.  Returns the longest such row. */
static int longest_row(blob *b, int n)
{
    qsort(b, (size_t)n, sizeof *b, by_x0);   /* foliage leaves hundreds of blobs */
    int best = 0;
    for (int i = 0; i < n && best < 8; i++) {
        int h0 = b[i].y1 - b[i].y0 + 1, len = 1, last = i;
        for (int j = i + 1; j < n; j++) {
            int hj = b[j].y1 - b[j].y0 + 1;
            int gap = b[j].x0 - b[last].x1;
            if (b[j].x0 - b[last].x1 > h0) {
                if (b[j].x0 > b[last].x1 + 2 * h0) break;   /* sorted: the rest are farther */
                continue;
            }
            if (gap < 0) continue;                           /* overlapping: not side by side */
            if (hj * 4 < h0 * 3 || hj * 3 > h0 * 4) continue;
            if (abs(b[j].y1 - b[last].y1) * 5 > h0) continue;
            len++;
            last = j;
        }
        if (len > best) best = len;
    }
    return best;
}

int ocr_text_likely(const img *im) { return ocr_text_layout(im) != 0; }

int ocr_text_layout(const img *im)
{
    if (!im || im->w < 16 || im->h < 16) return 0;
    int W = im->w < AW ? im->w : AW;
    int H = (int)((long)im->h * W / im->w);
    if (H < 16) return 0;
    int n = W * H;
    uint8_t *g = xmalloc((size_t)n);
    for (int y = 0; y < H; y++) {
        const uint8_t *row = im->px + (size_t)((long)y * im->h / H) * (size_t)im->w * 3;
        for (int x = 0; x < W; x++) {
            const uint8_t *p = row + (size_t)((long)x * im->w / W) * 3;
            g[y * W + x] = (uint8_t)((77 * p[0] + 150 * p[1] + 29 * p[2]) >> 8);
        }
    }
    /* Local mean over a window about the size of a large letter, from an
     * integral image. */
    uint32_t *ii = xmalloc((size_t)(W + 1) * (size_t)(H + 1) * sizeof *ii);
    for (int x = 0; x <= W; x++) ii[x] = 0;
    for (int y = 1; y <= H; y++) {
        uint32_t run = 0;
        ii[(size_t)y * (W + 1)] = 0;
        for (int x = 1; x <= W; x++) {
            run += g[(y - 1) * W + x - 1];
            ii[(size_t)y * (W + 1) + x] = ii[(size_t)(y - 1) * (W + 1) + x] + run;
        }
    }
    const int R = 15, K = 25;
    uint8_t *dark = xmalloc((size_t)n), *light = xmalloc((size_t)n);
    for (int y = 0; y < H; y++) {
        int y0 = y - R < 0 ? 0 : y - R, y1 = y + R + 1 > H ? H : y + R + 1;
        for (int x = 0; x < W; x++) {
            int x0 = x - R < 0 ? 0 : x - R, x1 = x + R + 1 > W ? W : x + R + 1;
            uint32_t s = ii[(size_t)y1 * (W + 1) + x1] - ii[(size_t)y0 * (W + 1) + x1] -
                         ii[(size_t)y1 * (W + 1) + x0] + ii[(size_t)y0 * (W + 1) + x0];
            int mean = (int)(s / (uint32_t)((x1 - x0) * (y1 - y0)));
            dark[y * W + x] = g[y * W + x] + K < mean;
            light[y * W + x] = g[y * W + x] > mean + K;
        }
    }
    int *lab = xmalloc((size_t)n * sizeof *lab), *map = xmalloc((size_t)n * sizeof *map);
    blob *bl = xmalloc(MAXBLOBS * sizeof *bl), *tb = xmalloc(MAXBLOBS * sizeof *tb);
    int row = 0, col = 0;
    for (int pol = 0; pol < 2; pol++) {
        int nb = find_blobs(pol ? light : dark, W, H, lab, map, bl, MAXBLOBS);
        /* Columns are rows of the turned image: same test, either turn. */
        for (int cw = 0; cw < 2; cw++) {
            turn_blobs(bl, nb, W, H, cw, tb);
            int r = longest_row(tb, keep_letters(tb, nb, W));
            if (r > col) col = r;
        }
        int r = longest_row(bl, keep_letters(bl, nb, H));
        if (r > row) row = r;
    }
    free(tb);
    free(bl);
    free(map);
    free(lab);
    free(dark);
    free(light);
    free(ii);
    free(g);
    /* Four letters in a row: a short word ("STOP") passes; on Flickr8k
     * photos about 6% pass, and most of those do show text.  A column
     * must be longer, as leaves and rock make columns of blobs too: at six,
     * 0.5% of Flickr8k dev photos pass as columns only (none with turned
     * text, but each costs two to four readings), at five 1.2%. */
    return (row >= 4 ? OCR_ROWS : 0) | (col >= 6 ? OCR_COLUMNS : 0);
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
    /* Short words are where photo texture turns into "ay", "Gs", "PAK" (seen
     * at 70-90% confidence on Flickr8k); they must be very sure, and
     * letters-only short words must be capitals (signs) or digits. */
    if (alnum <= 3) {
        if (conf < 0.85f) return 0;
        if (alpha && lower) return 0;
    }
    return 1;
}

/* Trim leading/trailing punctuation that Tesseract glues to words,
 * including the UTF-8 curly quotes (E2 80 98/99/9C/9D). */
static int quote_at(const char *s) { return (unsigned char)s[0] == 0xE2 && (unsigned char)s[1] == 0x80 &&
                                            ((unsigned char)s[2] & 0xFC) == 0x98; }

static void trim_word(char *s)
{
    size_t n = strlen(s);
    for (;;) {
        if (n && ispunct((unsigned char)s[n - 1]) && !strchr("%!?", s[n - 1])) s[--n] = 0;
        else if (n >= 3 && quote_at(s + n - 3)) { n -= 3; s[n] = 0; }
        else break;
    }
    size_t k = 0;
    for (;;) {
        if (s[k] && ispunct((unsigned char)s[k]) && !strchr("#$@", s[k])) k++;
        else if (quote_at(s + k)) k += 3;
        else break;
    }
    if (k) memmove(s, s + k, strlen(s + k) + 1);
}

/* One recognition pass with a page segmentation mode; appends words. */
static int recognise(ocr_engine *o, const img *im, int psm, ocr_word **out, int *n, int *cap, ierr *e)
{
    const tess_api *T = o->T;
    T->SetPageSegMode(o->api, (TessPageSegMode)psm);
    T->SetImage(o->api, im->px, im->w, im->h, 3, im->w * 3);
    /* Photos carry no resolution; 300 dpi keeps Tesseract from guessing
     * (and from warning that it guessed). */
    T->SetSourceResolution(o->api, 300);
    if (T->Recognize(o->api, NULL) != 0) {
        T->Clear(o->api);
        err_set(e, "tesseract: recognition failed");
        return -1;
    }
    TessResultIterator *it = T->GetIterator(o->api);
    if (it) {
        do {
            char *t = T->ResultText(it, RIL_WORD);
            if (!t) continue;
            float conf = T->ResultConfidence(it, RIL_WORD) / 100.0f;
            int dict = T->ResultWordIsFromDictionary(it);
            int l, tp, r, b;
            const TessPageIterator *pi = T->ResultPageIterator(it);
            int have_box = T->PageBoundingBox(pi, RIL_WORD, &l, &tp, &r, &b);
            char w[64];
            snprintf(w, sizeof w, "%s", t);
            T->DeleteText(t);
            trim_word(w);
            /* Dictionary words are trusted a little earlier than others. */
            float need = dict ? 0.6f : 0.7f;
            if (!have_box || conf < need || !ocr_word_plausible(w, conf)) continue;
            if (*n == *cap) { *cap = *cap ? *cap * 2 : 16; *out = xrealloc(*out, (size_t)*cap * sizeof **out); }
            ocr_word *ow = &(*out)[(*n)++];
            memset(ow, 0, sizeof *ow);
            snprintf(ow->text, sizeof ow->text, "%s", w);
            ow->conf = conf;
            ow->x0 = (float)l / (float)im->w; ow->y0 = (float)tp / (float)im->h;
            ow->x1 = (float)r / (float)im->w; ow->y1 = (float)b / (float)im->h;
        } while (T->ResultNext(it, RIL_WORD));
        T->ResultDelete(it);
    }
    T->Clear(o->api);
    return 0;
}

/* "Sparse text" finds scattered words in photos; it misses some signs on
 * busy backgrounds that the automatic layout finds, so that runs when the
 * first pass found nothing. */
static int read_words(ocr_engine *o, const img *im, ocr_word **out, int *n, int *cap, ierr *e)
{
    int first = *n, rc = recognise(o, im, PSM_SPARSE_TEXT, out, n, cap, e);
    if (!rc && *n == first) rc = recognise(o, im, PSM_AUTO, out, n, cap, e);
    return rc;
}

/* Words read in the image turned by EXIF-style orientation `turn` (6: a
 * quarter clockwise, 8: anticlockwise), boxes mapped back. */
static int read_turned(ocr_engine *o, const img *im, int turn, ocr_word **out, int *n, int *cap, ierr *e)
{
    img t;
    if (img_rotate(im, turn, &t) != 0) return 0;   /* no memory for a copy: not read turned */
    int first = *n, rc = read_words(o, &t, out, n, cap, e);
    img_free(&t);
    for (int i = first; i < *n; i++) {
        ocr_word *w = &(*out)[i];
        float u0 = w->x0, v0 = w->y0, u1 = w->x1, v1 = w->y1;
        if (turn == 6) { w->x0 = v0; w->x1 = v1; w->y0 = 1 - u1; w->y1 = 1 - u0; }
        else { w->x0 = 1 - v1; w->x1 = 1 - v0; w->y0 = u0; w->y1 = u1; }
    }
    return rc;
}

int ocr_run(ocr_engine *o, const img *src, int layout, ocr_word **words, ierr *e)
{
    *words = NULL;
    /* Tesseract reads letters from ~20 px tall; text in a web-sized photo
     * is often half that, so small images are read at twice the size
     * (on Flickr8k this turns "OTHER" into "OTHER PEOPLE'S PHOTOGRAPHS"). */
    img big = {0, 0, NULL};
    const img *im = src;
    if (src->w < 640 && src->h < 640) {
        img_resize(src, src->w * 2, src->h * 2, &big);
        if (big.px) im = &big;
    } else if (src->w > 1600 || src->h > 1600) {
        /* Beyond this Tesseract's time grows with the pixels while what it
         * can read (signs, captions) is already large enough. */
        int lw = src->w > src->h ? src->w : src->h;
        img_resize(src, (int)((long)src->w * 1600 / lw), (int)((long)src->h * 1600 / lw), &big);
        if (big.px) im = &big;
    }
    int n = 0, cap = 0, rc;
    ocr_word *out = NULL;
    if (layout & OCR_ROWS || !layout) {
        rc = read_words(o, im, &out, &n, &cap, e);
    } else {
        /* Only columns: text turned one way or the other.  Reading a turned
         * copy costs what reading the image does; such images are rare. */
        rc = read_turned(o, im, 8, &out, &n, &cap, e);
        if (!rc && n == 0) rc = read_turned(o, im, 6, &out, &n, &cap, e);
    }
    img_free(&big);
    if (rc) { free(out); return -1; }
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
    int layout = ocr_text_layout(c->im);
    if (!layout) return 0;
    int n = ocr_run(st->h, c->im, layout, &c->ds->words, e);
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
