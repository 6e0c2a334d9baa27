/* cmd_index.c — `imgdex index DIR... [--jobs N] [--max-pixels N] [--no-ocr] [--json]`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "index/catalogue.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: imgdex [--db PATH] index DIR... [options]\n\n"
        "Describe every new or changed image under each DIR and store it in the\n"
        "database.  Unchanged files (same size and mtime) are skipped; renamed and\n"
        "copied files are recognised by content and not described again; files that\n"
        "are gone are forgotten.  Broken files are listed in `stats` and warned about.\n"
        "When SAM, BLIP or CLIP ran, the summary says how long each stage took\n"
        "(always in --json).\n\n"
        "options:\n"
        "  --jobs N          worker threads for decoding and describing (default: cores)\n"
        "  --max-pixels N    refuse images larger than N pixels (default 100000000)\n"
        "  --no-ocr          do not read text in images\n"
        "  --no-clip         do not use CLIP (embeddings, zero-shot labels) even when installed\n"
        "  --no-progress     no progress bar (it is shown only on a terminal anyway)\n"
        "  --json            print the run's figures (and per-stage seconds) as JSON\n");
}

/* Positive integer option value, or -1. */
static long long int_arg(const char *opt, const char *v)
{
    char *end;
    errno = 0;
    long long n = v ? strtoll(v, &end, 10) : 0;
    if (!v || errno || *end || n <= 0) {
        fprintf(stderr, "imgdex index: %s needs a positive number\n", opt);
        return -1;
    }
    return n;
}

/* Where the describing time went, when the heavy optional models (SAM,
 * BLIP, CLIP) ran: "stage time: objects 1.2 s, sam 8.0 s, ...". */
static void print_stage_times(const index_stats *st)
{
    int heavy = 0;
    for (int i = 0; i < st->nstages; i++)
        heavy |= st->stage_runs[i] && (!strcmp(st->stage_names[i], "sam") || !strcmp(st->stage_names[i], "blip") ||
                                       !strcmp(st->stage_names[i], "clip"));
    if (!heavy) return;
    printf("stage time:");
    for (int i = 0, k = 0; i < st->nstages; i++)
        if (st->stage_runs[i] && st->stage_seconds[i] >= 0.0005)
            printf("%s %s %.2f s", k++ ? "," : "", st->stage_names[i], st->stage_seconds[i]);
    printf(" (wall seconds, summed over %d images and the workers)\n", st->described);
}

int cmd_index(int argc, char **argv, const char *db)
{
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    index_opts o;
    index_opts_default(&o);
    int json = 0;
    char **dirs = calloc((size_t)argc, sizeof *dirs);
    int ndirs = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--jobs") || !strcmp(a, "-j")) {
            long long n = int_arg(a, i + 1 < argc ? argv[++i] : NULL);
            if (n < 0 || n > 256) goto usage_error;
            o.jobs = (int)n;
        } else if (!strcmp(a, "--max-pixels")) {
            long long n = int_arg(a, i + 1 < argc ? argv[++i] : NULL);
            if (n < 0) goto usage_error;
            o.max_pixels = n;
        } else if (!strcmp(a, "--no-ocr")) {
            o.describe.ocr = 0;
        } else if (!strcmp(a, "--no-clip")) {
            o.describe.clip = 0;
        } else if (!strcmp(a, "--no-progress")) {
            o.progress = 0;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "imgdex index: unknown option %s\n", a);
            goto usage_error;
        } else {
            dirs[ndirs++] = argv[i];
        }
    }
    if (ndirs == 0) {
        fprintf(stderr, "imgdex index: which directory?\n");
        goto usage_error;
    }

    index_stats st;
    ierr e = {0};
    int rc = index_run(db, dirs, ndirs, &o, &st, &e);
    free(dirs);
    if (rc != 0) {
        fprintf(stderr, "imgdex: %s\n", e.msg);
        return 2;
    }
    double rate = st.seconds > 0 ? st.described / st.seconds : 0;
    if (json) {
        printf("{\"seen\":%d,\"described\":%d,\"unchanged\":%d,\"renamed\":%d,\"removed\":%d,"
               "\"errors\":%d,\"known_errors\":%d,\"fingerprinted\":%d,\"rejoint\":%d,\"seconds\":%.3f,"
               "\"images_per_second\":%.3f,\"stages\":[",
               st.seen, st.described, st.unchanged, st.renamed, st.removed, st.errors,
               st.known_errors, st.fingerprinted, st.rejoint, st.seconds, rate);
        for (int i = 0, k = 0; i < st.nstages; i++)
            if (st.stage_runs[i])
                printf("%s{\"name\":\"%s\",\"seconds\":%.3f,\"runs\":%d}", k++ ? "," : "", st.stage_names[i],
                       st.stage_seconds[i], st.stage_runs[i]);
        printf("]}\n");
    } else {
        printf("%d images found: %d described, %d unchanged, %d renamed or copied, %d removed, "
               "%d errors (%d known) in %.1f s (%.2f images/s)\n",
               st.seen, st.described, st.unchanged, st.renamed, st.removed, st.errors,
               st.known_errors, st.seconds, rate);
        if (st.fingerprinted)
            printf("%d up-to-date images fingerprinted (for duplicates)\n", st.fingerprinted);
        print_stage_times(&st);
    }
    return 0;
usage_error:
    free(dirs);
    usage(stderr);
    return 1;
}
