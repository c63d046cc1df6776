/* bench/bench_blk.c — the engine's speed and what the modelled mechanisms buy.
 *
 * Owns: the figures `make bench` prints and writes to out/bench.json:
 *  - throughput: simulated requests per second for blk (512-byte reads and
 *    writes) and a null-device stand-in (blk FLUSH: a header and a status
 *    byte, no data, nothing for the device to do), split and packed rings,
 *    queue size 256, batch 1 / 16 / 256 (driver_batch = device_batch),
 *    checkers on and off; each beside a baseline measured in the same run:
 *    a minimal hand-rolled single-threaded split ring doing the same
 *    round trips in the same batches (driver add -> device pop -> device
 *    push -> driver reap), built with the same compiler and flags;
 *  - the scenario load cost per step (kept apart from the run);
 *  - replay: recorded events re-run and compared per second;
 *  - fuzz: executions per second of the libFuzzer targets, when built
 *    (the ring targets, the scenario loader, the blk parser and the four
 *    device request targets of net, gpu, console and input);
 *  - peak RSS of a 10,000- and a 1,000,000-request run, each in a fresh
 *    process (getrusage of the child): it must not grow with the run;
 *  - the mechanisms (batching, interrupt coalescing, polling, zero-copy),
 *    per ring layout: kicks, interrupts, virtual-time latency and bytes
 *    copied per request: deterministic figures, the same on every machine;
 *    and a chart of kicks and interrupts per request across batch sizes
 *    (out/bench-notify.svg).
 * Times are read here, in the benchmark, never in the engine: throughput as
 * this thread's CPU time (best of REPS; the machine may be shared, and time
 * this thread did not run is not the engine's), the rest as wall time.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "chart.h"
#include "replay.h"
#include "virtiosim/virtiosim.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The time throughput figures are measured in: this thread's CPU time, so
 * that other work on a shared machine (the time this thread was not running)
 * does not count; the engine and the baseline are measured alike. */
static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- baseline: a split ring with nothing around it ---- */

typedef struct bdesc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags, next;
} bdesc;

#define BQ 256
typedef struct bring {
  bdesc desc[BQ];
  uint16_t avail_idx, avail_ring[BQ];
  uint16_t used_idx;
  struct {
    uint32_t id, len;
  } used_ring[BQ];
  /* driver and device private state */
  uint16_t free_head, last_avail, last_used;
  uint16_t next_free[BQ];
} bring;

/* n round trips, `batch` at a time: the driver adds `batch` chains and
 * publishes once, the device pops and pushes them and publishes once, the
 * driver reaps them. Returns a sum the compiler cannot drop. */
static uint64_t baseline_round_trips(uint64_t n, unsigned batch) {
  static bring r;
  memset(&r, 0, sizeof r);
  for (int i = 0; i < BQ; i++) r.next_free[i] = (uint16_t)((i + 1) % BQ);
  volatile uint64_t sink = 0;
  for (uint64_t done = 0; done < n; done += batch) {
    /* driver add */
    uint16_t aidx = r.avail_idx;
    for (unsigned k = 0; k < batch; k++) {
      uint16_t head = r.free_head;
      r.free_head = r.next_free[head];
      r.desc[head] = (bdesc){0x1000 + head * 512u, 512, 2, 0};
      r.avail_ring[aidx++ % BQ] = head;
    }
    __atomic_store_n(&r.avail_idx, aidx, __ATOMIC_RELEASE);
    /* device pop + push */
    uint16_t seen = __atomic_load_n(&r.avail_idx, __ATOMIC_ACQUIRE), uidx = r.used_idx;
    while (r.last_avail != seen) {
      uint16_t h = r.avail_ring[r.last_avail++ % BQ];
      bdesc d = r.desc[h];
      r.used_ring[uidx % BQ].id = h;
      r.used_ring[uidx % BQ].len = d.len;
      uidx++;
    }
    __atomic_store_n(&r.used_idx, uidx, __ATOMIC_RELEASE);
    /* driver reap */
    uint16_t used = __atomic_load_n(&r.used_idx, __ATOMIC_ACQUIRE);
    while (r.last_used != used) {
      uint32_t id = r.used_ring[r.last_used % BQ].id;
      sink += r.used_ring[r.last_used % BQ].len;
      r.last_used++;
      r.next_free[id] = r.free_head;
      r.free_head = (uint16_t)id;
    }
  }
  return sink;
}

