/* sim/le.h — little-endian loads and stores on byte buffers.
 *
 * Owns: the one definition of how the engine reads and writes the
 * little-endian fields of guest structures it has copied out of (or will copy
 * into) the arena. Assembling bytes explicitly keeps the engine right on any
 * host and free of unaligned accesses.
 */
#ifndef VSIM_LE_H
#define VSIM_LE_H

#include <stdint.h>

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
