/* cmd_index.c — `imgdex index`.  Placeholder until its issue lands. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_index(int argc, char **argv, const char *db)
{
    (void)argc; (void)argv; (void)db;
    fprintf(stderr, "imgdex: 'index' is not built yet\n");
    return 2;
}
