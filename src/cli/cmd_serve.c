/* cmd_serve.c — `imgdex serve`.  Placeholder until its issue lands. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_serve(int argc, char **argv, const char *db)
{
    (void)argc; (void)argv; (void)db;
    fprintf(stderr, "imgdex: 'serve' is not built yet\n");
    return 2;
}
