/* cli.h — one function per subcommand, each in src/cli/cmd_<name>.c.
 * Each gets argv after the subcommand name (argv[0] is the subcommand) and
 * the database path chosen by main (--db, $IMGDEX_DB or the XDG default).
 * Return: 0 success, 1 usage error, 2 runtime failure.
 * Results go to stdout, everything else to stderr. */
#ifndef IMGDEX_CLI_H
#define IMGDEX_CLI_H

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

#endif
