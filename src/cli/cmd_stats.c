/* cmd_stats.c — `imgdex stats`.  Placeholder until its issue lands. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_stats(int argc, char **argv, const char *db)
{
    (void)argc; (void)argv; (void)db;
    fprintf(stderr, "imgdex: 'stats' is not built yet\n");
    return 2;
}
