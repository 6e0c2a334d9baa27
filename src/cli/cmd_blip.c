/* cmd_blip.c — `imgdex blip caption|tokenize`: BLIP captions for inspection
 * and scripting.
 *
 *   imgdex blip caption [--model DIR] IMAGE... [--beams N] [--prompt T]
 *                       [--max-length N] [--min-length N] [--repetition-penalty P]
 *                       [--threads N] [--json]
 *   imgdex blip tokenize [--model DIR] [TEXT...]     WordPiece ids, one line per TEXT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/ops_nn.h"
#include "models/blip/blip.h"
#include "models/text/wordpiece.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: imgdex blip caption [--model DIR] IMAGE... [--beams N] [--prompt T] [--json]\n"
               "                           [--max-length N] [--min-length N] [--repetition-penalty P]\n"
               "                           [--threads N] [--candidates]\n"
               "       imgdex blip tokenize [--model DIR] [TEXT...]\n\n"
               "caption: one caption per IMAGE (greedy unless --beams N; --prompt \"a photography of\"\n"
               "  makes BLIP continue that text).  max-length counts word pieces, prompt included\n"
               "  (default 20).  --json prints [{\"image\", \"caption\"}].  --candidates: every finished\n"
               "  beam, best first, with its score (length-normalised log-probability).\n"
               "tokenize: BERT WordPiece ids of each TEXT (each line of standard input without TEXT).\n"
               "DIR: a Hugging Face BlipForConditionalGeneration directory; default $IMGDEX_BLIP_DIR or\n"
               "  the first installed BLIP model (imgdex models fetch blip-base).\n");
}

static void json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') printf("\\%c", *p);
        else if (*p < 0x20) printf("\\u%04x", *p);
        else putchar(*p);
    }
    putchar('"');
}

static int int_arg(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || end == s || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

static int caption(int argc, char **argv)
{
    const char *model = NULL;
    int json = 0, n = 0, threads = 0, all = 0;
    blip_opts o;
    blip_opts_default(&o);
    const char **images = xmalloc((size_t)argc * sizeof *images);
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--model") && v) model = argv[++i];
        else if (!strcmp(a, "--prompt") && v) o.prompt = argv[++i];
        else if (!strcmp(a, "--beams") && v) bad = int_arg(argv[++i], 1, 64, &o.beams);
        else if (!strcmp(a, "--max-length") && v) bad = int_arg(argv[++i], 1, 512, &o.max_length);
        else if (!strcmp(a, "--min-length") && v) bad = int_arg(argv[++i], 0, 512, &o.min_length);
        else if (!strcmp(a, "--threads") && v) bad = int_arg(argv[++i], 0, 256, &threads);
        else if (!strcmp(a, "--repetition-penalty") && v) {
            char *end;
            o.repetition_penalty = strtof(argv[++i], &end);
            bad = *end || !(o.repetition_penalty > 0);
        } else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--candidates")) all = 1;
        else if (a[0] == '-' && a[1]) bad = 1;
        else images[n++] = a;
        if (bad) fprintf(stderr, "imgdex blip caption: bad argument %s\n", a);
    }
    if (bad || !n) {
        if (!n && !bad) fprintf(stderr, "imgdex blip caption: no IMAGE given\n");
        usage(stderr);
        free(images);
        return 1;
    }
    if (threads) nn_set_threads(threads);
    ierr e = {0};
    blip_model *m = model ? blip_open(model, &e) : blip_open_default(&e);
    if (!m) {
        fprintf(stderr, "imgdex: %s\n", e.msg);
        free(images);
        return 2;
    }
    int rc = 0;
    if (json) printf("[");
    for (int k = 0; k < n; k++) {
        img im = {0};
        img_load_opts opt = {0};   /* full size: BLIP resizes from the original pixels */
        char *c[64] = {0};
        float sc[64];
        int nc = -1;
        if (img_load(images[k], &opt, &im, NULL, &e) || (nc = blip_captions(m, &im, &o, c, sc, all ? 64 : 1, &e)) < 1) {
            fprintf(stderr, "imgdex: %s\n", nc == 0 ? "blip: no caption" : e.msg);
            rc = 2;
        } else if (json) {
            printf("%s\n {\"image\": ", k ? "," : "");
            json_string(images[k]);
            printf(", \"caption\": ");
            json_string(c[0]);
            if (all) {
                printf(", \"candidates\": [");
                for (int i = 0; i < nc; i++) {
                    printf("%s{\"caption\": ", i ? ", " : "");
                    json_string(c[i]);
                    printf(", \"score\": %.6g}", sc[i]);
                }
                printf("]");
            }
            printf("}");
        } else {
            for (int i = 0; i < nc; i++)
                if (all) printf("%s\t%.6g\t%s\n", images[k], sc[i], c[i]);
                else printf("%s\t%s\n", images[k], c[i]);
        }
        for (int i = 0; i < nc; i++) free(c[i]);
        img_free(&im);
    }
    if (json) printf("\n]\n");
    blip_close(m);
    free(images);
    return rc;
}

static void print_ids(const wp_vocab *v, const char *text)
{
    int n = wp_encode(v, text, NULL, 0);
    int *ids = xmalloc((size_t)(n + 1) * sizeof *ids);
    wp_encode(v, text, ids, n);
    for (int i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
    printf("\n");
    free(ids);
}

static int tokenize(int argc, char **argv)
{
    const char *model = NULL;
    int first = argc;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--")) { first = i + 1; break; }
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "imgdex blip tokenize: unknown option %s\n", argv[i]);
            usage(stderr);
            return 1;
        } else { first = i; break; }
    }
    char path[4096], dir[2048];
    const char *env = getenv("IMGDEX_BLIP_DIR");
    if (model) snprintf(path, sizeof path, "%s/vocab.txt", model);
    else if (env && *env) snprintf(path, sizeof path, "%s/vocab.txt", env);
    else {
        path_models_dir(dir, sizeof dir);
        snprintf(path, sizeof path, "%s/blip-base/vocab.txt", dir);
    }
    ierr e = {0};
    wp_vocab *v = wp_load(path, &e);
    if (!v) {
        fprintf(stderr, "imgdex: %s\n", e.msg);
        return 2;
    }
    if (first < argc) {
        for (int i = first; i < argc; i++) print_ids(v, argv[i]);
    } else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        while ((len = getline(&line, &cap, stdin)) >= 0) {
            if (len > 0 && line[len - 1] == '\n') line[--len] = 0;
            print_ids(v, line);
        }
        free(line);
    }
    wp_free(v);
    return 0;
}

int cmd_blip(int argc, char **argv, const char *db)
{
    (void)db;
    static const cli_sub subs[] = {{"caption", caption}, {"tokenize", tokenize}};
    return cli_dispatch("blip", argc, argv, subs, (int)(sizeof subs / sizeof *subs), usage);
}
