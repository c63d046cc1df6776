/* tests/c/testutil.h — the tiny assertion kit the C unit tests share.
 * A failing CHECK prints file:line and the expression and counts a failure;
 * TEST_MAIN_END returns non-zero when any check failed.
 */
#ifndef VSIM_TESTUTIL_H
#define VSIM_TESTUTIL_H
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "virtiosim/mutants.h"

/* Tests name mutants as bits of one word (TMUT(A) | TMUT(B)) and turn them
 * into a set where the engine wants one; a mutant past bit 63 stops the test
 * rather than shift out of range. */
static inline uint64_t test_mutbit(int m) {
  if (m < 0 || m >= 64) {
    fprintf(stderr, "test_mutbit: mutant %d is past the first word of vsim_mutset\n", m);
    abort();
  }
  return UINT64_C(1) << m;
}
#define TMUT(m) test_mutbit(VSIM_MUT_##m)
static inline vsim_mutset test_mutset(uint64_t low) {
  vsim_mutset s = VSIM_MUT_NONE;
  s.w[0] = low;
  return s;
}

static int vsim_test_failures;
static int vsim_test_checks;

#define CHECK(expr)                                                        \
  do {                                                                     \
    vsim_test_checks++;                                                    \
    if (!(expr)) {                                                         \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr); \
      vsim_test_failures++;                                                \
    }                                                                      \
  } while (0)

#define CHECK_EQ(a, b)                                                     \
  do {                                                                     \
    long long va_ = (long long)(a), vb_ = (long long)(b);                  \
    vsim_test_checks++;                                                    \
    if (va_ != vb_) {                                                      \
      fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld vs %lld)\n", \
              __FILE__, __LINE__, #a, #b, va_, vb_);                       \
      vsim_test_failures++;                                                \
    }                                                                      \
  } while (0)

#define RUN(fn)                                                            \
  do {                                                                     \
    int before_ = vsim_test_failures;                                      \
    fn();                                                                  \
    printf("%s %s\n", vsim_test_failures == before_ ? "ok  " : "FAIL", #fn); \
  } while (0)

#define TEST_MAIN_END()                                                    \
  do {                                                                     \
    printf("%d checks, %d failures\n", vsim_test_checks, vsim_test_failures); \
    return vsim_test_failures ? 1 : 0;                                     \
  } while (0)
#endif
