/* cmd_bench.c — `imgdex bench`.  Placeholder until its issue lands. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_bench(int argc, char **argv, const char *db)
{
    (void)argc; (void)argv; (void)db;
    fprintf(stderr, "imgdex: 'bench' is not built yet\n");
    return 2;
}
