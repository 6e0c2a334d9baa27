/* ocr.c — text in the image, through Tesseract's C API.
 *
 * Tesseract on a whole photo costs a few hundred milliseconds and misses
 * most signs (its page layout takes a photo for a page).  So text lines are
 * found first (textlines.c: letter-shaped blobs chained along a baseline,
 * on a two-toned ground), about a millisecond a photo, and only those are
 * read: each line cut out, turned level, scaled to letters LH pixels tall,
 * black on white with its surroundings cleared, and read as a single line
 * (page segmentation mode 7).
 * Pieces of one word are joined, the same word read twice kept once.
 *
 * Threads: one TessBaseAPI per describer (one describer per thread).
 * Tesseract's LSTM parallelises with OpenMP; with one describer per core
 * that only oversubscribes, so OpenMP parallel regions are switched off:
 * OMP_THREAD_LIMIT=1 is set before Tesseract (and with it libgomp) is
 * loaded (tess.h), and omp_set_max_active_levels(0) for a caller that set
 * its own limit.
 */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "describe/stages.h"
#include "describe/tess.h"

struct ocr_engine {
    const tess_api *T;   /* Tesseract, loaded on first use (tess.h) */
    TessBaseAPI *api;
    text_scratch *scratch;   /* line finding's buffers */
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
    /* Lines are handed over dark on light (ocr.c make_crop): no need for
     * Tesseract to try each one inverted. */
    T->SetVariable(api, "tessedit_do_invert", "0");
    ocr_engine *o = xcalloc(1, sizeof *o);
    o->api = api;
    o->T = T;
    o->scratch = text_scratch_new();
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
    text_scratch_free(o->scratch);
    free(o);
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

/* The crop Tesseract reads for one line: luma, turned so the baseline is
 * level, scaled so letters are LH pixels tall, dark letters on light
 * (Tesseract's own inversion test then need not run), with a margin, then
 * made black on white with the photo round the letters cleared
 * (clean_crop). */
enum { LH = 24, PAD = 10 };
#define LONG_WORD_CONF 0.35f   /* see line_word_ok; chosen on train photos */   /* chosen on train photos: 20-32 read about alike, 40 worse */

typedef struct crop {
    uint8_t *px;
    int w, h;
    float cx, cy;        /* centre in the image */
    float ca, sa, inv;   /* cos, sin of the turn; image pixels per crop pixel */
} crop;

typedef struct blobbox { int u0, v0, u1, v1, frame; } blobbox;   /* clean_crop's components */

/* Otsu's threshold over hist (n samples): grey levels <= it are dark. */
static int otsu(const int *hist, int n)
{
    double sum = 0;
    for (int i = 0; i < 256; i++) sum += (double)i * hist[i];
    double w0 = 0, s0 = 0, best = -1;
    int t = 127;
    for (int i = 0; i < 255; i++) {
        w0 += hist[i];
        s0 += (double)i * hist[i];
        if (w0 == 0 || w0 == n) continue;
        double m0 = s0 / w0, m1 = (sum - s0) / (n - w0), b = w0 * (n - w0) * (m0 - m1) * (m0 - m1);
        if (b > best) { best = b; t = i; }
    }
    return t;
}

/* Black letters on white, and nothing else.  A line's crop also holds what
 * is round the letters: the sign's edges, the photo beyond it.  Tesseract
 * reads those as letters ("7HOTEL", "'ZOO") or loses confidence in the
 * whole line ("CHOCOLATE" at 0.02).  So the crop is thresholded at Otsu's
 * level of the letters' band, and every dark component (8-connected) that
 * reaches the frame just inside the white margin is cleared: letters stand
 * clear of it (the crop is half a letter height wider and a letter height
 * taller than they are), the surroundings run into it.  On train photos
 * (3 seeds of gen_signs.sh, 533 words) recall went from 93.6 % to 96.8 %,
 * with precision up too; stretching the contrast alone, or thresholding
 * alone, did not help.  Returns the number of letter-sized components
 * (half a letter height or taller) left. */
static int clean_crop(uint8_t *px, int w, int h)
{
    int hist[256] = {0}, n = 0;
    int v0 = h / 2 - LH * 3 / 4, v1 = h / 2 + LH * 3 / 4, u0 = PAD + LH / 3, u1 = w - PAD - LH / 3;
    if (v0 < PAD) v0 = PAD;
    if (v1 > h - PAD) v1 = h - PAD;
    for (int v = v0; v < v1; v++)
        for (int u = u0; u < u1; u++) { hist[px[v * w + u]]++; n++; }
    if (n < 16) return 1;
    int t = otsu(hist, n);
    /* Dark components, 8-connected, each with its box and whether it
     * reaches the frame. */
    size_t np = (size_t)w * (size_t)h;
    int *lab = xmalloc(np * sizeof *lab), *stack = xmalloc(np * sizeof *stack);
    for (size_t i = 0; i < np; i++) lab[i] = -1;
    int ncc = 0, capc = 32;
    blobbox *cc = xmalloc((size_t)capc * sizeof *cc);
    for (int v = PAD; v < h - PAD; v++)
        for (int u = PAD; u < w - PAD; u++) {
            if (lab[v * w + u] >= 0 || px[v * w + u] > t) continue;
            if (ncc == capc) { capc *= 2; cc = xrealloc(cc, (size_t)capc * sizeof *cc); }
            blobbox *k = &cc[ncc];
            *k = (blobbox){u, v, u, v, 0};
            int sp = 0;
            lab[v * w + u] = ncc;
            stack[sp++] = v * w + u;
            while (sp) {
                int i = stack[--sp], x = i % w, y = i / w;
                if (x < k->u0) k->u0 = x;
                if (x > k->u1) k->u1 = x;
                if (y < k->v0) k->v0 = y;
                if (y > k->v1) k->v1 = y;
                if (x == PAD || y == PAD || x == w - PAD - 1 || y == h - PAD - 1) k->frame = 1;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        int xx = x + dx, yy = y + dy;
                        if (xx < PAD || yy < PAD || xx >= w - PAD || yy >= h - PAD) continue;
                        int j = yy * w + xx;
                        if (lab[j] < 0 && px[j] <= t) { lab[j] = ncc; stack[sp++] = j; }
                    }
            }
            ncc++;
        }
    /* Cleared: what reaches the frame, and specks (under half a letter
     * tall) more than half a letter from any letter-sized component, which
     * Tesseract reads as quotes and commas glued to the word ("“Tennis"
     * at 0.00).  An i's dot or a comma next to letters stays. */
    for (int i = 0; i < ncc; i++) {
        if (cc[i].frame || cc[i].v1 - cc[i].v0 + 1 >= LH / 2) continue;
        int near = 0;
        for (int j = 0; j < ncc && !near; j++) {
            if (cc[j].frame || cc[j].v1 - cc[j].v0 + 1 < LH / 2) continue;
            int gu = cc[i].u0 > cc[j].u1 ? cc[i].u0 - cc[j].u1 : cc[j].u0 > cc[i].u1 ? cc[j].u0 - cc[i].u1 : 0;
            int gv = cc[i].v0 > cc[j].v1 ? cc[i].v0 - cc[j].v1 : cc[j].v0 > cc[i].v1 ? cc[j].v0 - cc[i].v1 : 0;
            near = gu <= LH / 2 && gv <= LH / 2;
        }
        if (!near) cc[i].frame = 1;
    }
    for (size_t i = 0; i < np; i++) px[i] = lab[i] >= 0 && !cc[lab[i]].frame ? 0 : 255;
    int letters = 0;
    for (int i = 0; i < ncc; i++) letters += !cc[i].frame && cc[i].v1 - cc[i].v0 + 1 >= LH / 2;
    free(cc);
    free(stack);
    free(lab);
    return letters;
}

