/* fuzz_image.c — libFuzzer target: any bytes through img_load_mem (format
 * sniffing, then the BMP, PNM, GIF, PNG, JPEG or WebP decoder, EXIF and
 * orientation), at full size and with DCT scaling, and straight into the
 * EXIF parser.  A decode either succeeds with sane pixels or fails naming
 * the file.  FUZZ_MAX_LEN 65536 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* 4 MP: the pixel limit is tested elsewhere; here it keeps RSS small. */
    static const img_load_opts opts[2] = {{.min_side = 0, .max_pixels = 4000000}, {.min_side = 48, .max_pixels = 4000000}};
    for (int k = 0; k < 2; k++) {
        img im;
        img_meta m;
        ierr e = {0};
        if (img_load_mem(data, size, "fuzz.img", &opts[k], &im, &m, &e) == 0) {
            if (im.w <= 0 || im.h <= 0 || !im.px || m.orientation < 1 || m.orientation > 8) abort();
            volatile uint8_t sink = im.px[(size_t)im.w * im.h * 3 - 1];   /* the whole buffer exists */
            (void)sink;
            if (m.taken_at[0] && strlen(m.taken_at) != 19) abort();
            img_free(&im);
        } else if (!strstr(e.msg, "fuzz.img")) {
            abort();   /* an error names the file */
        }
    }
    if (size >= 6 && !memcmp(data, "Exif\0\0", 6)) {
        img_meta m;
        memset(&m, 0, sizeof m);
        img_exif_parse(data, size, &m);
    }
    return 0;
}
