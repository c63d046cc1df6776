/* backend-model/daemon.c — starting and stopping a back-end daemon (see daemon.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "daemon.h"

#define DAEMON_MAX_WORDS 128
#define DAEMON_STORE 8192

struct vsim_daemon {
  pid_t pid;
  bool reaped;
  int status;
  char dir[128];
  char socket_path[160];
  char log_path[160];
};

static int64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
  struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0 && errno == EINTR) {
  }
}

int vsim_daemon_split(const char *cmd, const char *socket_path, const char *dir, char **argv,
                      int max_words, char *store, size_t cap, char *err, size_t errlen) {
  int n = 0;
  size_t used = 0;
  bool has_socket = false;
  const char *p = cmd;
  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == '\n') p++;
    if (!*p) break;
    if (n + 1 >= max_words) {
      snprintf(err, errlen, "the daemon command has more than %d words", max_words - 1);
      return -1;
    }
    char *word = store + used;
    char quote = 0;
    /* one word: up to an unquoted blank */
    while (*p && (quote || (*p != ' ' && *p != '\t' && *p != '\n'))) {
      const char *ins = NULL;
      size_t skip = 1;
      char ch = *p;
      if (quote == '\'' ) {
        if (ch == '\'') { quote = 0; p++; continue; }
      } else if (ch == '\\' && p[1] && quote != '\'') {
        ch = p[1];
        skip = 2;
      } else if (!quote && (ch == '\'' || ch == '"')) {
        quote = ch;
        p++;
        continue;
      } else if (quote == '"' && ch == '"') {
        quote = 0;
        p++;
        continue;
      }
      /* placeholders are substituted inside quotes too: a user quoting a
       * whole `sh -c '...'` still gets the path */
      if (skip == 1 && strncmp(p, "{socket}", 8) == 0) {
        ins = socket_path;
        skip = 8;
        has_socket = true;
      } else if (skip == 1 && strncmp(p, "{dir}", 5) == 0) {
        ins = dir;
        skip = 5;
      }
      size_t len = ins ? strlen(ins) : 1;
      if (used + len + 1 >= cap) {
        snprintf(err, errlen, "the daemon command is too long");
        return -1;
      }
      if (ins) memcpy(store + used, ins, len);
      else store[used] = ch;
      used += len;
      p += skip;
    }
    if (quote) {
      snprintf(err, errlen, "the daemon command has an unbalanced %c quote", quote);
      return -1;
    }
    if (used >= cap) { /* an empty word ('') after a full buffer: no room for its end */
      snprintf(err, errlen, "the daemon command is too long");
      return -1;
    }
    store[used++] = 0;
    argv[n++] = word;
  }
  argv[n] = NULL;
  if (n == 0) {
    snprintf(err, errlen, "the daemon command is empty");
    return -1;
  }
  if (!has_socket) {
    snprintf(err, errlen, "the daemon command must contain {socket} (where it listens; virtio-sim "
                          "chooses the path)");
    return -1;
  }
  return n;
}

static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    char path[512];
    while ((e = readdir(d))) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path); /* a subdirectory the daemon made stays: never recurse into unknowns */
    }
    closedir(d);
  }
  rmdir(dir);
}

void vsim_daemon_sweep(const char *root) {
  DIR *d = opendir(root);
  if (d) {
    struct dirent *e;
    char path[512];
    while ((e = readdir(d))) {
      if (strncmp(e->d_name, "vsim-vhost-", 11) != 0) continue;
      snprintf(path, sizeof path, "%s/%s", root, e->d_name);
      remove_dir(path);
    }
    closedir(d);
  }
  rmdir(root);
}

