/* textlines.c — where text is in a photo, before anything is read.
 *
 * Text is a row of dark-on-light (or light-on-dark) blobs of one height,
 * side by side, their bottoms on one line.  So: threshold against the local
 * mean, label connected blobs, keep the letter-shaped ones, and chain them
 * into rows.  Foliage and gravel make blobs too, but rarely of one height on
 * one baseline.  Big letters (a sign a third of the photo high) are wider
 * than the local window and break up, so the same runs again on the image
 * at half the size.  A row must also stand on a two-toned ground (letters
 * on a sign), which leaves and crowds rarely do.  About 0.7 ms CPU a
 * 224-px photo, 1.2 ms a 700-px one (scanned at AW wide); Tesseract then
 * reads only the rows found, each as one line (ocr.c).  Own code rather than Leptonica's
 * thresholding and connected components: the chaining is ours either way,
 * and these few hundred lines need no dlopen'd library to run or test.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "describe/internal.h"

/* AW: the widest working image.  At 512 a sign-free 480-800 px photo cost
 * 2.5 ms to scan (over the 3 ms budget with the reading of stray lines);
 * at 384 1.5 ms, and recall on train photos did not drop (518 of 533
 * words against 516: big letters break up less); at 320, 512.  Letters
 * 7 % of a photo's height are still 27 working pixels tall at 384. */
enum { AW = 384, MAXBLOBS = 4096, MAXROW = 64 };

typedef struct blob { int x0, y0, x1, y1, n; } blob;

/* A horizontal run of on pixels, and (during labelling) its parent run. */
typedef struct run { int x0, x1, y, p; } run;

static int run_root(run *r, int i)
{
    while (r[i].p != i) { r[i].p = r[r[i].p].p; i = r[i].p; }
    return i;
}

/* Connected blobs of m (m[i] = 1 where the pixel is on; 4-connected), up
 * to max.  Works on runs rather than pixels: a photo's W×H mask holds a
 * few runs per row, so union-find touches a hundredth of the entries.
 * *runs / *cap: scratch, grown as needed.  A parent run always comes
 * before its child, so one forward pass finds every root. */
