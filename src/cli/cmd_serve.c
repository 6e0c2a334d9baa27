/* cmd_serve.c — `imgdex serve [--host H] [--port P] [--db PATH] [--cache DIR] [--log]`.
 * Serves until SIGINT or SIGTERM, then finishes the requests in flight. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "server/server.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: imgdex serve [--host 127.0.0.1] [--port 8080] [--db PATH] [--cache DIR] [--web DIR] [--log]\n"
               "  --host H     address to listen on (default 127.0.0.1: this machine only)\n"
               "  --port P     TCP port (default 8080; 0 = any free port, printed at start)\n"
               "  --db PATH    catalogue (default: the global --db, $IMGDEX_DB or the XDG default)\n"
               "  --cache DIR  thumbnail cache (default $XDG_CACHE_HOME/imgdex/thumbs)\n"
               "  --web DIR    the page's files (default: installed share dir, else ./web)\n"
               "  --log        one line per request on stderr\n"
               "Open http://HOST:PORT/ in a browser; the JSON API is under /api/ (see docs/server.md).\n");
}

int cmd_serve(int argc, char **argv, const char *db)
{
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    server_opts o = {.host = "127.0.0.1", .port = 8080, .db_path = db};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--log")) {
            o.log_requests = 1;
            continue;
        }
        if (!v || (strcmp(a, "--host") && strcmp(a, "--port") && strcmp(a, "--db") && strcmp(a, "--cache") &&
                   strcmp(a, "--web"))) {
            fprintf(stderr, "imgdex serve: %s %s\n", v ? "unknown option" : "missing value for", a);
            usage(stderr);
            return 1;
        }
        i++;
        if (!strcmp(a, "--host")) o.host = v;
        else if (!strcmp(a, "--db")) o.db_path = v;
        else if (!strcmp(a, "--cache")) o.cache_dir = v;
        else if (!strcmp(a, "--web")) o.web_dir = v;
        else {
            char *end;
            long p = strtol(v, &end, 10);
            if (*end || p < 0 || p > 65535) {
                fprintf(stderr, "imgdex serve: --port needs a number from 0 to 65535\n");
                return 1;
            }
            o.port = (int)p;
        }
    }
    /* Block the stop signals in every thread (the server's inherit the
     * mask), and wait for them here. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    ierr e = {0};
    server *s = server_start(&o, &e);
    if (!s) {
        fprintf(stderr, "imgdex serve: %s\n", e.msg);
        return 2;
    }
    int ipv6 = strchr(o.host, ':') != NULL;
    fprintf(stderr, "imgdex serve: %s at http://%s%s%s:%d/ (Ctrl-C stops)\n", o.db_path, ipv6 ? "[" : "", o.host,
            ipv6 ? "]" : "", server_port(s));
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "imgdex serve: stopping\n");
    server_stop(s);
    return 0;
}
