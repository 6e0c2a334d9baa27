/* colour.c — naming the colours of a region with a small perceptual palette.
 *
 * Names are decided in CIELAB / LCh (lightness, chroma, hue angle), where
 * distances roughly follow what people see: low chroma is black/grey/white by
 * lightness, the rest is split by hue, with lightness separating pink from red
 * and brown from orange/yellow.  Pixels are named through a 2^18-entry table
 * (6 bits per channel), built once per process, so naming costs a lookup.
 *
 * A region's colours are a weighted histogram over those names.  Weights say
 * how likely a pixel belongs to the object rather than the background: the
 * person mask when there is one, else a centre prior times a "not like the
 * surroundings" factor computed from a ring of pixels just outside the box.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "describe/internal.h"

static const char *const names[PAL_N] = {
    "red", "orange", "yellow", "green", "blue", "purple", "pink",
    "brown", "black", "white", "grey",
};

const char *palette_name(int idx) { return idx >= 0 && idx < PAL_N ? names[idx] : "?"; }

static float srgb_linear(int v)
{
    float c = (float)v / 255.0f;
    return c <= 0.04045f ? c / 12.92f : powf((c + 0.055f) / 1.055f, 2.4f);
}

static float lab_f(float t)
{
    const float d = 6.0f / 29.0f;
    return t > d * d * d ? cbrtf(t) : t / (3 * d * d) + 4.0f / 29.0f;
}

static void linear_to_lab(float rl, float gl, float bl, float *L, float *A, float *B)
{
    /* sRGB -> XYZ (D65), divided by the D65 white point. */
    float x = (0.4124564f * rl + 0.3575761f * gl + 0.1804375f * bl) / 0.95047f;
    float y = 0.2126729f * rl + 0.7151522f * gl + 0.0721750f * bl;
    float z = (0.0193339f * rl + 0.1191920f * gl + 0.9503041f * bl) / 1.08883f;
    float fx = lab_f(x), fy = lab_f(y), fz = lab_f(z);
    *L = 116 * fy - 16;
    *A = 500 * (fx - fy);
    *B = 200 * (fy - fz);
}

void srgb_to_lab(int r, int g, int b, float *L, float *A, float *B)
{
    linear_to_lab(srgb_linear(r), srgb_linear(g), srgb_linear(b), L, A, B);
}

int lab_colour_name(float L, float A, float B)
{
    float C = sqrtf(A * A + B * B);
    float h = atan2f(B, A) * (180.0f / (float)M_PI);
    if (h < 0) h += 360;

    /* Achromatic: pale colours tolerate a little more tint before they stop
     * reading as white. */
    if (C < 10 || (L > 88 && C < 16) || (L < 22 && C < 18)) {
        if (L >= 80) return PAL_WHITE;
        if (L <= 25) return PAL_BLACK;
        return PAL_GREY;
    }
    if (L < 10) return PAL_BLACK;               /* too dark to see a hue */

    /* Red-magenta side: light or bluish reds read as pink. */
    if (h >= 335 || h < 15) return L >= 45 ? PAL_PINK : PAL_RED;
    if (h < 48) {                               /* sRGB pure red sits at h≈40 */
        if (L > 65 && C < 60) return PAL_PINK;  /* salmon, light coral */
        if (L < 45 && C < 35) return PAL_BROWN; /* dull dark red */
        return PAL_RED;
    }
    if (h < 100) {                              /* orange .. yellow */
        if (L < 52) return h < 97 ? PAL_BROWN : PAL_GREEN;
        if (C < 30 && L < 80) return PAL_BROWN; /* tan, wood, sand in shade */
        return h < 78 ? PAL_ORANGE : PAL_YELLOW;
    }
    if (h < 108) return L < 52 ? PAL_GREEN : PAL_YELLOW;  /* yellow at h≈103 */
    if (h < 192) return PAL_GREEN;
    if (h < 312) return PAL_BLUE;               /* cyan 196 .. blue 306 */
    return PAL_PURPLE;                          /* violet, magenta 328 */
}

static uint8_t lut[1 << 18];
/* Salience of each colour, x32: saturated colours catch the eye and give an
 * object its name (a red bicycle is red although most of its box is tyres,
 * spokes and background), so chroma raises a pixel's weight up to 4x. */
static uint8_t sal[1 << 18];
static pthread_once_t lut_once = PTHREAD_ONCE_INIT;

static void lut_build(void)
{
    float lin[64];
    for (int i = 0; i < 64; i++) lin[i] = srgb_linear(i * 4 + 2);
    for (int r = 0; r < 64; r++)
        for (int g = 0; g < 64; g++)
            for (int b = 0; b < 64; b++) {
                float L, A, B;
                /* centre of the 4-value cell */
                linear_to_lab(lin[r], lin[g], lin[b], &L, &A, &B);
                lut[r << 12 | g << 6 | b] = (uint8_t)lab_colour_name(L, A, B);
                float C = sqrtf(A * A + B * B);
                sal[r << 12 | g << 6 | b] = (uint8_t)(16 + 48 * fminf(C, 60) / 60);
            }
}

static inline int px_index(const uint8_t *p) { return (p[0] >> 2) << 12 | (p[1] >> 2) << 6 | p[2] >> 2; }
static inline int name_px(const uint8_t *p) { return lut[px_index(p)]; }

int rgb_colour_name(int r, int g, int b)
{
    pthread_once(&lut_once, lut_build);
    uint8_t p[3] = {(uint8_t)r, (uint8_t)g, (uint8_t)b};
    return name_px(p);
}

/* Coarse colour bins for the foreground/background contrast: 3 bits per
 * channel.  Fine enough to tell a red frame from a white wall, coarse
 * enough that a few hundred samples fill the histogram meaningfully. */