static int find_blobs(const uint8_t *m, int W, int H, run **runs, size_t *cap, blob *out, int max)
{
    size_t nr = 0;
    size_t ps = 0, pe = 0;   /* the previous row's runs */
    for (int y = 0; y < H; y++) {
        const uint8_t *row = m + (size_t)y * (size_t)W;
        size_t cs = nr;
        for (int x = 0; x < W;) {
            if (!row[x]) { x++; continue; }
            int x0 = x;
            while (x < W && row[x]) x++;
            if (nr == *cap) {
                *cap = *cap ? *cap * 2 : 4096;
                *runs = xrealloc(*runs, *cap * sizeof **runs);
            }
            run *r = *runs;
            r[nr] = (run){x0, x - 1, y, (int)nr};
            /* join the runs above that touch this one */
            while (ps < pe && r[ps].x1 < x0) ps++;
            for (size_t k = ps; k < pe && r[k].x0 <= x - 1; k++) {
                int a = run_root(r, (int)k), b = run_root(r, (int)nr);
                if (a != b) r[a > b ? a : b].p = a > b ? b : a;
            }
            nr++;
        }
        ps = cs;
        pe = nr;
    }
    run *r = *runs;
    int nb = 0;
    for (size_t i = 0; i < nr; i++) {
        int root = run_root(r, (int)i), id;
        if (root == (int)i) {
            /* A root keeps p = itself; its x0 goes to out[id] and it holds
             * the blob's number instead (-2 - id), or -1: past max. */
            if (nb == max) { r[i].x0 = -1; continue; }
            id = nb++;
            out[id] = (blob){r[i].x0, r[i].y, r[i].x1, r[i].y, 0};
            r[i].x0 = -2 - id;
        } else {
            if (r[root].x0 == -1) continue;
            id = -2 - r[root].x0;
        }
        blob *bb = &out[id];
        int x0 = root == (int)i ? bb->x0 : r[i].x0;   /* (a root's own x0 is in out[id]) */
        if (x0 < bb->x0) bb->x0 = x0;
        if (r[i].x1 > bb->x1) bb->x1 = r[i].x1;
        if (r[i].y > bb->y1) bb->y1 = r[i].y;   /* runs arrive in row order: y0 is the first */
        bb->n += r[i].x1 - x0 + 1;
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
        /* solid only when thin: "I", "l", "1" */
        if (h < 7 || h > H / 3 || w > 2 * h || w * 8 < h || fill < 0.12f || (fill > 0.85f && w * 3 > h)) continue;
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

/* The row that starts at blob i of b (sorted by x0): each next blob side
 * by side with the last one (gap under a letter height) and standing on
 * the same line as it (against the last one, so a tilted line still
 * chains).  Letters of one height must share their bottoms; a lower-case
 * word mixes heights ("pub": descender, x-height, ascender), so blobs up to
 * 1.7 times taller or shorter chain too when tops or bottoms align (not
 * when `strict`: the row and column test of ocr_text_layout, where
 * mixed heights would let leaves pass as text).  Skips
 * blobs marked in `used` (may be NULL).  Writes the members' indices to
 * idx (up to MAXROW) and returns their count. */
static int chain(const blob *b, int n, int i, const uint8_t *used, int strict, int *idx)
{
    int h0 = b[i].y1 - b[i].y0 + 1, len = 1, last = i;
    idx[0] = i;
    for (int j = i + 1; j < n && len < MAXROW; j++) {
        if (used && used[j]) continue;
        int hj = b[j].y1 - b[j].y0 + 1;
        int gap = b[j].x0 - b[last].x1;
        if (gap > h0) {
            if (gap > 2 * h0) break;   /* sorted: the rest are farther */
            continue;
        }
        if (gap < 0) continue;         /* overlapping: not side by side */
        int bottoms = abs(b[j].y1 - b[last].y1) * 5 <= h0, tops = abs(b[j].y0 - b[last].y0) * 5 <= h0;
        if (hj * 4 >= h0 * 3 && hj * 3 <= h0 * 4) {
            if (!bottoms) continue;
        } else if (!strict && hj * 10 >= h0 * 6 && hj * 6 <= h0 * 10) {
            if (!bottoms && !tops) continue;
        } else continue;
        idx[len++] = j;
        last = j;
    }
    return len;
}

/* The longest row among b[0..n) (sorted here), capped at 8. */
static int longest_row(blob *b, int n)
{
    qsort(b, (size_t)n, sizeof *b, by_x0);   /* foliage leaves hundreds of blobs */
    int best = 0, idx[MAXROW];
    for (int i = 0; i < n && best < 8; i++) {
        int len = chain(b, n, i, NULL, 1, idx);
        if (len > best) best = len;
    }
    return best;
}

/* ---- the working images -------------------------------------------------- */

/* Buffers for the working images, kept from one photo to the next: fresh
 * megabytes for every photo cost more in page faults than the scan itself
 * (3 of 9 CPU-seconds over 500 photos were the kernel's). */
struct text_scratch {
    size_t cap;              /* pixels */
    uint8_t *g, *dark, *light;
    int *xa, *xb;
    run *runs;               /* find_blobs' */
    size_t nruns;
    uint32_t *ii;
    blob *bl, *tb;
};

text_scratch *text_scratch_new(void)
{
    text_scratch *t = xcalloc(1, sizeof *t);
    t->bl = xmalloc(MAXBLOBS * sizeof *t->bl);
    t->tb = xmalloc(MAXBLOBS * sizeof *t->tb);
    t->xa = xmalloc((AW + 1) * sizeof *t->xa);
    t->xb = xmalloc((AW + 1) * sizeof *t->xb);
    return t;
}

void text_scratch_free(text_scratch *t)
{
    if (!t) return;
    free(t->g); free(t->dark); free(t->light); free(t->ii); free(t->runs);
    free(t->xa); free(t->xb); free(t->bl); free(t->tb);
    free(t);
}

typedef struct scan {
    int W, H;
    float sx, sy;            /* working pixel -> image pixel */
    uint8_t *g, *dark, *light;
    blob *bl, *tb;
    text_scratch *t;
} scan;

/* Luma of im at W×H, each working pixel the mean of up to 2×2 samples of
 * the image pixels it covers (nearest sampling would break thin strokes
 * apart). */
static void scan_gray(scan *s, const img *im)
{
    int W = s->W, H = s->H, *xa = s->t->xa, *xs = s->t->xb;
    for (int x = 0; x < W; x++) {
        int a = (int)((long)x * im->w / W), b = (int)((long)(x + 1) * im->w / W);
        if (b <= a) b = a + 1;
        xa[x] = a;
        xs[x] = b - a > 1 ? (b - a) / 2 : 0;   /* the second sample's offset, 0: one sample */
    }
    for (int y = 0; y < H; y++) {
        int ya = (int)((long)y * im->h / H), yb = (int)((long)(y + 1) * im->h / H);
        int ys = yb - ya > 1 ? (yb - ya) / 2 : 0;
        const uint8_t *r0 = im->px + (size_t)ya * (size_t)im->w * 3, *r1 = r0 + (size_t)ys * (size_t)im->w * 3;
        for (int x = 0; x < W; x++) {
            const uint8_t *p = r0 + (size_t)xa[x] * 3, *q = r1 + (size_t)xa[x] * 3;
            int o = xs[x] * 3;
            int sum = 77 * (p[0] + p[o] + q[0] + q[o]) + 150 * (p[1] + p[o + 1] + q[1] + q[o + 1]) +
                      29 * (p[2] + p[o + 2] + q[2] + q[o + 2]);
            s->g[y * W + x] = (uint8_t)(sum >> 10);
        }
    }
}

/* One pixel of scan_threshold, its window columns x0..x1 and `rows` rows
 * tall: g + K < sum / area, g - K > sum / area, without a division (for
 * g <= K the second product wraps, and g > K decides). */
static inline void threshold_px(const uint32_t *top, const uint32_t *bot, const uint8_t *g, uint8_t *dark,
                                uint8_t *light, int x, int x0, int x1, int rows, int K)
{
    uint32_t sum = bot[x1] - top[x1] - bot[x0] + top[x0], area = (uint32_t)((x1 - x0) * rows), gx = g[x];
    dark[x] = (gx + (uint32_t)K) * area < sum;
    light[x] = (gx > (uint32_t)K) & ((gx - (uint32_t)K) * area > sum);
}

/* dark/light: pixels K below/above the mean of the (2R+1)² window round
 * them (an integral image), R about the size of a large letter. */
static void scan_threshold(scan *s)
{
    int W = s->W, H = s->H;
    uint32_t *ii = s->t->ii;
    for (int x = 0; x <= W; x++) ii[x] = 0;
    for (int y = 1; y <= H; y++) {
        uint32_t run = 0;
        ii[(size_t)y * (W + 1)] = 0;
        for (int x = 1; x <= W; x++) {
            run += s->g[(y - 1) * W + x - 1];
            ii[(size_t)y * (W + 1) + x] = ii[(size_t)(y - 1) * (W + 1) + x] + run;
        }
    }
    const int R = 15, K = 25;
    size_t S = (size_t)W + 1;
    /* The window is cut short only within R of the left and right edges;
     * between them (a..b) it is 2R+1 wide, and that loop, free of clamps,
     * is vectorised: half the instructions of the scan (callgrind). */
    int a = R < W ? R : W, b = W - R > a ? W - R : a;
    for (int y = 0; y < H; y++) {
        int y0 = y - R < 0 ? 0 : y - R, y1 = y + R + 1 > H ? H : y + R + 1;
        const uint32_t *top = ii + (size_t)y0 * S, *bot = ii + (size_t)y1 * S;
        const uint8_t *g = s->g + (size_t)y * (size_t)W;
        uint8_t *dark = s->dark + (size_t)y * (size_t)W, *light = s->light + (size_t)y * (size_t)W;
        int rows = y1 - y0;
        for (int x = 0; x < a; x++) threshold_px(top, bot, g, dark, light, x, 0, x + R + 1 > W ? W : x + R + 1, rows, K);
        for (int x = a; x < b; x++) threshold_px(top, bot, g, dark, light, x, x - R, x + R + 1, rows, K);
        for (int x = b; x < W; x++) threshold_px(top, bot, g, dark, light, x, x - R < 0 ? 0 : x - R, W, rows, K);
    }
}

static void scan_open(scan *s, text_scratch *t, const img *im, int W)
{
    s->W = W;
    s->H = (int)((long)im->h * W / im->w);
    if (s->H < 1) s->H = 1;
    s->sx = (float)im->w / (float)s->W;
    s->sy = (float)im->h / (float)s->H;
    size_t n = (size_t)s->W * (size_t)s->H;
    if (n > t->cap) {
        free(t->g); free(t->dark); free(t->light); free(t->ii);
        t->g = xmalloc(n);
        t->dark = xmalloc(n);
        t->light = xmalloc(n);
        /* (W+1)(H+1) <= n + W + H + 1 <= 2n + 1 for W, H >= 1 */
        t->ii = xmalloc((2 * n + 1) * sizeof *t->ii);
        t->cap = n;
    }
    s->t = t;
    s->g = t->g; s->dark = t->dark; s->light = t->light; s->bl = t->bl; s->tb = t->tb;
    scan_gray(s, im);
    scan_threshold(s);
}

/* The scan at half the size, its luma from the 2×2 means of the current
 * one's (in place: each output pixel is written after its inputs are
 * read), cheaper than going back to the image. */
static void scan_halve(scan *s)
{
    int W = s->W / 2, H = s->H / 2;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const uint8_t *p = s->g + (size_t)(2 * y) * (size_t)s->W + 2 * x, *q = p + s->W;
            s->g[y * W + x] = (uint8_t)((p[0] + p[1] + q[0] + q[1] + 2) >> 2);
        }
    s->sx *= (float)s->W / (float)W;
    s->sy *= (float)s->H / (float)H;
    s->W = W;
    s->H = H;
    scan_threshold(s);
}

/* ---- the cheap test ------------------------------------------------------ */

int ocr_text_likely(const img *im) { return ocr_text_layout(im) != 0; }

int ocr_text_layout(const img *im)
{
    if (!im || im->w < 16 || im->h < 16) return 0;
    int W = im->w < AW ? im->w : AW;
    if ((long)im->h * W / im->w < 16) return 0;
    scan s;
    text_scratch *t = text_scratch_new();
    scan_open(&s, t, im, W);
    int row = 0, col = 0;
    for (int pol = 0; pol < 2; pol++) {
        int nb = find_blobs(pol ? s.light : s.dark, s.W, s.H, &s.t->runs, &s.t->nruns, s.bl, MAXBLOBS);
        /* Columns are rows of the turned image: same test, either turn. */
        for (int cw = 0; cw < 2; cw++) {
            turn_blobs(s.bl, nb, s.W, s.H, cw, s.tb);
            int r = longest_row(s.tb, keep_letters(s.tb, nb, s.W));
            if (r > col) col = r;
        }
        int r = longest_row(s.bl, keep_letters(s.bl, nb, s.H));
        if (r > row) row = r;
    }
    text_scratch_free(t);
    /* Four letters in a row: a short word ("STOP") passes; on Flickr8k
     * photos about 6% pass, and most of those do show text.  A column
     * must be longer, as leaves and rock make columns of blobs too: at six,
     * 0.5% of Flickr8k dev photos pass as columns only (none with turned
     * text, but each costs two to four readings), at five 1.2%. */
    return (row >= 4 ? OCR_ROWS : 0) | (col >= 6 ? OCR_COLUMNS : 0);
}

/* ---- text lines ---------------------------------------------------------- */

/* Grows the line l (baseline y = base + slope·x, letters h tall, box
 * *x0..*x1 × *y0..*y1, working pixels) by the blobs of all[0..n) just
 * beyond either end that stand on the same band: the capitals, ascenders
 * and descenders that are not of the letters' height, letters run together
 * by blur or a bold face, a leading "i" of a short word. */
static void grow_line(const blob *all, int n, double base, double slope, double h,
                      int *x0, int *y0, int *x1, int *y1)
{
    for (int grew = 1; grew;) {
        grew = 0;
        for (int i = 0; i < n; i++) {
            const blob *q = &all[i];
            if (q->x1 < *x0 - h || q->x0 > *x1 + h) continue;       /* not next to it */
            if (q->x0 >= *x0 && q->x1 <= *x1) continue;               /* already inside */
            int qh = q->y1 - q->y0 + 1, qw = q->x1 - q->x0 + 1;
            if (qh < 0.4 * h || qh > 1.7 * h || qw > 5 * h) continue;
            double cx = 0.5 * (q->x0 + q->x1), bot = base + slope * cx, top = bot - h;
            double ov = fmin(q->y1, bot) - fmax(q->y0, top);
            if (ov < 0.6 * h) continue;                               /* off the band */
            /* the gap to the line's nearer end, under a letter height */
            if ((q->x1 < *x0 && *x0 - q->x1 > 0.8 * h) || (q->x0 > *x1 && q->x0 - *x1 > 0.8 * h)) continue;
            if (q->x0 < *x0) *x0 = q->x0;
            if (q->x1 > *x1) *x1 = q->x1;
            if (q->y0 < *y0) *y0 = q->y0;
            if (q->y1 > *y1) *y1 = q->y1;
            grew = 1;
        }
    }
}

/* How two-toned the box x0..x1 × y0..y1 of the working image is: Otsu's
 * between-class variance over the total, 0..1.  Letters on a sign's ground
 * are near 1; a row of leaves or pebbles, with every shade between, lower.
 * (Measured over the band along a tilted baseline instead, the two overlap
 * more: the box holds more of a sign's plain ground.) */
static float two_tone(const scan *s, int x0, int y0, int x1, int y1)
{
    int hist[256] = {0}, n = 0;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) { hist[s->g[y * s->W + x]]++; n++; }
    if (n < 16) return 0;
    double sum = 0, sum2 = 0;
    for (int i = 0; i < 256; i++) { sum += (double)i * hist[i]; sum2 += (double)i * i * hist[i]; }
    double mean = sum / n, var = sum2 / n - mean * mean;
    if (var < 1) return 0;
    double w0 = 0, s0 = 0, best = 0;
    for (int t = 0; t < 255; t++) {
        w0 += hist[t];
        s0 += (double)t * hist[t];
        if (w0 == 0 || w0 == n) continue;
        double m0 = s0 / w0, m1 = (sum - s0) / (n - w0);
        double b = w0 * (n - w0) * (m0 - m1) * (m0 - m1) / ((double)n * n);
        if (b > best) best = b;
    }
    return (float)(best / var);
}

