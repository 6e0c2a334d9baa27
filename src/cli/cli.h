/* cli.h — one function per subcommand, each in src/cli/cmd_<name>.c.
 * Each gets argv after the subcommand name (argv[0] is the subcommand) and
 * the database path chosen by main (--db, $IMGDEX_DB or the XDG default).
 * Return: 0 success, 1 usage error, 2 runtime failure.
 * Results go to stdout, everything else to stderr. */
#ifndef IMGDEX_CLI_H
#define IMGDEX_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "index/catalogue.h"

int cmd_index(int argc, char **argv, const char *db);
int cmd_search(int argc, char **argv, const char *db);
int cmd_show(int argc, char **argv, const char *db);
int cmd_stats(int argc, char **argv, const char *db);
int cmd_dups(int argc, char **argv, const char *db);
int cmd_models(int argc, char **argv, const char *db);
int cmd_serve(int argc, char **argv, const char *db);
int cmd_eval(int argc, char **argv, const char *db);
int cmd_train(int argc, char **argv, const char *db);
int cmd_bench(int argc, char **argv, const char *db);
int cmd_clip(int argc, char **argv, const char *db);
int cmd_blip(int argc, char **argv, const char *db);
int cmd_sam(int argc, char **argv, const char *db);
int cmd_similar(int argc, char **argv, const char *db);

/* 1 when argv has -h or --help. */
int cli_wants_help(int argc, char **argv);

/* A command made of subcommands ("imgdex blip caption …"): runs the one
 * argv[1] names with argv from there.  No subcommand, -h/--help anywhere
 * or an unknown name print `usage` (to stdout for help, else stderr). */
typedef struct cli_sub {
    const char *name;
    int (*fn)(int argc, char **argv);
} cli_sub;
int cli_dispatch(const char *cmd, int argc, char **argv, const cli_sub *subs, int nsubs,
                 void (*usage)(FILE *));

/* Opens the catalogue `db` read-only and finds `what` in it: a path (stored
 * paths are absolute and canonical, so a relative one is resolved first) or
 * a decimal id.  Returns the id with *out open; else prints why, prefixed by
 * `who`, and returns 0 with nothing open (exit status 2). */
int64_t cli_find_image(const char *who, const char *db, const char *what, catalogue **out);

#endif
