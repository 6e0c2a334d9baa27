/* half.h — IEEE 754 binary16 ("half") <-> float conversion, for storing
 * feature vectors compactly (the catalogue's features table).
 *
 * float -> half rounds to nearest, ties to even; values beyond the half
 * range become ±infinity, values below it subnormals or ±0; NaN stays NaN
 * (quiet).  half -> float is exact.  Byte order of stored vectors is little
 * endian whatever the host (half_pack_le / half_unpack_le).
 */
#ifndef IMGDEX_BASE_HALF_H
#define IMGDEX_BASE_HALF_H

#include <stddef.h>
#include <stdint.h>

uint16_t half_from_float(float f);
float half_to_float(uint16_t h);
/* n floats -> 2n bytes little endian, and back. */
void half_pack_le(const float *v, size_t n, unsigned char *out);
void half_unpack_le(const unsigned char *in, size_t n, float *v);

#endif