/* The rows of letters b[0..n) of one polarity (all[0..nall) its blobs of
 * any shape), as lines in image pixels. */
static int rows_to_lines(const scan *s, blob *b, int n, const blob *all, int nall, int dark,
                         text_line *out, int nout, int max)
{
    qsort(b, (size_t)n, sizeof *b, by_x0);
    uint8_t *used = xcalloc((size_t)n + 1, 1);
    int idx[MAXROW];
    for (int i = 0; i < n && nout < max; i++) {
        if (used[i]) continue;
        int len = chain(b, n, i, used, 0, idx);
        /* Two letters make a line only when they are twins: one height,
         * tops and bottoms level, 12 working pixels or more (and, below,
         * on a clearly two-toned ground) — "24", "66", "OK" on a sign.  On
         * train photos this found 5 more of 533 sign words, with no stray
         * word more on 450 sign-free photos or 1000 Flickr8k photos. */
        int pair = 0;
        if (len == 2) {
            const blob *p = &b[idx[0]], *q = &b[idx[1]];
            int hp = p->y1 - p->y0 + 1, hq = q->y1 - q->y0 + 1;
            pair = hp >= 12 && abs(hp - hq) * 10 <= hp && abs(p->y1 - q->y1) * 10 <= hp &&
                   abs(p->y0 - q->y0) * 10 <= hp;
        }
        if (len < OCR_MIN_LETTERS && !pair) continue;
        /* Baseline by least squares through the bottoms of the letters of
         * the median height (not descenders), which also give the height. */
        int hs[MAXROW];
        for (int k = 0; k < len; k++) hs[k] = b[idx[k]].y1 - b[idx[k]].y0 + 1;
        for (int k = 1; k < len; k++)
            for (int m = k; m > 0 && hs[m - 1] > hs[m]; m--) { int t = hs[m]; hs[m] = hs[m - 1]; hs[m - 1] = t; }
        int hm = hs[len / 2];
        double sx = 0, sy = 0, sxx = 0, sxy = 0, hsum = 0;
        int core = 0;
        int x0 = b[idx[0]].x0, x1 = b[idx[0]].x1, y0 = b[idx[0]].y0, y1 = b[idx[0]].y1;
        for (int k = 0; k < len; k++) {
            const blob *q = &b[idx[k]];
            int qh = q->y1 - q->y0 + 1;
            if (q->x0 < x0) x0 = q->x0;
            if (q->x1 > x1) x1 = q->x1;
            if (q->y0 < y0) y0 = q->y0;
            if (q->y1 > y1) y1 = q->y1;
            used[idx[k]] = 1;
            if (qh * 5 < hm * 4 || qh * 4 > hm * 5) continue;
            double cx = 0.5 * (q->x0 + q->x1);
            sx += cx; sy += q->y1; sxx += cx * cx; sxy += cx * q->y1;
            hsum += qh;
            core++;
        }
        double den = core * sxx - sx * sx;
        double slope = core >= 2 && den > 1e-9 ? (core * sxy - sx * sy) / den : 0;
        if (slope > 0.25) slope = 0.25;
        if (slope < -0.25) slope = -0.25;
        double base = (sy - slope * sx) / core, h = hsum / core;
        grow_line(all, nall, base, slope, h, &x0, &y0, &x1, &y1);
        float tone = two_tone(s, x0, y0, x1, y1);
        if (tone < (pair ? OCR_PAIR_TONE : OCR_MIN_TONE)) continue;
        text_line *l = &out[nout++];
        l->x0 = (float)x0 * s->sx;
        l->x1 = (float)(x1 + 1) * s->sx;
        l->y0 = (float)y0 * s->sy;
        l->y1 = (float)(y1 + 1) * s->sy;
        l->slope = (float)slope * s->sy / s->sx;
        l->h = (float)h * s->sy;
        l->yb = (float)((base + slope * 0.5 * (x0 + x1 + 1)) * s->sy);
        l->n = len;
        l->dark = dark;
        l->tone = tone;
    }
    free(used);
    return nout;
}