static double baseline_rps(unsigned batch) {
  const uint64_t n = 20000000;
  double best = 1e9;
  for (int r = 0; r < 5; r++) {
    double t0 = cpu_s();
    baseline_round_trips(n, batch);
    double t = cpu_s() - t0;
    if (t < best) best = t;
  }
  return (double)n / best;
}

/* ---- scenarios ---- */

enum { DEV_BLK, DEV_NULL };
#define BODY 256 /* requests per pass: one ring's worth */

/* `passes` passes over a body of `body` requests and a wait. blk: 512-byte
 * writes and reads of the same sectors in turn (every read is compared with
 * the driver's shadow of the disk); null: FLUSH, which carries no data and
 * asks nothing of the device but a status byte. `extra` adds top-level
 * fields (a trailing comma included). */
static char *make_scenario(int dev, const char *ring, unsigned body, uint64_t passes, const char *extra) {
  size_t cap = 1024 + (size_t)body * 96;
  char *s = malloc(cap);
  if (!s) exit(2);
  size_t n = (size_t)snprintf(s, cap,
                              "{\"name\":\"bench-%s\",\"device\":\"blk\",\"queue_size\":256,\"ring\":\"%s\","
                              "\"max_steps\":1000000000,\"repeat\":%" PRIu64 ",%s\"steps\":[",
                              dev == DEV_NULL ? "null" : "blk", ring, passes, extra);
  for (unsigned i = 0; i < body; i++) {
    if (dev == DEV_NULL)
      n += (size_t)snprintf(s + n, cap - n, "{\"op\":\"blk.flush\"},");
    else
      n += (size_t)snprintf(s + n, cap - n, "{\"op\":\"blk.%s\",\"sector\":%u,%s},", i % 2 ? "read" : "write",
                            i / 2, i % 2 ? "\"len\":512" : "\"data\":{\"fill\":7,\"len\":512}");
  }
  snprintf(s + n, cap - n, "{\"op\":\"wait\"}],\"expect\":{\"violations\":[],\"completed\":%" PRIu64 "}}",
           passes * body);
  return s;
}

/* virtio-net transmit: `frames` 60-byte broadcast frames behind a zeroed
 * 12-byte header on transmitq1, after (coal) a NOTF_COAL_TX_SET through the
 * control queue asking for one notification per `count` packets or `usecs`
 * units of virtual time. The interrupts per request are what the driver's
 * command buys (issue #9). */
static char *make_net_scenario(const char *ring, unsigned frames, bool coal, unsigned count, unsigned usecs) {
  size_t cap = 1024 + (size_t)frames * 256;
  char *s = malloc(cap);
  if (!s) exit(2);
  size_t n = (size_t)snprintf(s, cap,
                              "{\"name\":\"bench-net\",\"device\":\"net\",\"queue_size\":256,\"ring\":\"%s\","
                              "\"max_steps\":100000000,\"steps\":[",
                              ring);
  if (coal) /* class 6 (NOTF_COAL), command 0 (TX_SET), le32 max_packets, le32 max_usecs; then the ack */
    n += (size_t)snprintf(s + n, cap - n,
                          "{\"op\":\"req.raw\",\"queue\":2,\"data\":\"0600%02x%02x%02x%02x%02x%02x%02x%02x\",\"len\":1,"
                          "\"expect_reply\":[{\"name\":\"ack\",\"offset\":0,\"width\":1,\"value\":0}]},"
                          "{\"op\":\"wait\"},",
                          count & 0xff, (count >> 8) & 0xff, (count >> 16) & 0xff, count >> 24, usecs & 0xff,
                          (usecs >> 8) & 0xff, (usecs >> 16) & 0xff, usecs >> 24);
  for (unsigned i = 0; i < frames; i++) {
    n += (size_t)snprintf(s + n, cap - n, "{\"op\":\"req.raw\",\"queue\":1,\"data\":\"%024d%s%s0806", 0,
                          "ffffffffffff", "525400123456");
    for (unsigned k = 0; k < 46; k++) n += (size_t)snprintf(s + n, cap - n, "%02x", (i + k) & 0xff);
    n += (size_t)snprintf(s + n, cap - n, "\"},");
  }
  snprintf(s + n, cap - n, "{\"op\":\"wait\"}],\"expect\":{\"violations\":[],\"completed\":%u}}",
           frames + (coal ? 1 : 0));
  return s;
}

