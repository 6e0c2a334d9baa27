/* textlines.c — where text is in a photo, before anything is read.
 *
 * Text is a row of dark-on-light (or light-on-dark) blobs of one height,
 * side by side, their bottoms on one line.  So: threshold against the local
 * mean, label connected blobs, keep the letter-shaped ones, and chain them
 * into rows.  Foliage and gravel make blobs too, but rarely of one height on
 * one baseline.  Big letters (a sign a third of the photo high) are wider
 * than the local window and break up, so the same runs again on the image
 * at half the size.  A millisecond or two per photo; Tesseract then reads
 * only the rows found, each as one line (ocr.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "describe/internal.h"

enum { AW = 512, MAXBLOBS = 4096, MAXROW = 64 };

typedef struct blob { int x0, y0, x1, y1, n; } blob;

static int uf_find(int *p, int i)
{
    while (p[i] != i) { p[i] = p[p[i]]; i = p[i]; }
    return i;
}

/* Connected blobs of m (m[i] = 1 where the pixel is on), up to max.
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
 * 1.7 times taller or shorter chain too when tops or bottoms align.  Skips
 * blobs marked in `used` (may be NULL).  Writes the members' indices to
 * idx (up to MAXROW) and returns their count. */
static int chain(const blob *b, int n, int i, const uint8_t *used, int *idx)
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
        } else if (hj * 10 >= h0 * 6 && hj * 6 <= h0 * 10) {
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
        int len = chain(b, n, i, NULL, idx);
        if (len > best) best = len;
    }
    return best;
}

/* ---- the working images -------------------------------------------------- */

typedef struct scan {
    int W, H;
    float sx, sy;            /* working pixel -> image pixel */
    uint8_t *g, *dark, *light;
    int *lab, *map;
    blob *bl, *tb;
} scan;

/* Luma of im at W×H, each working pixel the mean of the image pixels it
 * covers (nearest sampling would break thin strokes apart). */
static void scan_gray(scan *s, const img *im)
{
    int W = s->W, H = s->H;
    for (int y = 0; y < H; y++) {
        int ya = (int)((long)y * im->h / H), yb = (int)((long)(y + 1) * im->h / H);
        if (yb <= ya) yb = ya + 1;
        for (int x = 0; x < W; x++) {
            int xa = (int)((long)x * im->w / W), xb = (int)((long)(x + 1) * im->w / W);
            if (xb <= xa) xb = xa + 1;
            /* at most 2×2 samples: enough to keep a stroke, and cheap */
            int xs = (xb - xa) > 1 ? (xb - xa) / 2 : 1, ys = (yb - ya) > 1 ? (yb - ya) / 2 : 1;
            int sum = 0, cnt = 0;
            for (int yy = ya; yy < yb; yy += ys)
                for (int xx = xa; xx < xb; xx += xs) {
                    const uint8_t *p = im->px + ((size_t)yy * (size_t)im->w + (size_t)xx) * 3;
                    sum += 77 * p[0] + 150 * p[1] + 29 * p[2];
                    cnt++;
                }
            s->g[y * W + x] = (uint8_t)(sum / cnt >> 8);
        }
    }
}

/* dark/light: pixels K below/above the mean of the (2R+1)² window round
 * them (an integral image), R about the size of a large letter. */
static void scan_threshold(scan *s)
{
    int W = s->W, H = s->H;
    uint32_t *ii = xmalloc((size_t)(W + 1) * (size_t)(H + 1) * sizeof *ii);
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
    for (int y = 0; y < H; y++) {
        int y0 = y - R < 0 ? 0 : y - R, y1 = y + R + 1 > H ? H : y + R + 1;
        for (int x = 0; x < W; x++) {
            int x0 = x - R < 0 ? 0 : x - R, x1 = x + R + 1 > W ? W : x + R + 1;
            uint32_t sum = ii[(size_t)y1 * (W + 1) + x1] - ii[(size_t)y0 * (W + 1) + x1] -
                           ii[(size_t)y1 * (W + 1) + x0] + ii[(size_t)y0 * (W + 1) + x0];
            int mean = (int)(sum / (uint32_t)((x1 - x0) * (y1 - y0)));
            s->dark[y * W + x] = s->g[y * W + x] + K < mean;
            s->light[y * W + x] = s->g[y * W + x] > mean + K;
        }
    }
    free(ii);
}

static void scan_open(scan *s, const img *im, int W)
{
    s->W = W;
    s->H = (int)((long)im->h * W / im->w);
    if (s->H < 1) s->H = 1;
    s->sx = (float)im->w / (float)s->W;
    s->sy = (float)im->h / (float)s->H;
    size_t n = (size_t)s->W * (size_t)s->H;
    s->g = xmalloc(n);
    s->dark = xmalloc(n);
    s->light = xmalloc(n);
    s->lab = xmalloc(n * sizeof *s->lab);
    s->map = xmalloc(n * sizeof *s->map);
    s->bl = xmalloc(MAXBLOBS * sizeof *s->bl);
    s->tb = xmalloc(MAXBLOBS * sizeof *s->tb);
    scan_gray(s, im);
    scan_threshold(s);
}

static void scan_close(scan *s)
{
    free(s->g); free(s->dark); free(s->light); free(s->lab); free(s->map); free(s->bl); free(s->tb);
}

/* ---- the cheap test ------------------------------------------------------ */

int ocr_text_likely(const img *im) { return ocr_text_layout(im) != 0; }

int ocr_text_layout(const img *im)
{
    if (!im || im->w < 16 || im->h < 16) return 0;
    int W = im->w < AW ? im->w : AW;
    if ((long)im->h * W / im->w < 16) return 0;
    scan s;
    scan_open(&s, im, W);
    int row = 0, col = 0;
    for (int pol = 0; pol < 2; pol++) {
        int nb = find_blobs(pol ? s.light : s.dark, s.W, s.H, s.lab, s.map, s.bl, MAXBLOBS);
        /* Columns are rows of the turned image: same test, either turn. */
        for (int cw = 0; cw < 2; cw++) {
            turn_blobs(s.bl, nb, s.W, s.H, cw, s.tb);
            int r = longest_row(s.tb, keep_letters(s.tb, nb, s.W));
            if (r > col) col = r;
        }
        int r = longest_row(s.bl, keep_letters(s.bl, nb, s.H));
        if (r > row) row = r;
    }
    scan_close(&s);
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
        int len = chain(b, n, i, used, idx);
        if (len < OCR_MIN_LETTERS) continue;
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
        if (tone < OCR_MIN_TONE) continue;
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

int ocr_find_lines(const img *im, text_line *out, int max, int *layout)
{
    if (layout) *layout = 0;
    if (!im || im->w < 16 || im->h < 16 || max <= 0) return 0;
    int W = im->w < AW ? im->w : AW;
    if ((long)im->h * W / im->w < 16) return 0;
    int n = 0, row = 0, col = 0;
    /* Two scales: the second for letters too big for the first's window. */
    for (int level = 0; level < 2; level++) {
        int w = level ? W / 2 : W;
        if (level && (long)im->h * w / im->w < 64) break;
        scan s;
        scan_open(&s, im, w);
        for (int pol = 0; pol < 2; pol++) {
            int nb = find_blobs(pol ? s.light : s.dark, s.W, s.H, s.lab, s.map, s.bl, MAXBLOBS);
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
        scan_close(&s);
    }
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
