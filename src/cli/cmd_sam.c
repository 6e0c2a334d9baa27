/* cmd_sam.c — `imgdex sam segment`: Segment Anything's automatic masks of
 * one image, for inspection and scripting.
 *
 *   imgdex sam segment [--model DIR] IMAGE [--points-per-side N] [--json] ...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/ops_nn.h"
#include "models/sam/sam.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: imgdex sam segment [--model DIR] IMAGE [--points-per-side N] [--json]\n"
               "         [--points-per-batch N] [--pred-iou-thresh T] [--stability-thresh T]\n"
               "         [--nms T] [--min-area A] [--threads N]\n\n"
               "Automatic mask generation as the SAM authors' generator does it (defaults: 32 points\n"
               "per side, IoU > 0.88, stability >= 0.95, box NMS 0.7, no small-region removal).\n"
               "One line per mask, best first: score, stability, area, box x y w h, and the mask as\n"
               "column-major run lengths (zeros first).  --json prints {\"model\", \"image\", \"width\",\n"
               "\"height\", \"masks\": [{\"segmentation\": {\"size\": [h, w], \"counts\": [...]}, \"area\",\n"
               "\"bbox\": [x, y, w, h], \"predicted_iou\", \"stability_score\", \"point_coords\"}]}.\n"
               "DIR: a Hugging Face SamModel directory; default $IMGDEX_SAM_DIR or the installed\n"
               "sam-vit-base (imgdex models fetch sam-vit-base).\n");
}

static int num(const char *opt, const char *v, double lo, double hi, double *out)
{
    char *end;
    double d = v ? strtod(v, &end) : 0;
    if (!v || *end || d < lo || d > hi) {
        fprintf(stderr, "imgdex sam: %s needs a number in %g..%g\n", opt, lo, hi);
        return -1;
    }
    *out = d;
    return 0;
}

static void print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

static int segment(int argc, char **argv)
{
    const char *model = NULL, *image = NULL;
    int json = 0;
    sam_amg_opts o;
    sam_amg_defaults(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
        if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--model") && v) model = argv[++i];
        else if (!strcmp(a, "--points-per-side")) {
            if (num(a, v, 1, 1024, &d)) return 1;
            o.points_per_side = (int)d, i++;
        } else if (!strcmp(a, "--points-per-batch")) {
            if (num(a, v, 1, 4096, &d)) return 1;
            o.points_per_batch = (int)d, i++;
        } else if (!strcmp(a, "--pred-iou-thresh")) {
            if (num(a, v, 0, 1e9, &d)) return 1;
            o.pred_iou_thresh = (float)d, i++;
        } else if (!strcmp(a, "--stability-thresh")) {
            if (num(a, v, 0, 1, &d)) return 1;
            o.stability_thresh = (float)d, i++;
        } else if (!strcmp(a, "--nms")) {
            if (num(a, v, 0, 1, &d)) return 1;
            o.box_nms_thresh = (float)d, i++;
        } else if (!strcmp(a, "--min-area")) {
            if (num(a, v, 0, 1e9, &d)) return 1;
            o.min_region_area = (int)d, i++;
        } else if (!strcmp(a, "--threads")) {
            if (num(a, v, 0, 1024, &d)) return 1;
            nn_set_threads((int)d), i++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "imgdex sam segment: unknown option %s\n", a);
            usage(stderr);
            return 1;
        } else if (!image) image = a;
        else {
            fprintf(stderr, "imgdex sam segment: one IMAGE only\n");
            return 1;
        }
    }
    if (!image) {
        usage(stderr);
        return 1;
    }
    ierr e = {0};
    img im = {0};
    if (img_load(image, NULL, &im, NULL, &e)) {
        fprintf(stderr, "imgdex: %s\n", e.msg);
        return 2;
    }
    sam_model *m = model ? sam_open(model, &e) : sam_open_default(&e);
    if (!m) {
        img_free(&im);
        fprintf(stderr, "imgdex: %s\n", e.msg);
        return 2;
    }
    sam_segment *seg;
    int n;
    int rc = sam_generate(m, &im, &o, &seg, &n, &e);
    if (rc) {
        fprintf(stderr, "imgdex: %s: %s\n", image, e.msg);
    } else if (json) {
        printf("{\"model\": ");
        print_json_string(sam_name(m));
        printf(", \"image\": ");
        print_json_string(image);
        printf(", \"width\": %d, \"height\": %d, \"masks\": [", im.w, im.h);
        for (int i = 0; i < n; i++) {
            const sam_segment *s = &seg[i];
            printf("%s\n {\"segmentation\": {\"size\": [%d, %d], \"counts\": [", i ? "," : "", s->h, s->w);
            for (int k = 0; k < s->ncounts; k++) printf(k ? ", %u" : "%u", s->counts[k]);
            printf("]}, \"area\": %d, \"bbox\": [%d, %d, %d, %d], \"predicted_iou\": %.6g, "
                   "\"stability_score\": %.6g, \"point_coords\": [[%.6g, %.6g]]}",
                   s->area, s->box[0], s->box[1], s->box[2] - s->box[0], s->box[3] - s->box[1], s->iou,
                   s->stability, s->point[0], s->point[1]);
        }
        printf("%s]}\n", n ? "\n" : "");
    } else {
        printf("# %d masks of %s (%dx%d), model %s\n", n, image, im.w, im.h, sam_name(m));
        for (int i = 0; i < n; i++) {
            const sam_segment *s = &seg[i];
            printf("%d iou %.4f stability %.4f area %d box %d %d %d %d rle", i, s->iou, s->stability, s->area,
                   s->box[0], s->box[1], s->box[2] - s->box[0], s->box[3] - s->box[1]);
            for (int k = 0; k < s->ncounts; k++) printf(" %u", s->counts[k]);
            printf("\n");
        }
    }
    if (!rc) sam_segments_free(seg, n);
    sam_close(m);
    img_free(&im);
    return rc ? 2 : 0;
}

int cmd_sam(int argc, char **argv, const char *db)
{
    (void)db;
    static const cli_sub subs[] = {{"segment", segment}};
    return cli_dispatch("sam", argc, argv, subs, (int)(sizeof subs / sizeof *subs), usage);
}
