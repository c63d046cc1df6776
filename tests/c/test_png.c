/* tests/c/test_png.c — the PNG encoder (reports/png.c) and the scanout's
 * pixel formats (reports/scanout_png.c): chunk CRCs, stored deflate blocks
 * across the 65535-byte limit, the zlib header and Adler-32, every format's
 * byte order. (tests/py/test_gpu.py decodes whole files with zlib.) */
#include <stdint.h>
#include <linux/virtio_gpu.h>
#include "png.h"
#include "scanout_png.h"
#include "testutil.h"

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Walk the chunks; check each CRC; return the IDAT payload's offset and length. */
static void walk(const uint8_t *png, size_t len, size_t *idat, uint32_t *idat_len, uint32_t *w, uint32_t *h) {
  size_t i = 8;
  int chunks = 0;
  while (i + 12 <= len) {
    uint32_t n = be32(png + i);
    CHECK(i + 12 + n <= len);
    if (i + 12 + n > len) return;
    CHECK(vsim_png_crc32(png + i + 4, n + 4) == be32(png + i + 8 + n));
    if (!memcmp(png + i + 4, "IHDR", 4)) {
      *w = be32(png + i + 8);
      *h = be32(png + i + 12);
      CHECK(png[i + 16] == 8 && png[i + 17] == 6);
    }
    if (!memcmp(png + i + 4, "IDAT", 4)) {
      *idat = i + 8;
      *idat_len = n;
    }
    chunks++;
    i += 12 + n;
  }
  CHECK(i == len);
  CHECK(chunks == 3);
}

static void test_crc(void) {
  /* the IEND chunk's CRC every PNG ends with */
  CHECK(vsim_png_crc32((const uint8_t *)"IEND", 4) == 0xae426082u);
  CHECK(vsim_png_crc32((const uint8_t *)"123456789", 9) == 0xcbf43926u);
}

/* Encode w x h, then undo the stored blocks and compare with the filter
 * bytes and pixels; check the Adler-32. */
static void roundtrip(uint32_t w, uint32_t h) {
  size_t npx = (size_t)w * h * 4;
  uint8_t *px = malloc(npx);
  for (size_t i = 0; i < npx; i++) px[i] = (uint8_t)(i * 7 + 3);
  size_t len = 0;
  uint8_t *png = vsim_png_encode(px, w, h, &len);
  CHECK(png != NULL);
  if (!png) return;
  CHECK(!memcmp(png, "\x89PNG\r\n\x1a\n", 8));
  size_t at = 0;
  uint32_t n = 0, gw = 0, gh = 0;
  walk(png, len, &at, &n, &gw, &gh);
  CHECK(gw == w && gh == h);
  const uint8_t *z = png + at;
  CHECK(z[0] == 0x78 && ((z[0] << 8) | z[1]) % 31 == 0);
  size_t raw_len = (size_t)(w * 4 + 1) * h, got = 0, p = 2;
  uint8_t *raw = malloc(raw_len);
  int last = 0, blocks = 0;
  while (!last && p + 5 <= n) {
    last = z[p] & 1;
    CHECK((z[p] & 6) == 0); /* stored */
    uint32_t bl = z[p + 1] | (uint32_t)z[p + 2] << 8, nl = z[p + 3] | (uint32_t)z[p + 4] << 8;
    CHECK((bl ^ 0xffffu) == nl);
    CHECK(got + bl <= raw_len);
    if (got + bl > raw_len) break;
    memcpy(raw + got, z + p + 5, bl);
    got += bl;
    p += 5 + bl;
    blocks++;
  }
  CHECK(last && got == raw_len && p + 4 == n);
  CHECK(blocks == (int)((raw_len + 65534) / 65535));
  uint32_t a = 1, b = 0;
  for (size_t i = 0; i < raw_len; i++) {
    a = (a + raw[i]) % 65521;
    b = (b + a) % 65521;
  }
  CHECK(be32(z + p) == (b << 16 | a));
  for (uint32_t y = 0; y < h; y++) {
    CHECK(raw[y * (w * 4 + 1)] == 0);
    CHECK(!memcmp(raw + y * (w * 4 + 1) + 1, px + (size_t)y * w * 4, w * 4));
  }
  free(raw);
  free(png);
  free(px);
}

static void test_refused(void) {
  uint8_t px[4] = {0};
  size_t len = 0;
  CHECK(vsim_png_encode(px, 0, 1, &len) == NULL);
  CHECK(vsim_png_encode(px, 1, 0, &len) == NULL);
  CHECK(vsim_png_encode(NULL, 1, 1, &len) == NULL);
  CHECK(vsim_png_encode(px, 1u << 15, 1u << 14, &len) == NULL); /* 2^29 pixels */
}

static void test_formats(void) {
  const uint8_t src[4] = {0x11, 0x22, 0x33, 0x44};
  static const struct {
    uint32_t fmt;
    uint8_t rgba[4];
  } t[] = {
      {VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, {0x33, 0x22, 0x11, 0x44}},
      {VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, {0x33, 0x22, 0x11, 0xff}},
      {VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, {0x22, 0x33, 0x44, 0x11}},
      {VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, {0x22, 0x33, 0x44, 0xff}},
      {VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, {0x11, 0x22, 0x33, 0x44}},
      {VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, {0x44, 0x33, 0x22, 0xff}},
      {VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, {0x44, 0x33, 0x22, 0x11}},
      {VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, {0x11, 0x22, 0x33, 0xff}},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    uint8_t out[4];
    CHECK(vsim_scanout_to_rgba(t[i].fmt, src, out, 1) == 0);
    CHECK(!memcmp(out, t[i].rgba, 4));
  }
  uint8_t out[4];
  CHECK(vsim_scanout_to_rgba(5, src, out, 1) == -1);
}

int main(void) {
  test_crc();
  roundtrip(1, 1);
  roundtrip(3, 2);
  roundtrip(200, 100); /* 80100 raw bytes: two stored blocks */
  roundtrip(16384, 2); /* a row longer than one block */
  test_refused();
  test_formats();
  TEST_MAIN_END();
}
