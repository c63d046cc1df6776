/* reports/pcap.c — network traffic as a pcap file (see pcap.h). */
#include "pcap.h"

/* pcap fields are in the writer's byte order, told apart by the magic
 * number; writing them little-endian byte by byte makes the file the same
 * on every host. */
static int put32(FILE *f, uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  return fwrite(b, 1, 4, f) == 4 ? 0 : -1;
}

static int put16(FILE *f, uint16_t v) {
  uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  return fwrite(b, 1, 2, f) == 2 ? 0 : -1;
}

int vsim_pcap_begin(FILE *f) {
  /* magic (microsecond timestamps), version 2.4, GMT offset 0, accuracy 0,
   * snapshot length, link type 1 (LINKTYPE_ETHERNET) */
  return put32(f, 0xa1b2c3d4u) | put16(f, 2) | put16(f, 4) | put32(f, 0) | put32(f, 0) |
         put32(f, VSIM_PCAP_SNAPLEN) | put32(f, 1);
}

int vsim_pcap_frame(FILE *f, uint64_t usec, const uint8_t *frame, uint32_t len) {
  uint32_t cap = len < VSIM_PCAP_SNAPLEN ? len : VSIM_PCAP_SNAPLEN;
  uint64_t sec = usec / 1000000u;
  if (put32(f, (uint32_t)(sec > UINT32_MAX ? UINT32_MAX : sec)) | put32(f, (uint32_t)(usec % 1000000u)) |
      put32(f, cap) | put32(f, len))
    return -1;
  return fwrite(frame, 1, cap, f) == cap ? 0 : -1;
}
