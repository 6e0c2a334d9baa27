/* exif.c — the EXIF fields imgdex keeps, through libexif: orientation,
 * DateTimeOriginal, camera make and model, GPS position.
 * Broken or hostile EXIF blocks are ignored field by field. */
#include "image/image_int.h"

#include <libexif/exif-data.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* An ASCII entry, trimmed of NULs and spaces; "" when absent. */
static void ascii(ExifContent *ifd, ExifTag tag, char *out, size_t n)
{
    out[0] = 0;
    ExifEntry *en = ifd ? exif_content_get_entry(ifd, tag) : NULL;
    if (!en || en->format != EXIF_FORMAT_ASCII || !en->data || en->size == 0) return;
    size_t k = en->size < n - 1 ? en->size : n - 1;
    size_t j = 0;
    for (size_t i = 0; i < k && en->data[i]; i++)
        out[j++] = (char)(en->data[i] >= 32 && en->data[i] < 127 ? en->data[i] : '?');
    out[j] = 0;
    while (j > 0 && out[j - 1] == ' ') out[--j] = 0;
    size_t lead = strspn(out, " ");
    if (lead) memmove(out, out + lead, j - lead + 1);
}

/* Degrees from a rational[3] entry (d, m, s); -1 when unusable. */
static double dms(ExifContent *ifd, ExifTag tag, ExifByteOrder bo)
{
    ExifEntry *en = exif_content_get_entry(ifd, tag);
    if (!en || en->format != EXIF_FORMAT_RATIONAL || en->components < 3 || !en->data || en->size < 24) return -1;
    double v[3];
    for (int i = 0; i < 3; i++) {
        ExifRational r = exif_get_rational(en->data + 8 * i, bo);
        if (r.denominator == 0) return -1;
        v[i] = (double)r.numerator / r.denominator;
    }
    return v[0] + v[1] / 60 + v[2] / 3600;
}

static void date(const char *s, char *out, size_t n)
{
    /* "YYYY:MM:DD HH:MM:SS" -> "YYYY-MM-DD HH:MM:SS"; anything else is dropped. */
    static const char shape[] = "dddd:dd:dd dd:dd:dd";
    out[0] = 0;
    if (strlen(s) < sizeof shape - 1) return;
    for (size_t i = 0; i < sizeof shape - 1; i++)
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i] && !(i == 10 && s[i] == 'T')) return;
    if (!strncmp(s, "0000", 4)) return;   /* cameras without a clock write zeros */
    /* A date that is no date ("9999:99:99 99:99:99", February 31st) is
     * dropped, not stored for date: filters to trip over.  Years from the
     * first photograph to far beyond any camera clock. */
    int y, mo, d, h, mi, se;
    if (sscanf(s, "%4d:%2d:%2d%*c%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) != 6 || y < 1826 || y > 2999 ||
        d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 60)
        return;
    snprintf(out, n, "%.4s-%.2s-%.2s %.8s", s, s + 5, s + 8, s + 11);
}

void img_exif_parse(const uint8_t *d, size_t n, img_meta *meta)
{
    if (n > 0xFFFFFFu) return;
    ExifData *ed = exif_data_new();
    if (!ed) return;
    /* We only read: skip libexif's fix-ups, which would invent entries. */
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_load_data(ed, d, (unsigned)n);
    ExifByteOrder bo = exif_data_get_byte_order(ed);

    ExifEntry *en = exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
    if (en && en->format == EXIF_FORMAT_SHORT && en->data && en->size >= 2) {
        int o = exif_get_short(en->data, bo);
        if (o >= 1 && o <= 8) meta->orientation = o;
    }
    char s[128];
    ascii(ed->ifd[EXIF_IFD_EXIF], EXIF_TAG_DATE_TIME_ORIGINAL, s, sizeof s);
    if (!s[0]) ascii(ed->ifd[EXIF_IFD_0], EXIF_TAG_DATE_TIME, s, sizeof s);
    date(s, meta->taken_at, sizeof meta->taken_at);

    char make[64], model[64];
    ascii(ed->ifd[EXIF_IFD_0], EXIF_TAG_MAKE, make, sizeof make);
    ascii(ed->ifd[EXIF_IFD_0], EXIF_TAG_MODEL, model, sizeof model);
    /* Many models repeat the make ("Canon" + "Canon EOS 5D"): say it once. */
    if (make[0] && strncasecmp(model, make, strlen(make)) != 0)
        snprintf(meta->camera, sizeof meta->camera, "%s%s%s", make, model[0] ? " " : "", model);
    else
        snprintf(meta->camera, sizeof meta->camera, "%s", model);

    ExifContent *gps = ed->ifd[EXIF_IFD_GPS];
    if (gps) {
        char lat_ref[8], lon_ref[8];
        ascii(gps, (ExifTag)EXIF_TAG_GPS_LATITUDE_REF, lat_ref, sizeof lat_ref);
        ascii(gps, (ExifTag)EXIF_TAG_GPS_LONGITUDE_REF, lon_ref, sizeof lon_ref);
        double lat = dms(gps, (ExifTag)EXIF_TAG_GPS_LATITUDE, bo);
        double lon = dms(gps, (ExifTag)EXIF_TAG_GPS_LONGITUDE, bo);
        if (lat >= 0 && lat <= 90 && lon >= 0 && lon <= 180) {
            meta->has_gps = 1;
            meta->lat = lat_ref[0] == 'S' ? -lat : lat;
            meta->lon = lon_ref[0] == 'W' ? -lon : lon;
        }
    }
    exif_data_unref(ed);
}
