/* reports/png.h — a minimal PNG encoder for pictures (the GPU scanout).
 *
 * Owns: writing an 8-bit RGBA image as a PNG file: signature, IHDR, one IDAT
 * holding a zlib stream of stored (uncompressed) deflate blocks, IEND, with
 * the CRC-32 and Adler-32 the format asks for. No zlib, no libpng: the
 * pictures are small and a stored stream is exact and deterministic.
 * Must never: write a file that a PNG reader rejects, or read past `rgba`.
 */
#ifndef VSIM_PNG_H
#define VSIM_PNG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Encode w x h pixels (4 bytes each, R G B A, row-major) into a malloc'd
 * buffer; *len its size. NULL when w or h is 0, too large (more than 2^28
 * pixels) or out of memory. */
uint8_t *vsim_png_encode(const uint8_t *rgba, uint32_t w, uint32_t h, size_t *len);
/* Encode and write to `path`; 0 or -1 (errno set by the failing call). */
int vsim_png_write(const char *path, const uint8_t *rgba, uint32_t w, uint32_t h);
/* The CRC-32 of PNG chunks (ISO 3309 / ITU-T V.42), for tests. */
uint32_t vsim_png_crc32(const uint8_t *p, size_t n);

#endif