static float luma_at(const img *im, float x, float y)
{
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    if (x > (float)im->w - 1.001f) x = (float)im->w - 1.001f;
    if (y > (float)im->h - 1.001f) y = (float)im->h - 1.001f;
    int x0 = (int)x, y0 = (int)y;
    float fx = x - (float)x0, fy = y - (float)y0;
    const uint8_t *p = im->px + ((size_t)y0 * (size_t)im->w + (size_t)x0) * 3;
    const uint8_t *q = p + (size_t)im->w * 3;
    float l00 = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
    float l01 = 0.299f * p[3] + 0.587f * p[4] + 0.114f * p[5];
    float l10 = 0.299f * q[0] + 0.587f * q[1] + 0.114f * q[2];
    float l11 = 0.299f * q[3] + 0.587f * q[4] + 0.114f * q[5];
    return (l00 * (1 - fx) + l01 * fx) * (1 - fy) + (l10 * (1 - fx) + l11 * fx) * fy;
}

/* Crop pixel (u, v) to image coordinates. */
static void crop_to_image(const crop *c, float u, float v, float *x, float *y)
{
    float du = (u - 0.5f * (float)c->w) * c->inv, dv = (v - 0.5f * (float)c->h) * c->inv;
    *x = c->cx + du * c->ca - dv * c->sa;
    *y = c->cy + du * c->sa + dv * c->ca;
}

