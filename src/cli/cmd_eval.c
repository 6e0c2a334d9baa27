/* cmd_eval.c — `imgdex eval`.  Placeholder until its issue lands. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_eval(int argc, char **argv, const char *db)
{
    (void)argc; (void)argv; (void)db;
    fprintf(stderr, "imgdex: 'eval' is not built yet\n");
    return 2;
}
