/* date.c — calendar arithmetic shared by EXIF reading and the query parser,
 * so that a date the catalogue stores is one the query language accepts. */
#include "base/base.h"

int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12) return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days[m - 1] + (m == 2 && leap);
}
