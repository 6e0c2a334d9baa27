/* cmd_dups.c — `imgdex duplicates [--near] [--json]`: groups of the same
 * picture (and, with --near, of near-identical shots), each with a
 * suggested keeper.  Nothing is ever deleted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "index/dups.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: imgdex [--db PATH] duplicates [--near] [--json]\n\n"
        "Groups of images that are the same picture: resized, recompressed,\n"
        "converted, brightened, noised, cropped a little or turned by EXIF.\n"
        "Each group names a suggested keeper (largest resolution, then oldest)\n"
        "and, for every other member, why it is there.  imgdex deletes nothing.\n\n"
        "options:\n"
        "  --near      also near-duplicates: burst shots, the same scene a moment apart\n"
        "  --json      {\"groups\":[{\"keeper\",\"members\":[...]}],\"images\",\"missing\"}\n");
}

int cmd_dups(int argc, char **argv, const char *db)
{
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    int json = 0, near = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--near")) {
            near = 1;
        } else {
            fprintf(stderr, "imgdex duplicates: unexpected %s\n", argv[i]);
            usage(stderr);
            return 1;
        }
    }
    ierr e = {0};
    catalogue *c = cat_open(db, 1, &e);
    if (!c) {
        fprintf(stderr, "imgdex: %s\n", e.msg);
        return 2;
    }
    dup_set s;
    int rc = dups_find(c, near, &s, &e);
    cat_close(c);
    if (rc != 0) {
        fprintf(stderr, "imgdex: %s\n", e.msg);
        return 2;
    }
    if (json) {
        char *t = dups_to_json(&s);
        printf("%s\n", t);
        free(t);
    } else {
        int in = 0;
        for (int i = 0; i < s.ngroups; i++) {
            const dup_group *g = &s.g[i];
            in += g->n;
            printf("group %d: %d images\n", i + 1, g->n);
            for (int k = 0; k < g->n; k++) {
                const dup_member *m = &g->m[k];
                char why[200] = "suggested keeper";
                if (k) dup_reason(m, why, sizeof why);
                printf("  %s #%-6lld %5dx%-5d %s\n      %s\n", k ? "    " : "keep", (long long)m->id, m->width,
                       m->height, m->path, why);
            }
        }
        printf("%d group%s, %d images in them, of %d fingerprinted\n", s.ngroups, s.ngroups == 1 ? "" : "s", in,
               s.images);
    }
    if (s.missing)
        fprintf(stderr, "imgdex: %d catalogued image%s no fingerprint yet: run 'imgdex index' on %s folder%s\n",
                s.missing, s.missing == 1 ? " has" : "s have", s.missing == 1 ? "its" : "their",
                s.missing == 1 ? "" : "s");
    dup_set_free(&s);
    return 0;
}