static char *batch_fields(unsigned batch, const char *more) {
  char *s = malloc(256);
  if (!s) exit(2);
  snprintf(s, 256, "\"driver_batch\":%u,\"device_batch\":%u,%s", batch, batch, more ? more : "");
  return s;
}

typedef struct engine_fig {
  double seconds;      /* the run only */
  double load_seconds; /* parsing and building the simulation */
  uint64_t steps, hash;
  vsim_counters c;
  int rc;
} engine_fig;

static engine_fig run_engine(const char *json, bool checkers, const char *trace_path) {
  vsim_options opt;
  memset(&opt, 0, sizeof opt);
  opt.checkers_off = !checkers;
  opt.trace_path = trace_path;
  char err[512];
  engine_fig f;
  memset(&f, 0, sizeof f);
  double t0 = now_s();
  vsim_sim *s = vsim_sim_load_buffer(json, strlen(json), "bench", &opt, err, sizeof err);
  if (!s) {
    fprintf(stderr, "bench: %s\n", err);
    exit(2);
  }
  double t1 = now_s(), c1 = cpu_s();
  f.rc = vsim_sim_run(s);
  f.seconds = cpu_s() - c1;
  f.load_seconds = t1 - t0;
  f.steps = vsim_sim_steps(s);
  f.hash = vsim_sim_trace_hash(s);
  vsim_sim_counters(s, &f.c);
  if (f.rc)
    for (size_t i = 0; i < vsim_sim_failure_count(s); i++)
      fprintf(stderr, "bench: %s: %s\n", vsim_sim_name(s), vsim_sim_failure(s, i));
  vsim_sim_free(s);
  return f;
}

/* ---- throughput ---- */

#define REPS 7
#define PASSES 80 /* 80 x 256 = 20480 requests per run */
static const unsigned batches[] = {1, 16, 256};
#define NB (sizeof batches / sizeof batches[0])

typedef struct tp_row {
  int dev;
  const char *ring;
  unsigned batch;
  double rps_on, rps_off, base_rps;
  uint64_t requests, events, steps;
} tp_row;

static engine_fig best_of(const char *json, bool checkers) {
  engine_fig best;
  best.seconds = 1e9;
  for (int r = 0; r < REPS; r++) {
    engine_fig f = run_engine(json, checkers, NULL);
    if (f.rc) {
      fprintf(stderr, "bench: the scenario's expectations failed\n");
      exit(1);
    }
    if (f.seconds < best.seconds) best = f;
  }
  return best;
}

static void throughput(tp_row *rows, size_t *nrows, const double *base) {
  static const char *rings[] = {"split", "packed"};
  *nrows = 0;
  for (int dev = DEV_BLK; dev <= DEV_NULL; dev++)
    for (int ri = 0; ri < 2; ri++)
      for (size_t b = 0; b < NB; b++) {
        char *extra = batch_fields(batches[b], NULL);
        char *json = make_scenario(dev, rings[ri], BODY, PASSES, extra);
        engine_fig on = best_of(json, true), off = best_of(json, false);
        tp_row *r = &rows[(*nrows)++];
        r->dev = dev;
        r->ring = rings[ri];
        r->batch = batches[b];
        r->requests = on.c.completed;
        r->events = on.c.events;
        r->steps = on.steps;
        r->rps_on = (double)on.c.completed / on.seconds;
        r->rps_off = (double)off.c.completed / off.seconds;
        r->base_rps = base[b];
        free(json);
        free(extra);
      }
}