/* turn: radians added to the line's own slope (0: level it). */
static int make_crop(const img *im, const text_line *l, float turn, crop *c)
{
    float a = atanf(l->slope) + turn;
    c->ca = cosf(a);
    c->sa = sinf(a);
    float f = (float)LH / l->h;
    if (f > 6) f = 6;
    c->inv = 1 / f;
    float bw = l->x1 - l->x0;
    /* Along the baseline the letters span about the box's width; across
     * it, a band round the letters' height: room for ascenders and
     * descenders, little of the photo's clutter above and below. */
    c->cx = 0.5f * (l->x0 + l->x1);
    c->cy = l->yb - 0.5f * l->h;
    float along = bw / fmaxf(c->ca, 0.5f);
    c->w = (int)((along + 0.6f * l->h) * f) + 2 * PAD;
    c->h = (int)(2.0f * l->h * f) + 2 * PAD;
    if (c->w < 8 || c->h < 8 || c->w > 6000 || c->h > 400) return -1;   /* a line across a panorama: not read */
    c->px = xmalloc((size_t)c->w * (size_t)c->h);
    for (int v = 0; v < c->h; v++)
        for (int u = 0; u < c->w; u++) {
            float x, y;
            /* A white border: Tesseract reads letters that touch the edge
             * of its image badly (confidence 0.56 against 0.92 with it). */
            if (u < PAD || v < PAD || u >= c->w - PAD || v >= c->h - PAD) { c->px[v * c->w + u] = 255; continue; }
            crop_to_image(c, (float)u + 0.5f, (float)v + 0.5f, &x, &y);
            float g = luma_at(im, x - 0.5f, y - 0.5f);
            c->px[v * c->w + u] = (uint8_t)(l->dark ? g : 255 - g);
        }
    /* Nothing letter-sized left: the "line" was the photo round it, and
     * Tesseract would only turn the blank into junk, at a few ms.  On
     * sign-free train photos this saved about a third of the reading, with
     * not one sign word lost (a word whose letters ran together is still
     * one letter-sized component). */
    if (clean_crop(c->px, c->w, c->h) < 1) {
        free(c->px);
        return -1;
    }
    return 0;
}

static void add_word(ocr_word **out, int *n, int *cap, const char *text, float conf,
                     float x0, float y0, float x1, float y1)
{
    if (*n == *cap) { *cap = *cap ? *cap * 2 : 16; *out = xrealloc(*out, (size_t)*cap * sizeof **out); }
    ocr_word *w = &(*out)[(*n)++];
    memset(w, 0, sizeof *w);
    snprintf(w->text, sizeof w->text, "%s", text);
    w->conf = conf;
    w->x0 = x0; w->y0 = y0; w->x1 = x1; w->y1 = y1;
}

/* Three letters, nothing else ("re", "ay": texture, even in the dictionary). */
static int short_word(const char *w)
{
    size_t n = strlen(w);
    if (n != 3) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalpha((unsigned char)w[i])) return 0;
    return 1;
}

/* Whether a word read from a found line is kept.  The line was already
 * judged text-like (textlines.c), so Tesseract's confidence can count for
 * less than on a whole photo, where texture turns into words: on lines of
 * sign-free train photos, false words are of one to three letters (up to
 * 0.84), while four or more letters on a sign often come at 0.4-0.6 (a
 * serif face, blur, a turn).  Short words keep the strict rules
 * (ocr_word_plausible), but a short lower-case dictionary word ("pub",
 * "ice") passes at 0.8. */
static int line_word_ok(const char *w, float conf, int dict)
{
    int alnum = 0;
    for (const char *q = w; *q; q++) alnum += isalnum((unsigned char)*q) != 0;
    if (alnum >= 4) return conf >= LONG_WORD_CONF && ocr_word_plausible(w, 0.9f);
    if (conf < (dict ? 0.6f : 0.7f)) return 0;
    return ocr_word_plausible(w, conf) || (dict && conf >= 0.8f && short_word(w));
}

/* A word as Tesseract gave it, in crop pixels, before filtering. */
typedef struct piece { char text[64]; float conf; int dict, l, t, r, b; } piece;

