/* tests/c/testutil.h — the tiny assertion kit the C unit tests share.
 * A failing CHECK prints file:line and the expression and counts a failure;
 * TEST_MAIN_END returns non-zero when any check failed.
 */
#ifndef VSIM_TESTUTIL_H
#define VSIM_TESTUTIL_H
#include <stdio.h>
#include <string.h>

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