/* ---- replay ---- */

typedef struct replay_fig {
  uint64_t events;
  double load_s, run_s;
  int rc;
} replay_fig;

static replay_fig replay_bench(void) {
  replay_fig rf;
  memset(&rf, 0, sizeof rf);
  const char *path = "out/bench-replay.jsonl";
  char *extra = batch_fields(1, NULL);
  char *json = make_scenario(DEV_BLK, "split", BODY, 20, extra);
  engine_fig rec = run_engine(json, true, path);
  free(json);
  free(extra);
  if (rec.rc) {
    rf.rc = -1;
    return rf;
  }
  char err[1024];
  vsim_trace_file t;
  double t0 = now_s();
  if (vsim_trace_file_load(path, &t, err, sizeof err)) {
    fprintf(stderr, "bench: %s\n", err);
    rf.rc = -1;
    return rf;
  }
  double t1 = now_s();
  vsim_replay *r = vsim_replay_new(&t, NULL, false, err, sizeof err);
  if (!r) {
    fprintf(stderr, "bench: %s\n", err);
    vsim_trace_file_free(&t);
    rf.rc = -1;
    return rf;
  }
  rf.rc = vsim_replay_finish(r);
  double t2 = now_s();
  rf.events = vsim_replay_event_count(r);
  rf.load_s = t1 - t0;
  rf.run_s = t2 - t1;
  vsim_replay_free(r);
  vsim_trace_file_free(&t);
  remove(path);
  return rf;
}

/* ---- fuzz targets, when built (make fuzz-build) ---- */

static const char *const fuzz_targets[] = {"fuzz_split_device",  "fuzz_packed_device",  "fuzz_scenario",
                                           "fuzz_blk_request",   "fuzz_net_request",    "fuzz_gpu_request",
                                           "fuzz_console_request", "fuzz_input_request"};
#define NFUZZ (sizeof fuzz_targets / sizeof fuzz_targets[0])
#define FUZZ_SECONDS 3

/* Executions per second of one target over its seed corpus and then
 * mutations, for FUZZ_SECONDS of wall time; -1 when not built or it failed. */
static double fuzz_rate(const char *target, uint64_t *runs_out) {
  char bin[256], cmd[1024];
  snprintf(bin, sizeof bin, "build/fuzz/%s", target);
  struct stat st;
  if (stat(bin, &st) != 0) return -1;
  /* -runs= alone would make the time depend on the machine's load; a time
   * bound keeps the bench's total time bounded instead. libFuzzer adds what
   * it finds to the first corpus directory it is given: a scratch one, so
   * that the seed corpus in the repository stays as it is. */
  char scratch[] = "/tmp/vsim-bench-fuzz-XXXXXX";
  if (!mkdtemp(scratch)) return -1;
  snprintf(cmd, sizeof cmd,
           "%s -max_total_time=%d -seed=1 -print_final_stats=1 -artifact_prefix=%s/ %s fuzz/corpus/%s 2>&1", bin,
           FUZZ_SECONDS, scratch, scratch, target);
  double t0 = now_s();
  FILE *p = popen(cmd, "r");
  if (!p) {
    rmdir(scratch);
    return -1;
  }
  char line[512];
  uint64_t execs = 0;
  while (fgets(line, sizeof line, p))
    sscanf(line, "stat::number_of_executed_units: %" SCNu64, &execs);
  int st_code = pclose(p);
  double t = now_s() - t0;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
  if (system(cmd) != 0) fprintf(stderr, "bench: could not remove %s\n", scratch);
  if (st_code != 0 || execs == 0) return -1;
  *runs_out = execs;
  return (double)execs / t;
}