/* Reads one line; appends its words (boxes normalised to im). */
static int read_line(ocr_engine *o, const img *im, const text_line *l, float turn,
                     ocr_word **out, int *n, int *cap, ierr *e)
{
    crop c;
    if (make_crop(im, l, turn, &c) != 0) return 0;
    const tess_api *T = o->T;
    T->SetPageSegMode(o->api, PSM_SINGLE_LINE);
    T->SetImage(o->api, c.px, c.w, c.h, 1, c.w);
    T->SetSourceResolution(o->api, 300);   /* keeps Tesseract from guessing, and saying so */
    if (T->Recognize(o->api, NULL) != 0) {
        T->Clear(o->api);
        free(c.px);
        err_set(e, "tesseract: recognition failed");
        return -1;
    }
    piece pc[32];
    int np = 0;
    TessResultIterator *it = T->GetIterator(o->api);
    if (it) {
        do {
            char *t = T->ResultText(it, RIL_WORD);
            if (!t) continue;
            piece *p = &pc[np];
            snprintf(p->text, sizeof p->text, "%s", t);
            T->DeleteText(t);
            p->conf = T->ResultConfidence(it, RIL_WORD) / 100.0f;
            p->dict = T->ResultWordIsFromDictionary(it);
            if (T->PageBoundingBox(T->ResultPageIterator(it), RIL_WORD, &p->l, &p->t, &p->r, &p->b)) np++;
        } while (np < 32 && T->ResultNext(it, RIL_WORD));
        T->ResultDelete(it);
    }
    T->Clear(o->api);
    /* Pieces of one word: Tesseract splits a widely spaced word where a
     * letter gap looks like a space ("TIC" "KETS"); a real space is about
     * half a letter height. */
    int k = 0;
    for (int i = 0; i < np; i++) {
        if (k > 0) {
            piece *q = &pc[k - 1];
            size_t lq = strlen(q->text), lp = strlen(pc[i].text);
            int gap = pc[i].l - q->r;
            /* two dictionary words side by side ("TEA" "FLOWERS") stay two */
            if (gap >= -1 && gap < LH / 4 && !(q->dict && pc[i].dict) && lq + lp < sizeof q->text && lq && lp &&
                isalnum((unsigned char)q->text[lq - 1]) && isalnum((unsigned char)pc[i].text[0])) {
                memcpy(q->text + lq, pc[i].text, lp + 1);
                q->conf = fminf(q->conf, pc[i].conf);
                q->dict = 0;
                q->r = pc[i].r;
                if (pc[i].t < q->t) q->t = pc[i].t;
                if (pc[i].b > q->b) q->b = pc[i].b;
                continue;
            }
        }
        pc[k++] = pc[i];
    }
    for (int i = 0; i < k; i++) {
        piece *p = &pc[i];
        trim_word(p->text);
        if (!line_word_ok(p->text, p->conf, p->dict)) continue;
        float xs[4], ys[4];
        crop_to_image(&c, (float)p->l, (float)p->t, &xs[0], &ys[0]);
        crop_to_image(&c, (float)p->r, (float)p->t, &xs[1], &ys[1]);
        crop_to_image(&c, (float)p->l, (float)p->b, &xs[2], &ys[2]);
        crop_to_image(&c, (float)p->r, (float)p->b, &xs[3], &ys[3]);
        float x0 = xs[0], x1 = xs[0], y0 = ys[0], y1 = ys[0];
        for (int q = 1; q < 4; q++) {
            x0 = fminf(x0, xs[q]); x1 = fmaxf(x1, xs[q]);
            y0 = fminf(y0, ys[q]); y1 = fmaxf(y1, ys[q]);
        }
        float W = (float)im->w, H = (float)im->h;
        add_word(out, n, cap, p->text, p->conf, fmaxf(x0 / W, 0), fmaxf(y0 / H, 0), fminf(x1 / W, 1), fminf(y1 / H, 1));
    }
    free(c.px);
    return 0;
}

enum { MAXLINES = 48 };

/* Reads the lines found in im. */
static int read_lines(ocr_engine *o, const img *im, const text_line *ls, int nl,
                      ocr_word **out, int *n, int *cap, ierr *e)
{
    for (int i = 0; i < nl; i++)
        if (read_line(o, im, &ls[i], 0, out, n, cap, e) != 0) return -1;
    return 0;
}

/* Words read in the image turned by EXIF-style orientation `turn` (6: a
 * quarter clockwise, 8: anticlockwise), boxes mapped back. */
