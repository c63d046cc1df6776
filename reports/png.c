/* reports/png.c — a minimal PNG encoder (see png.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "png.h"

/* Bitwise CRC-32 (reflected polynomial 0xedb88320): no table, so no state;
 * the pictures are small. */
uint32_t vsim_png_crc32(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return c ^ 0xffffffffu;
}

static uint8_t *put32be(uint8_t *o, uint32_t v) {
  o[0] = (uint8_t)(v >> 24);
  o[1] = (uint8_t)(v >> 16);
  o[2] = (uint8_t)(v >> 8);
  o[3] = (uint8_t)v;
  return o + 4;
}

/* A chunk: length, type, data (already at o + 8), CRC over type and data. */
static uint8_t *chunk(uint8_t *o, const char type[4], size_t n) {
  put32be(o, (uint32_t)n);
  memcpy(o + 4, type, 4);
  put32be(o + 8 + n, vsim_png_crc32(o + 4, n + 4));
  return o + 12 + n;
}

#define STORED_MAX 65535u /* the most bytes one stored deflate block holds */

uint8_t *vsim_png_encode(const uint8_t *rgba, uint32_t w, uint32_t h, size_t *len) {
  if (!rgba || w == 0 || h == 0 || (uint64_t)w * h > (UINT64_C(1) << 28)) return NULL;
  uint64_t row = (uint64_t)w * 4 + 1; /* the filter byte (0: none), then the pixels */
  uint64_t raw = row * h;
  uint64_t blocks = (raw + STORED_MAX - 1) / STORED_MAX;
  uint64_t zlen = 2 + raw + 5 * blocks + 4; /* header, blocks, Adler-32 */
  uint64_t total = 8 + (12 + 13) + (12 + zlen) + 12;
  uint8_t *buf = malloc((size_t)total);
  if (!buf) return NULL;
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  uint8_t *o = buf;
  memcpy(o, sig, sizeof sig);
  o += sizeof sig;
  uint8_t *d = o + 8;
  d = put32be(d, w);
  d = put32be(d, h);
  d[0] = 8; /* bit depth */
  d[1] = 6; /* colour type: RGBA */
  d[2] = d[3] = d[4] = 0; /* deflate, adaptive filtering, no interlace */
  o = chunk(o, "IHDR", 13);

  d = o + 8;
  d[0] = 0x78; /* zlib: deflate, 32 KiB window */
  d[1] = 0x01; /* no preset dictionary, fastest; (0x78 << 8 | 0x01) % 31 == 0 */
  d += 2;
  uint32_t a = 1, b = 0; /* Adler-32 of the uncompressed bytes */
  uint64_t left = raw, x = 0; /* x: position in the raw stream */
  while (left > 0) {
    uint32_t n = left < STORED_MAX ? (uint32_t)left : STORED_MAX;
    d[0] = left == n ? 1 : 0; /* BFINAL, BTYPE 00 (stored) */
    d[1] = (uint8_t)n;
    d[2] = (uint8_t)(n >> 8);
    d[3] = (uint8_t)~n;
    d[4] = (uint8_t)(~n >> 8);
    d += 5;
    for (uint32_t i = 0; i < n; i++, x++) {
      uint64_t col = x % row;
      uint8_t v = col == 0 ? 0 : rgba[(x / row) * (row - 1) + (col - 1)];
      *d++ = v;
      a = (a + v) % 65521u;
      b = (b + a) % 65521u;
    }
    left -= n;
  }
  d = put32be(d, b << 16 | a);
  o = chunk(o, "IDAT", (size_t)zlen);
  o = chunk(o, "IEND", 0);
  *len = (size_t)(o - buf);
  return buf;
}

int vsim_png_write(const char *path, const uint8_t *rgba, uint32_t w, uint32_t h) {
  size_t n = 0;
  uint8_t *png = vsim_png_encode(rgba, w, h, &n);
  if (!png) {
    errno = EINVAL;
    return -1;
  }
  FILE *f = fopen(path, "wb");
  if (!f) {
    free(png);
    return -1;
  }
  size_t put = fwrite(png, 1, n, f);
  int rc = fclose(f);
  free(png);
  return put == n && rc == 0 ? 0 : -1;
}