/* ---- peak RSS, in a fresh process ---- */

/* The child: one run of `requests` requests (checkers on, no trace), nothing
 * printed; its exit status says whether the run passed. */
static int rss_child(uint64_t requests) {
  char *json = make_scenario(DEV_BLK, "split", 250, requests / 250, "");
  engine_fig f = run_engine(json, true, NULL);
  free(json);
  return f.rc ? 1 : 0;
}

/* Peak RSS (KiB) of a fresh process doing a run of `requests`; -1 on error. */
static long rss_of(uint64_t requests, double *seconds) {
  char arg[32];
  snprintf(arg, sizeof arg, "%" PRIu64, requests);
  char *argv[] = {"bench_blk", "--rss-child", arg, NULL};
  double t0 = now_s();
  /* a fresh image (exec), so that the child's peak is its run's alone, not
   * the pages it would share with this process after fork */
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    execv("/proc/self/exe", argv);
    _exit(127);
  }
  int status;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  *seconds = now_s() - t0;
  return ru.ru_maxrss;
}

/* ---- the mechanisms: deterministic figures ---- */

typedef struct mode {
  const char *name;
  const char *fields; /* top-level scenario fields, trailing comma included */
} mode;

static const mode modes[] = {
    {"notifications, batch 1", ""},
    {"batch 16", "\"driver_batch\":16,\"device_batch\":16,"},
    {"batch 256", "\"driver_batch\":256,\"device_batch\":256,"},
    {"irq coalescing 16 / 64t", "\"device_irq_coalesce\":{\"count\":16,\"time\":64},"},
    {"batch 16 + coalescing 64 / 64t",
     "\"driver_batch\":16,\"device_batch\":16,\"device_irq_coalesce\":{\"count\":64,\"time\":64},"},
    {"device polls every 16t", "\"device_poll\":16,\"device_batch\":256,"},
    {"device + driver poll", "\"device_poll\":16,\"device_batch\":256,\"driver_poll\":true,"},
    {"copy mode (zero_copy off)", "\"device_config\":{\"zero_copy\":false},"},
};
#define NMODES (sizeof modes / sizeof modes[0])

typedef struct mode_fig {
  double kicks, irqs, latency, copied, events, steps;
} mode_fig;

#define MODE_PASSES 4

static mode_fig measure_mode(const char *fields, const char *ring) {
  char *json = make_scenario(DEV_BLK, ring, BODY, MODE_PASSES, fields);
  engine_fig f = run_engine(json, true, NULL);
  free(json);
  mode_fig m;
  memset(&m, 0, sizeof m);
  if (f.rc || f.c.completed == 0) {
    fprintf(stderr, "bench: mode \"%s\" (%s) failed its expectations\n", fields, ring);
    exit(1);
  }
  double n = (double)f.c.completed;
  m.kicks = (double)f.c.kicks / n;
  m.irqs = (double)f.c.interrupts / n;
  m.latency = (double)f.c.latency_total / n;
  m.copied = f.c.bytes_moved ? (double)f.c.bytes_copied / (double)f.c.bytes_moved : 0;
  m.events = (double)f.c.events / n;
  m.steps = (double)f.steps / n;
  return m;
}

/* Copy the JSON object in `path` (one written by another bench program of
 * this run) into f as member `key`; nothing when it is missing. */
static void fold_json(FILE *f, const char *key, const char *path) {
  FILE *cf = fopen(path, "r");
  if (!cf) return;
  char buf[8192];
  size_t n = fread(buf, 1, sizeof buf - 1, cf);
  fclose(cf);
  while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) n--;
  buf[n] = '\0';
  if (n && buf[0] == '{' && buf[n - 1] == '}') fprintf(f, ",\"%s\":%s", key, buf);
}

/* virtio-net: the coalescing a driver asks for through the control queue
 * (NOTF_COAL_TX_SET), against none; deterministic figures. */
