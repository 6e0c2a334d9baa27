/* cmd_show.c — `imgdex show`.  Placeholder until its issue lands. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_show(int argc, char **argv, const char *db)
{
    (void)argc; (void)argv; (void)db;
    fprintf(stderr, "imgdex: 'show' is not built yet\n");
    return 2;
}
