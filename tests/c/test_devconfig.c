/* tests/c/test_devconfig.c — the built-in models' device_config values
 * (backend-model/devconfig.c): decimal only, ranges inclusive, no overflow,
 * and the one message form. */
#include <stdint.h>
#include "testutil.h"
#include "devconfig.h"

static void test_unsigned(void) {
  uint64_t v = 7;
  CHECK(vsim_devcfg_parse_u64("0", 0, 10, &v) && v == 0);
  CHECK(vsim_devcfg_parse_u64("10", 0, 10, &v) && v == 10);
  CHECK(vsim_devcfg_parse_u64("18446744073709551615", 0, UINT64_MAX, &v) && v == UINT64_MAX);
  v = 7;
  /* what strtoull would take and a config must not mean */
  const char *bad[] = {"", "-1", "+5", " 5", "5 ", "0x10", "1e3", "18446744073709551616", "99999999999999999999", NULL};
  for (int i = 0; bad[i]; i++) CHECK(!vsim_devcfg_parse_u64(bad[i], 0, UINT64_MAX, &v));
  CHECK(!vsim_devcfg_parse_u64(NULL, 0, 1, &v));
  CHECK(!vsim_devcfg_parse_u64("11", 0, 10, &v));
  CHECK(!vsim_devcfg_parse_u64("4", 5, 10, &v));
  CHECK_EQ(v, 7); /* untouched on refusal */
}

static void test_signed(void) {
  int64_t v = 7;
  CHECK(vsim_devcfg_parse_i64("-1", -1, 3, &v) && v == -1);
  CHECK(vsim_devcfg_parse_i64("3", -1, 3, &v) && v == 3);
  CHECK(vsim_devcfg_parse_i64("-9223372036854775808", INT64_MIN, 0, &v) && v == INT64_MIN);
  CHECK(vsim_devcfg_parse_i64("9223372036854775807", 0, INT64_MAX, &v) && v == INT64_MAX);
  v = 7;
  const char *bad[] = {"-", "--1", "-+1", "+1", " -1", "9223372036854775808", "-9223372036854775809", "-2", "4", NULL};
  for (int i = 0; bad[i]; i++) CHECK(!vsim_devcfg_parse_i64(bad[i], -1, 3, &v));
  CHECK_EQ(v, 7);
}

static void test_messages(void) {
  char err[256] = "";
  uint64_t u;
  int64_t i;
  bool b = false;
  CHECK_EQ(vsim_devcfg_u64("blk", "capacity", "-1", 0, 8, &u, err, sizeof err), -1);
  CHECK(strcmp(err, "blk: device_config \"capacity\" = \"-1\": expected a decimal integer in [0, 8]") == 0);
  CHECK_EQ(vsim_devcfg_i64("console", "console_port", "x", -1, 31, &i, err, sizeof err), -1);
  CHECK(strcmp(err, "console: device_config \"console_port\" = \"x\": expected a decimal integer in [-1, 31]") == 0);
  CHECK_EQ(vsim_devcfg_bool("gpu", "edid", NULL, &b, err, sizeof err), -1);
  CHECK(strcmp(err, "gpu: device_config \"edid\" = \"(null)\": expected true or false") == 0);
  CHECK_EQ(vsim_devcfg_bool("gpu", "edid", "true", &b, err, sizeof err), 0);
  CHECK(b);
  CHECK_EQ(vsim_devcfg_bool("gpu", "edid", "True", &b, NULL, 0), -1); /* no message asked for: none written */
}

int main(void) {
  RUN(test_unsigned);
  RUN(test_signed);
  RUN(test_messages);
  TEST_MAIN_END();
}