static void net_coal_table(void) {
  static const char *rings[] = {"split", "packed"};
  printf("\nnet notifications coalescing (deterministic: 256 transmitted frames, queue size 256, scripted, "
         "checkers on)\n");
  printf("  %-42s %-6s %10s %10s\n", "mode", "ring", "irqs/req", "kicks/req");
  for (int c = 0; c < 2; c++)
    for (int r = 0; r < 2; r++) {
      char *json = make_net_scenario(rings[r], 256, c == 1, 16, 64);
      engine_fig f = run_engine(json, true, NULL);
      free(json);
      if (f.rc || f.c.completed == 0) {
        fprintf(stderr, "bench: net coalescing (%s) failed its expectations\n", rings[r]);
        exit(1);
      }
      printf("  %-42s %-6s %10.4f %10.4f\n", c ? "NOTF_COAL_TX_SET 16 / 64t (control queue)" : "no coalescing",
             rings[r], (double)f.c.interrupts / (double)f.c.completed, (double)f.c.kicks / (double)f.c.completed);
    }
  printf("  irqs/req over every request: the frames and, with coalescing, the command that set it\n");
}

static const double chart_batches[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
#define NCB (sizeof chart_batches / sizeof chart_batches[0])

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--rss-child") == 0) return rss_child(strtoull(argv[2], NULL, 10));
  if (argc == 2 && strcmp(argv[1], "--net-coal") == 0) { /* that table alone */
    net_coal_table();
    return 0;
  }
  mkdir("out", 0777);

  /* baselines, one per batch size */
  double base[NB];
  for (size_t b = 0; b < NB; b++) base[b] = baseline_rps(batches[b]);

  /* the load cost of a scenario, per step (parsing and validation) */
  char *legacy = make_scenario(DEV_BLK, "split", 1000, 1, "");
  engine_fig lf = run_engine(legacy, true, NULL);
  free(legacy);

  tp_row rows[2 * 2 * NB];
  size_t nrows;
  throughput(rows, &nrows, base);

  printf("virtio-sim bench: simulated requests per CPU second (queue size 256, mmio, scripted, %u requests per "
         "run, best of %u)\n",
         BODY * PASSES, REPS);
  printf("  blk: 512-byte writes and reads in turn; null: blk FLUSH (header + status, no data) standing in for a "
         "null device\n");
  printf("  %-6s %-6s %5s %13s %13s %13s %9s %9s %11s\n", "device", "ring", "batch", "checkers on", "checkers off",
         "baseline", "ratio on", "ratio off", "events/req");
  for (size_t i = 0; i < nrows; i++) {
    const tp_row *r = &rows[i];
    printf("  %-6s %-6s %5u %13.0f %13.0f %13.0f %9.5f %9.5f %11.1f\n", r->dev == DEV_NULL ? "null" : "blk", r->ring,
           r->batch, r->rps_on, r->rps_off, r->base_rps, r->rps_on / r->base_rps, r->rps_off / r->base_rps,
           (double)r->events / (double)r->requests);
  }
  printf("  scenario load (jansson, validation): %.2f us per step\n", 1e6 * lf.load_seconds / 1001);

  replay_fig rf = replay_bench();
  if (rf.rc == 0)
    printf("  replay: %" PRIu64 " events, %.0f events/s (reading the trace %.0f events/s, re-running and comparing "
           "%.0f events/s)\n",
           rf.events, (double)rf.events / (rf.load_s + rf.run_s), (double)rf.events / rf.load_s,
           (double)rf.events / rf.run_s);
  else
    printf("  replay: FAILED\n");

  double fuzz[NFUZZ];
  uint64_t fuzz_runs[NFUZZ] = {0};
  bool any_fuzz = false;
  for (size_t i = 0; i < NFUZZ; i++) {
    fuzz[i] = fuzz_rate(fuzz_targets[i], &fuzz_runs[i]);
    any_fuzz |= fuzz[i] > 0;
  }
  if (!any_fuzz) {
    printf("  fuzz: no target built under build/fuzz/ (make fuzz-build): execs/s not measured\n");
  } else {
    for (size_t i = 0; i < NFUZZ; i++)
      if (fuzz[i] > 0)
        printf("  fuzz %-22s %10.0f execs/s (%" PRIu64 " runs in %d s, ASan+UBSan+libFuzzer build)\n",
               fuzz_targets[i], fuzz[i], fuzz_runs[i], FUZZ_SECONDS);
      else
        printf("  fuzz %-22s not built or failed\n", fuzz_targets[i]);
  }

  double t10k = 0, t1m = 0;
  long rss10k = rss_of(10000, &t10k), rss1m = rss_of(1000000, &t1m);
  printf("  peak RSS (fresh process, checkers on, no trace): 10,000 requests %ld KiB, 1,000,000 requests %ld KiB "
         "(%.1f s)\n",
         rss10k, rss1m, t1m);

  /* the mechanisms */
  static const char *rings[] = {"split", "packed"};
  mode_fig mf[NMODES][2];
  for (size_t m = 0; m < NMODES; m++)
    for (int r = 0; r < 2; r++) mf[m][r] = measure_mode(modes[m].fields, rings[r]);
  printf("\nmechanisms (deterministic: %u blk requests of 512 B, queue size 256, scripted, checkers on)\n",
         BODY * MODE_PASSES);
  printf("  %-32s %-6s %10s %10s %12s %12s %10s\n", "mode", "ring", "kicks/req", "irqs/req", "latency/req",
         "copied/byte", "events/req");
  for (size_t m = 0; m < NMODES; m++)
    for (int r = 0; r < 2; r++)
      printf("  %-32s %-6s %10.4f %10.4f %12.2f %12.4f %10.2f\n", modes[m].name, rings[r], mf[m][r].kicks,
             mf[m][r].irqs, mf[m][r].latency, mf[m][r].copied, mf[m][r].events);
  printf("  latency: virtual time from submission to completion; copied/byte: bytes through the device's own\n"
         "  buffers per request byte moved between guest memory and the device\n");

  net_coal_table();

  /* the chart: kicks and interrupts per request across batch sizes */
  double ck[2][NCB], ci[2][NCB], cc[NCB];
  for (size_t i = 0; i < NCB; i++) {
    char f[128];
    snprintf(f, sizeof f, "\"driver_batch\":%u,\"device_batch\":%u,", (unsigned)chart_batches[i],
             (unsigned)chart_batches[i]);
    for (int r = 0; r < 2; r++) {
      mode_fig x = measure_mode(f, rings[r]);
      ck[r][i] = x.kicks;
      ci[r][i] = x.irqs;
    }
    snprintf(f, sizeof f, "\"driver_batch\":%u,\"device_batch\":%u,\"device_irq_coalesce\":{\"count\":64,\"time\":64},",
             (unsigned)chart_batches[i], (unsigned)chart_batches[i]);
    cc[i] = measure_mode(f, "split").irqs;
  }
  bench_series series[] = {
      {"kicks, split", "#1f77b4", false, ck[0]},          {"interrupts, split", "#d62728", false, ci[0]},
      {"kicks, packed", "#1f77b4", true, ck[1]},          {"interrupts, packed", "#d62728", true, ci[1]},
      {"interrupts, split, coalescing 64 / 64t", "#2ca02c", false, cc},
  };
  bench_chart chart = {"Notifications per request across batch sizes (blk, queue size 256)",
                       "kicks and interrupts coincide, and so do the split and packed rings: one of each per batch",
                       "batch size (driver_batch = device_batch)",
                       "per request (log scale)",
                       chart_batches,
                       NCB,
                       series,
                       sizeof series / sizeof series[0],
                       0.001};
  int svg_rc = bench_chart_svg(&chart, "out/bench-notify.svg");
  printf("  chart: %s\n", svg_rc == 0 ? "out/bench-notify.svg" : "could not write out/bench-notify.svg");

  FILE *f = fopen("out/bench.json", "w");
  if (f) {
    fprintf(f, "{\"requests_per_run\":%u,\"best_of\":%u,\"throughput\":[", BODY * PASSES, REPS);
    for (size_t i = 0; i < nrows; i++) {
      const tp_row *r = &rows[i];
      fprintf(f,
              "%s{\"device\":\"%s\",\"ring\":\"%s\",\"batch\":%u,\"rps_checkers_on\":%.0f,\"rps_checkers_off\":%.0f,"
              "\"baseline_rps\":%.0f,\"ratio_on\":%.6f,\"ratio_off\":%.6f,\"events_per_request\":%.2f,"
              "\"steps_per_request\":%.3f}",
              i ? "," : "", r->dev == DEV_NULL ? "null" : "blk", r->ring, r->batch, r->rps_on, r->rps_off,
              r->base_rps, r->rps_on / r->base_rps, r->rps_off / r->base_rps, (double)r->events / (double)r->requests,
              (double)r->steps / (double)r->requests);
    }
    fprintf(f, "],\"load_us_per_step\":%.3f,", 1e6 * lf.load_seconds / 1001);
    fprintf(f, "\"replay\":{\"ok\":%s,\"events\":%" PRIu64 ",\"events_per_s\":%.0f,\"load_s\":%.4f,\"run_s\":%.4f},",
            rf.rc == 0 ? "true" : "false", rf.events,
            rf.rc == 0 ? (double)rf.events / (rf.load_s + rf.run_s) : 0.0, rf.load_s, rf.run_s);
    fprintf(f, "\"fuzz_execs_per_s\":{");
    bool first = true;
    for (size_t i = 0; i < NFUZZ; i++)
      if (fuzz[i] > 0) {
        fprintf(f, "%s\"%s\":%.0f", first ? "" : ",", fuzz_targets[i], fuzz[i]);
        first = false;
      }
    fprintf(f, "},\"peak_rss_kib\":{\"requests_10000\":%ld,\"requests_1000000\":%ld},", rss10k, rss1m);
    fprintf(f, "\"mechanisms\":[");
    for (size_t m = 0; m < NMODES; m++)
      for (int r = 0; r < 2; r++)
        fprintf(f,
                "%s{\"mode\":\"%s\",\"ring\":\"%s\",\"kicks_per_request\":%.6f,\"interrupts_per_request\":%.6f,"
                "\"latency_per_request\":%.4f,\"bytes_copied_per_byte\":%.6f,\"events_per_request\":%.4f}",
                m || r ? "," : "", modes[m].name, rings[r], mf[m][r].kicks, mf[m][r].irqs, mf[m][r].latency,
                mf[m][r].copied, mf[m][r].events);
    fprintf(f, "],\"notify_chart\":{\"batch\":[");
    for (size_t i = 0; i < NCB; i++) fprintf(f, "%s%g", i ? "," : "", chart_batches[i]);
    const char *names[] = {"kicks_split", "interrupts_split", "kicks_packed", "interrupts_packed",
                           "interrupts_split_coalesced"};
    const double *vals[] = {ck[0], ci[0], ck[1], ci[1], cc};
    fprintf(f, "]");
    for (int s = 0; s < 5; s++) {
      fprintf(f, ",\"%s\":[", names[s]);
      for (size_t i = 0; i < NCB; i++) fprintf(f, "%s%.6f", i ? "," : "", vals[s][i]);
      fprintf(f, "]");
    }
    fprintf(f, "}");
    /* the conformance and vhost-user timings, when bench_conform and
     * bench_vhost ran first (make bench) */
    fold_json(f, "conform", "out/bench_conform.json");
    fold_json(f, "vhost_user", "out/bench_vhost.json");
    fprintf(f, "}\n");
    fclose(f);
  }
  return rf.rc == 0 && rss10k > 0 && rss1m > 0 && svg_rc == 0 ? 0 : 1;
}