static int read_turned(ocr_engine *o, const img *im, int turn, ocr_word **out, int *n, int *cap, ierr *e)
{
    img t;
    if (img_rotate(im, turn, &t) != 0) return 0;   /* no memory for a copy: not read turned */
    text_line ls[MAXLINES];
    int nl = ocr_find_lines(o->scratch, &t, ls, MAXLINES, NULL);
    int first = *n, rc = read_lines(o, &t, ls, nl, out, n, cap, e);
    img_free(&t);
    for (int i = first; i < *n; i++) {
        ocr_word *w = &(*out)[i];
        float u0 = w->x0, v0 = w->y0, u1 = w->x1, v1 = w->y1;
        if (turn == 6) { w->x0 = v0; w->x1 = v1; w->y0 = 1 - u1; w->y1 = 1 - u0; }
        else { w->x0 = 1 - v1; w->x1 = 1 - v0; w->y0 = u0; w->y1 = u1; }
    }
    return rc;
}

/* The same word read twice (two overlapping lines): the surer reading stays. */
static int drop_repeats(ocr_word *w, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        int dup = 0;
        for (int j = 0; j < k && !dup; j++) {
            float ix = fminf(w[i].x1, w[j].x1) - fmaxf(w[i].x0, w[j].x0);
            float iy = fminf(w[i].y1, w[j].y1) - fmaxf(w[i].y0, w[j].y0);
            if (ix <= 0 || iy <= 0 || strcasecmp(w[i].text, w[j].text)) continue;
            dup = 1;
            if (w[i].conf > w[j].conf) w[j] = w[i];
        }
        if (!dup) w[k++] = w[i];
    }
    return k;
}

/* Lines top to bottom, words left to right within one: words whose boxes
 * share most of their height are on one line. */
static int before(const ocr_word *a, const ocr_word *b)
{
    float ov = fminf(a->y1, b->y1) - fmaxf(a->y0, b->y0);
    if (ov > 0.5f * fminf(a->y1 - a->y0, b->y1 - b->y0)) return a->x0 < b->x0;
    return a->y0 + a->y1 < b->y0 + b->y1;
}

static void reading_order(ocr_word *w, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && before(&w[j], &w[j - 1]); j--) {
            ocr_word t = w[j];
            w[j] = w[j - 1];
            w[j - 1] = t;
        }
}

int ocr_run(ocr_engine *o, const img *im, ocr_word **words, ierr *e)
{
    *words = NULL;
    text_line ls[MAXLINES];
    int layout = 0;
    int nl = ocr_find_lines(o->scratch, im, ls, MAXLINES, &layout);
    int n = 0, cap = 0, rc = 0;
    ocr_word *out = NULL;
    if ((layout & OCR_COLUMNS) && !(layout & OCR_ROWS)) {
        /* Letters stand in columns, not rows: text turned one way or the
         * other (a banner, a spine).  Such photos are rare; the turned copy
         * is searched for lines again.  What stray upright "lines" there
         * are get read only when neither turn gave words. */
        rc = read_turned(o, im, 8, &out, &n, &cap, e);
        int n8 = n;
        if (!rc) rc = read_turned(o, im, 6, &out, &n, &cap, e);
        /* Read the wrong way up, letters still come out as something
         * ("COFFEE" as "344409"), but less surely: the surer turn wins. */
        if (!rc && n8 > 0 && n > n8) {
            float s8 = 0, s6 = 0;
            for (int i = 0; i < n; i++) *(i < n8 ? &s8 : &s6) += out[i].conf * (float)strlen(out[i].text);
            if (s6 > s8) memmove(out, out + n8, (size_t)(n - n8) * sizeof *out);
            n = s6 > s8 ? n - n8 : n8;
        }
    }
    if (!rc && n == 0 && nl > 0) rc = read_lines(o, im, ls, nl, &out, &n, &cap, e);
    if (rc) { free(out); return -1; }
    n = drop_repeats(out, n);
    reading_order(out, n);
    if (n == 0) { free(out); out = NULL; }
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
    /* "+regions": words come from text lines found first, not from the
     * whole photo; "2": each line's crop cleaned before it is read (more
     * sign words, fewer stray ones).  Catalogues described before either
     * read their text again. */
    snprintf(st->model, sizeof st->model, "%s+regions2", o->name);
    return 0;
}

int stage_ocr_run(dctx *c, stage_state *st, ierr *e)
{
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