static inline int bin512(const uint8_t *p) { return (p[0] >> 5) << 6 | (p[1] >> 5) << 3 | p[2] >> 5; }

/* Sampling step so that about `target` samples cover a side of n pixels. */
static int step_for(int n, int target) { int s = n / target; return s < 1 ? 1 : s; }

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

void region_colours(const img *im, float x0, float y0, float x1, float y1,
                    const uint8_t *mask, int mw, int mh, int context, const float *excl, int nexcl,
                    region *r)
{
    pthread_once(&lut_once, lut_build);
    r->ncolours = 0;
    if (!im || !im->px || im->w <= 0 || im->h <= 0) return;
    int bx0 = clampi((int)floorf(x0 * (float)im->w), 0, im->w - 1);
    int by0 = clampi((int)floorf(y0 * (float)im->h), 0, im->h - 1);
    int bx1 = clampi((int)ceilf(x1 * (float)im->w), bx0 + 1, im->w);
    int by1 = clampi((int)ceilf(y1 * (float)im->h), by0 + 1, im->h);
    int bw = bx1 - bx0, bh = by1 - by0;
    int sx = step_for(bw, 80), sy = step_for(bh, 80);

    /* Contrast with the surroundings: histogram of a ring around the box
     * (a quarter of the box size wide) against the histogram inside. */
    float ratio[512];
    int use_ctx = 0;
    if (context && !mask) {
        int rx = bw / 4 + 1, ry = bh / 4 + 1;
        int cx0 = clampi(bx0 - rx, 0, im->w), cy0 = clampi(by0 - ry, 0, im->h);
        int cx1 = clampi(bx1 + rx, 0, im->w), cy1 = clampi(by1 + ry, 0, im->h);
        float hin[512] = {0}, hout[512] = {0};
        float nin = 0, nout = 0;
        int csx = step_for(cx1 - cx0, 96), csy = step_for(cy1 - cy0, 96);
        for (int y = cy0; y < cy1; y += csy)
            for (int x = cx0; x < cx1; x += csx) {
                const uint8_t *p = im->px + ((size_t)y * (size_t)im->w + (size_t)x) * 3;
                if (x >= bx0 && x < bx1 && y >= by0 && y < by1) { hin[bin512(p)] += 1; nin += 1; }
                else { hout[bin512(p)] += 1; nout += 1; }
            }
        /* Only when the ring is a real sample of the surroundings. */
        if (nout >= 50 && nin >= 20) {
            use_ctx = 1;
            for (int i = 0; i < 512; i++) {
                float a = hin[i] / nin, b = hout[i] / nout;
                ratio[i] = a + b > 0 ? a / (a + b) : 0.5f;
            }
        }
    }

    float acc[PAL_N] = {0}, total = 0;
    for (int y = by0; y < by1; y += sy) {
        float v = ((float)(y - by0) + 0.5f) / (float)bh * 2 - 1;   /* -1..1 */
        const uint8_t *row = im->px + (size_t)y * (size_t)im->w * 3;
        const uint8_t *mrow = NULL;
        if (mask) mrow = mask + (size_t)clampi((int)(((float)y + 0.5f) / (float)im->h * (float)mh), 0, mh - 1) * (size_t)mw;
        for (int x = bx0; x < bx1; x += sx) {
            const uint8_t *p = row + (size_t)x * 3;
            int ix = px_index(p);
            float w;
            if (mrow) {
                int mx = clampi((int)(((float)x + 0.5f) / (float)im->w * (float)mw), 0, mw - 1);
                w = (float)mrow[mx] / 255.0f;
                w *= w;   /* trust the confident part of the mask */
            } else {
                float u = ((float)(x - bx0) + 0.5f) / (float)bw * 2 - 1;
                w = context ? 0.25f + 0.75f * (1 - u * u) * (1 - v * v) : 1.0f;
                if (use_ctx) { float q = ratio[bin512(p)]; q *= q; w *= q * q; }   /* q^4: sharp */
                /* Pixels of other things drawn over this one (a dog in
                 * front of the bicycle) mostly belong to them. */
                if (nexcl) {
                    float fx = ((float)x + 0.5f) / (float)im->w, fy = ((float)y + 0.5f) / (float)im->h;
                    for (int k = 0; k < nexcl; k++) {
                        const float *b = excl + 4 * k;
                        if (fx >= b[0] && fx < b[2] && fy >= b[1] && fy < b[3]) { w *= 0.15f; break; }
                    }
                }
                if (context) w *= (float)sal[ix] * (1.0f / 32);
            }
            acc[lut[ix]] += w;
            total += w;
        }
    }
    if (total <= 0) return;
    /* Top shares, largest first; tiny shares are noise, not colours. */
    for (int k = 0; k < DESC_MAX_COLOURS; k++) {
        int best = -1;
        for (int i = 0; i < PAL_N; i++)
            if (acc[i] > 0 && (best < 0 || acc[i] > acc[best])) best = i;
        if (best < 0) break;
        float share = acc[best] / total;
        if (share < 0.08f) break;
        snprintf(r->colours[k].name, sizeof r->colours[k].name, "%s", names[best]);
        r->colours[k].share = share;
        r->ncolours++;
        acc[best] = 0;
    }
}

float image_brightness(const img *im)
{
    if (!im || !im->px || im->w <= 0 || im->h <= 0) return 0;
    int sx = step_for(im->w, 128), sy = step_for(im->h, 128);
    double sum = 0;
    long n = 0;
    for (int y = 0; y < im->h; y += sy)
        for (int x = 0; x < im->w; x += sx) {
            const uint8_t *p = im->px + ((size_t)y * (size_t)im->w + (size_t)x) * 3;
            sum += 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            n++;
        }
    return n ? (float)(sum / (double)n / 255.0) : 0;
}
