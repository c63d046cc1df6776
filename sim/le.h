/* sim/le.h — little-endian loads and stores on byte buffers.
 *
 * Owns: the one definition of how the engine reads and writes the
 * little-endian fields of guest structures it has copied out of (or will copy
 * into) the arena. A big-endian host assembles bytes explicitly; a
 * little-endian one copies them (memcpy: no unaligned access either way), so
 * the engine is right on any host and pays nothing for it on the usual one.
 */
#ifndef VSIM_LE_H
#define VSIM_LE_H

#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* On a little-endian host the guest's byte order is the host's: a memcpy of
 * the field's size is one (unaligned-safe) load or store. Every ring index,
 * descriptor and header of a run comes through here. */
static inline uint16_t vsim_le_ld16(const uint8_t *p) {
  uint16_t v;
  memcpy(&v, p, sizeof v);
  return v;
}
static inline uint32_t vsim_le_ld32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}
static inline uint64_t vsim_le_ld64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return v;
}
static inline void vsim_le_st16(uint8_t *p, uint16_t v) { memcpy(p, &v, sizeof v); }
static inline void vsim_le_st32(uint8_t *p, uint32_t v) { memcpy(p, &v, sizeof v); }
static inline void vsim_le_st64(uint8_t *p, uint64_t v) { memcpy(p, &v, sizeof v); }
#else
static inline uint16_t vsim_le_ld16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t vsim_le_ld32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t vsim_le_ld64(const uint8_t *p) {
  return (uint64_t)vsim_le_ld32(p) | ((uint64_t)vsim_le_ld32(p + 4) << 32);
}
static inline void vsim_le_st16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static inline void vsim_le_st32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void vsim_le_st64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
#endif

#endif
