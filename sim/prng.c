/* sim/prng.c — xoshiro256** seeded by SplitMix64 (see prng.h). */
#include "prng.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

void vsim_prng_seed(vsim_prng *p, uint64_t seed, uint64_t stream) {
  /* mix the stream number in through a second SplitMix64 round so that
   * streams k and k+1 of one seed do not share a state prefix */
  uint64_t x = seed;
  uint64_t salt = splitmix64(&x) ^ (stream * UINT64_C(0xD1B54A32D192ED03));
  x = salt;
  for (int i = 0; i < 4; i++) p->s[i] = splitmix64(&x);
  if ((p->s[0] | p->s[1] | p->s[2] | p->s[3]) == 0) p->s[0] = 1; /* never all-zero */
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t vsim_prng_next(vsim_prng *p) {
  uint64_t *s = p->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint64_t vsim_prng_below(vsim_prng *p, uint64_t n) {
  if (n == 0) return 0;
  /* rejection sampling: draw until below the largest multiple of n */
  uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
  for (;;) {
    uint64_t r = vsim_prng_next(p);
    if (r < limit) return r % n;
  }
}

void vsim_prng_fill(vsim_prng *p, uint8_t *dst, uint64_t len) {
  uint64_t i = 0;
  while (i < len) {
    uint64_t r = vsim_prng_next(p);
    for (int k = 0; k < 8 && i < len; k++, i++) dst[i] = (uint8_t)(r >> (8 * k));
  }
}
