/* main.c — imgdex's entry point: global options, then one subcommand. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"

static const struct {
    const char *name;
    int (*fn)(int, char **, const char *);
    const char *help;
} commands[] = {
    {"index", cmd_index, "index DIR...            describe new and changed images under DIR"},
    {"search", cmd_search, "search QUERY            best matching images (-k N, --json, --explain)"},
    {"similar", cmd_similar, "similar PATH_OR_ID      the images that look most like one (-k N, --json)"},
    {"show", cmd_show, "show PATH_OR_ID         the stored description of one image (--json)"},
    {"duplicates", cmd_dups, "duplicates              groups of the same picture, a keeper each (--near, --json)"},
    {"stats", cmd_stats, "stats                   what the database holds (--json)"},
    {"models", cmd_models, "models list|fetch NAME  installed models, download one"},
    {"serve", cmd_serve, "serve                   web page and HTTP API (--host, --port)"},
    {"eval", cmd_eval, "eval                    retrieval quality on a captioned image set"},
    {"train", cmd_train, "train                   train imgdex's tagger and joint embedding on captions"},
    {"bench", cmd_bench, "bench                   query latency on a synthetic catalogue"},
    {"clip", cmd_clip, "clip tokenize|embed     CLIP tokenizer and embeddings, for scripting"},
    {"blip", cmd_blip, "blip caption IMAGE...   BLIP image captions (--beams N, --prompt T, --json)"},
    {"sam", cmd_sam, "sam segment IMAGE       Segment Anything's automatic masks of an image"},
};
#define NCOMMANDS (int)(sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: imgdex [--db PATH] COMMAND [ARGS]\n\n"
               "imgdex describes every image in a folder with machine-learning models and\n"
               "answers precise text queries over them.\n\ncommands:\n");
    for (int i = 0; i < NCOMMANDS; i++) fprintf(f, "  %s\n", commands[i].help);
    fprintf(f, "\nglobal options:\n"
               "  --db PATH    database (default $IMGDEX_DB, else $XDG_DATA_HOME/imgdex/index.db)\n"
               "  --version    print the version\n"
               "  -h, --help   this help; COMMAND --help for a command's own\n");
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    return 0;
}

int64_t cli_find_image(const char *who, const char *db, const char *what, catalogue **out)
{
    ierr e = {0};
    catalogue *c = cat_open(db, 1, &e);
    if (!c) {
        fprintf(stderr, "%s: %s\n", who, e.msg);
        return 0;
    }
    char canon[PATH_MAX];
    int64_t id = realpath(what, canon) ? cat_lookup(c, canon) : 0;
    if (!id) id = cat_lookup(c, what);
    if (!id) {
        fprintf(stderr, "%s: %s: not in the catalogue %s\n", who, what, db);
        cat_close(c);
        return 0;
    }
    *out = c;
    return id;
}

int cli_dispatch(const char *cmd, int argc, char **argv, const cli_sub *subs, int nsubs,
                 void (*usage)(FILE *))
{
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    for (int i = 0; i < nsubs; i++)
        if (!strcmp(argv[1], subs[i].name)) return subs[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "imgdex %s: unknown subcommand '%s'\n", cmd, argv[1]);
    usage(stderr);
    return 1;
}

int main(int argc, char **argv)
{
    const char *db = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--db")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "imgdex: --db needs a path\n");
                return 1;
            }
            db = argv[++i];
        } else if (!strncmp(argv[i], "--db=", 5)) {
            db = argv[i] + 5;
        } else if (!strcmp(argv[i], "--version")) {
            printf("imgdex %s\n", IMGDEX_VERSION);
            return 0;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "imgdex: unknown option %s\n", argv[i]);
            usage(stderr);
            return 1;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 1;
    }
    for (int c = 0; c < NCOMMANDS; c++) {
        if (strcmp(argv[i], commands[c].name)) continue;
        char dbbuf[4096];
        if (!db) {
            ierr e = {0};
            if (path_default_db(dbbuf, sizeof dbbuf, &e) != 0) {
                fprintf(stderr, "imgdex: %s\n", e.msg);
                return 2;
            }
            db = dbbuf;
        }
        return commands[c].fn(argc - i, argv + i, db);
    }
    fprintf(stderr, "imgdex: unknown command '%s'\n", argv[i]);
    usage(stderr);
    return 1;
}
