/* sim/prng.h — the simulator's only source of randomness.
 *
 * Owns: a seeded PRNG (xoshiro256** by Blackman and Vigna, state seeded through
 * SplitMix64) and derived streams: stream k of seed s is independent of every
 * other stream, so adding an actor does not change what the others draw.
 * Must never: read the clock, the environment or any global state.
 */
#ifndef VSIM_PRNG_H
#define VSIM_PRNG_H

#include <stdint.h>

typedef struct vsim_prng {
  uint64_t s[4];
} vsim_prng;

/* Seed stream `stream` of run seed `seed`. */
void vsim_prng_seed(vsim_prng *p, uint64_t seed, uint64_t stream);
uint64_t vsim_prng_next(vsim_prng *p);
/* Uniform in [0, n) without modulo bias; n = 0 returns 0. */
uint64_t vsim_prng_below(vsim_prng *p, uint64_t n);
/* Fill `len` bytes (used for data patterns). */
void vsim_prng_fill(vsim_prng *p, uint8_t *dst, uint64_t len);

#endif