void vsim_daemon_log_tail(const vsim_daemon *d, char *buf, size_t cap) {
  buf[0] = 0;
  if (!d || cap < 2) return;
  int fd = open(d->log_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  off_t end = lseek(fd, 0, SEEK_END);
  off_t from = end > (off_t)(cap - 1) ? end - (off_t)(cap - 1) : 0;
  ssize_t n = pread(fd, buf, cap - 1, from);
  close(fd);
  buf[n > 0 ? n : 0] = 0;
}

static void describe(int status, char *how, size_t howlen) {
  if (WIFSIGNALED(status))
    snprintf(how, howlen, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
  else
    snprintf(how, howlen, "exited with status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

bool vsim_daemon_alive(vsim_daemon *d, char *how, size_t howlen) {
  if (how && howlen) how[0] = 0;
  if (!d) return false;
  if (!d->reaped) {
    pid_t r = waitpid(d->pid, &d->status, WNOHANG);
    if (r == d->pid) d->reaped = true;
    else if (r < 0 && errno == ECHILD) {
      d->reaped = true;
      d->status = 0;
    }
  }
  if (d->reaped && how) describe(d->status, how, howlen);
  return !d->reaped;
}

pid_t vsim_daemon_pid(const vsim_daemon *d) { return d ? d->pid : -1; }
const char *vsim_daemon_socket(const vsim_daemon *d) { return d ? d->socket_path : ""; }

/* In the child: never returns. */
static void child_exec(char **argv, const char *log_path, pid_t parent) {
  setpgid(0, 0); /* its own group: a terminal's ^C reaches us, and we stop it */
  /* dies with the process that started it, even when that one is SIGKILLed
   * (a conform worker that timed out): nothing is left running */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127); /* the parent died before prctl */
  int in = open("/dev/null", O_RDONLY);
  int log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
  if (in < 0 || log < 0) _exit(127);
  dup2(in, 0);
  dup2(log, 1);
  dup2(log, 2);
  /* only 0-2: the worker's result pipe, the engine's memfd and sockets stay ours */
  for (int fd = 3; fd < 4096; fd++) close(fd);
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execvp(argv[0], argv);
  dprintf(2, "virtio-sim: cannot run %s: %s\n", argv[0], strerror(errno));
  _exit(127);
}

static int try_connect(const char *path) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  size_t n = strlen(path);
  if (n >= sizeof sa.sun_path) {
    close(s);
    return -1;
  }
  memcpy(sa.sun_path, path, n + 1);
  if (connect(s, (struct sockaddr *)&sa, sizeof sa) == 0) return s;
  close(s);
  return -1;
}

int vsim_daemon_start(const char *cmd, int timeout_ms, vsim_daemon **out, int *sock, char *err,
                      size_t errlen) {
  *out = NULL;
  *sock = -1;
  vsim_daemon *d = calloc(1, sizeof *d);
  char *store = malloc(DAEMON_STORE);
  char **argv = calloc(DAEMON_MAX_WORDS, sizeof *argv);
  if (!d || !store || !argv) {
    snprintf(err, errlen, "out of memory");
    free(d);
    free(store);
    free(argv);
    return -1;
  }
  /* /tmp, not $TMPDIR: a unix socket path must stay under 108 bytes */
  const char *root = getenv(VSIM_DAEMON_ROOT_ENV);
  if (!root || !root[0] || strlen(root) > 48) root = "/tmp";
  snprintf(d->dir, sizeof d->dir, "%s/vsim-vhost-XXXXXX", root);
  if (!mkdtemp(d->dir)) {
    snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
    free(d);
    free(store);
    free(argv);
    return -1;
  }
  snprintf(d->socket_path, sizeof d->socket_path, "%s/vhost-user.sock", d->dir);
  snprintf(d->log_path, sizeof d->log_path, "%s/daemon.log", d->dir);
  int rc = -1;
  if (vsim_daemon_split(cmd, d->socket_path, d->dir, argv, DAEMON_MAX_WORDS, store, DAEMON_STORE, err,
                        errlen) < 0)
    goto fail;
  fflush(NULL);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, errlen, "fork: %s", strerror(errno));
    goto fail;
  }
  if (pid == 0) child_exec(argv, d->log_path, parent);
  setpgid(pid, pid); /* also here: no window in which a stop would miss the group */
  d->pid = pid;
  int64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    int s = try_connect(d->socket_path);
    if (s >= 0) {
      *sock = s;
      rc = 0;
      break;
    }
    char how[96];
    if (!vsim_daemon_alive(d, how, sizeof how)) {
      char tail[512];
      vsim_daemon_log_tail(d, tail, sizeof tail);
      snprintf(err, errlen, "the back-end daemon (%s) %s before listening on %s; its output: %s", argv[0],
               how, d->socket_path, tail[0] ? tail : "(none)");
      break;
    }
    if (now_ms() >= deadline) {
      char tail[512];
      vsim_daemon_log_tail(d, tail, sizeof tail);
      snprintf(err, errlen, "the back-end daemon (%s, pid %d) did not listen on %s within %d ms; its output: %s",
               argv[0], (int)pid, d->socket_path, timeout_ms, tail[0] ? tail : "(none)");
      break;
    }
    sleep_ms(10);
  }
fail:
  free(store);
  free(argv);
  if (rc) {
    vsim_daemon_stop(d, 200);
    return -1;
  }
  *out = d;
  return 0;
}

void vsim_daemon_stop(vsim_daemon *d, int grace_ms) {
  if (!d) return;
  if (d->pid > 0 && vsim_daemon_alive(d, NULL, 0)) {
    kill(-d->pid, SIGTERM);
    int64_t deadline = now_ms() + grace_ms;
    while (vsim_daemon_alive(d, NULL, 0) && now_ms() < deadline) sleep_ms(5);
    if (vsim_daemon_alive(d, NULL, 0)) {
      kill(-d->pid, SIGKILL);
      while (!d->reaped && waitpid(d->pid, &d->status, 0) < 0 && errno == EINTR) {
      }
      d->reaped = true;
    }
  }
  /* the group may have more members than the leader (a `sh -c` that forked) */
  if (d->pid > 0) kill(-d->pid, SIGKILL);
  remove_dir(d->dir);
  free(d);
}