static float overlap_of_smaller(const text_line *a, const text_line *b)
{
    float w = fminf(a->x1, b->x1) - fmaxf(a->x0, b->x0), h = fminf(a->y1, b->y1) - fmaxf(a->y0, b->y0);
    if (w <= 0 || h <= 0) return 0;
    float aa = (a->x1 - a->x0) * (a->y1 - a->y0), ab = (b->x1 - b->x0) * (b->y1 - b->y0);
    return w * h / fminf(aa, ab);
}

int ocr_find_lines(text_scratch *t, const img *im, text_line *out, int max, int *layout)
{
    if (layout) *layout = 0;
    if (!im || im->w < 16 || im->h < 16 || max <= 0) return 0;
    int W = im->w < AW ? im->w : AW;
    if ((long)im->h * W / im->w < 16) return 0;
    text_scratch *own = t ? NULL : (t = text_scratch_new());
    int n = 0, row = 0, col = 0;
    /* Two scales: the second for letters too big for the first's window. */
    scan s;
    for (int level = 0; level < 2; level++) {
        if (level == 0) scan_open(&s, t, im, W);
        else if (s.H / 2 >= 64) scan_halve(&s);
        else break;
        for (int pol = 0; pol < 2; pol++) {
            int nb = find_blobs(pol ? s.light : s.dark, s.W, s.H, &s.t->runs, &s.t->nruns, s.bl, MAXBLOBS);
            if (level == 0 && layout) {
                for (int cw = 0; cw < 2; cw++) {
                    turn_blobs(s.bl, nb, s.W, s.H, cw, s.tb);
                    int r = longest_row(s.tb, keep_letters(s.tb, nb, s.W));
                    if (r > col) col = r;
                }
            }
            memcpy(s.tb, s.bl, (size_t)nb * sizeof *s.tb);
            int k = keep_letters(s.tb, nb, s.H);
            int before = n;
            n = rows_to_lines(&s, s.tb, k, s.bl, nb, !pol, out, n, max);
            for (int i = before; i < n; i++)
                if (out[i].n > row) row = out[i].n;
        }
    }
    text_scratch_free(own);
    /* One text found at both scales, or as a word and as its line: keep
     * the wider reading (it holds the other), or the one with more letters. */
    int k = 0;
    for (int i = 0; i < n; i++) {
        int keep = 1;
        for (int j = 0; j < n && keep; j++) {
            /* Opposite polarities both stay: the gaps between dark letters
             * can chain as light "letters" too, and only reading tells. */
            if (j == i || out[j].dark != out[i].dark || overlap_of_smaller(&out[i], &out[j]) < 0.6f) continue;
            float wi = out[i].x1 - out[i].x0, wj = out[j].x1 - out[j].x0;
            if (wj > wi * 1.1f || (wj >= wi / 1.1f && (out[j].n > out[i].n || (out[j].n == out[i].n && j < i))))
                keep = 0;
        }
        if (keep) out[k++] = out[i];
    }
    if (layout) *layout = (row >= 4 ? OCR_ROWS : 0) | (col >= 6 ? OCR_COLUMNS : 0);
    return k;
}
