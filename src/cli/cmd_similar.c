/* cmd_similar.c — `imgdex similar PATH_OR_ID [-k N] [--json]`: the images
 * nearest one image in embedding space (query.h, similar_run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "index/catalogue.h"
#include "query/query.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: imgdex similar PATH_OR_ID [-k N] [--json]\n"
               "  the images that look most like this one (its joint-model embedding, else CLIP's),\n"
               "  the image itself first\n"
               "  -k N     number of results (default 20)\n"
               "  --json   {\"query\":..., \"results\":[{\"rank\",\"id\",\"path\",\"score\",\"why\"}]}\n");
}

int cmd_similar(int argc, char **argv, const char *db)
{
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    int k = 20, json = 0;
    const char *what = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-k")) {
            char *end;
            if (i + 1 >= argc || (k = (int)strtol(argv[i + 1], &end, 10)) <= 0 || *end) {
                fprintf(stderr, "imgdex similar: -k needs a positive number\n");
                return 1;
            }
            i++;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "imgdex similar: unknown option %s\n", a);
            usage(stderr);
            return 1;
        } else if (!what) {
            what = a;
        } else {
            fprintf(stderr, "imgdex similar: one image at a time (%s)\n", a);
            return 1;
        }
    }
    if (!what) {
        usage(stderr);
        return 1;
    }
    catalogue *c = NULL;
    int64_t id = cli_find_image("imgdex similar", db, what, &c);
    if (!id) return 2;
    ierr e = {0};
    search_results r;
    if (similar_run(cat_db(c), id, k, &r, &e) != 0) {
        fprintf(stderr, "imgdex %s\n", e.msg);
        search_results_free(&r);
        cat_close(c);
        return 2;
    }
    if (json) {
        char label[64];
        snprintf(label, sizeof label, "similar:%lld", (long long)id);
        char *s = search_results_json(label, &r);
        printf("%s\n", s);
        free(s);
    } else {
        for (int i = 0; i < r.n; i++) printf("%3d  %.4f  %s\n", i + 1, r.hits[i].score, r.hits[i].path);
    }
    search_results_free(&r);
    cat_close(c);
    return 0;
}
