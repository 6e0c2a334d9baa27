/* test_server_web.c — the page in a real browser: starts the server on a
 * free loopback port over the fixture catalogue, then runs
 * tests/web/browser.test.js (playwright-core driving /usr/bin/chromium
 * headless), whose PASS/FAIL lines are ours.  Screenshots go to
 * $IMGDEX_TEST_OUT (web-results.png, web-detail.png, ...). */
#include "test.h"

#include "test_server_util.h"

int main(void)
{
    const char *src = test_srcdir();
    char pw[1200];
    snprintf(pw, sizeof pw, "%s/tests/node/node_modules/playwright-core/package.json", src);
    const char *chromium = getenv("IMGDEX_CHROMIUM") ? getenv("IMGDEX_CHROMIUM") : "/usr/bin/chromium";
    if (access(pw, R_OK) != 0 || access(chromium, X_OK) != 0 || system("node --version >/dev/null 2>&1") != 0) {
        printf("SKIP web_browser: needs node, playwright-core in tests/node and %s\n", chromium);
        return 0;
    }
    char dir[512], db[1024], web[1024], cache[1024], out[1024];
    snprintf(dir, sizeof dir, "%s", test_tmpdir("server-web"));
    if (fx_build(dir, db, sizeof db) < 1) {
        printf("FAIL web_fixture: cannot build the test catalogue\n");
        return 1;
    }
    snprintf(web, sizeof web, "%s/web", src);
    snprintf(cache, sizeof cache, "%s/thumbs", dir);
    const char *o = getenv("IMGDEX_TEST_OUT");
    snprintf(out, sizeof out, "%s", o ? o : dir);
    server_opts so = {.host = "127.0.0.1", .port = 0, .db_path = db, .web_dir = web, .cache_dir = cache};
    ierr e = {0};
    server *s = server_start(&so, &e);
    if (!s) {
        printf("FAIL web_server_start: %s\n", e.msg);
        return 1;
    }
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s/tests/node' && timeout 120 node '%s/tests/web/browser.test.js' "
             "'http://127.0.0.1:%d' '%s' '%s'", src, src, server_port(s), out, XSS_NAME);
    fflush(stdout);
    int rc = system(cmd);
    server_stop(s);
    /* the screenshot is there and is a PNG */
    char shot[1200];
    snprintf(shot, sizeof shot, "%s/web-detail.png", out);
    FILE *f = fopen(shot, "rb");
    unsigned char sig[8] = {0};
    if (f) {
        if (fread(sig, 1, 8, f) != 8) sig[0] = 0;
        fclose(f);
    }
    if (memcmp(sig, "\x89PNG", 4) != 0) printf("FAIL web_screenshot: %s is missing or not a PNG\n", shot);
    else printf("PASS web_screenshot\n");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) return 2;
    return rc == 0 && !memcmp(sig, "\x89PNG", 4) ? 0 : 1;
}
