/* backend-model/daemon.h — a vhost-user back-end daemon that virtio-sim starts
 * and stops itself (`--backend-cmd "CMD ... {socket}"`).
 *
 * Owns: a private temporary directory (mkdtemp), the command line split into
 * words with {socket} (a socket path in that directory) and {dir} (the
 * directory) substituted, the child process (its own process group, killed
 * with its parent by PR_SET_PDEATHSIG, stdin from /dev/null, stdout and
 * stderr to a log in the directory), waiting for the socket to accept a
 * connection, and stopping it: SIGTERM to the group, then SIGKILL, reaped by
 * PID, the directory removed.
 * Must never: run the command through a shell of its own (the user writes
 * `sh -c '...'` when they want one), leave the child running after
 * vsim_daemon_stop, or kill anything but the group it created.
 */
#ifndef VSIM_DAEMON_H
#define VSIM_DAEMON_H

/* The private directories are made under $VSIM_DAEMON_ROOT when it is set
 * (a short path: a unix socket path must stay under 108 bytes), else /tmp.
 * A runner that may SIGKILL the process that started a daemon (conform's
 * per-test timeout) points it at a directory of its own and sweeps that
 * afterwards (vsim_daemon_sweep), so nothing is left behind in /tmp. */
#define VSIM_DAEMON_ROOT_ENV "VSIM_DAEMON_ROOT"


#include <stdbool.h>
#include <sys/types.h>

typedef struct vsim_daemon vsim_daemon;

/* Split `cmd` into words (blanks separate; '...' and "..." quote; \ escapes)
 * and substitute {socket} and {dir} in each. Returns the number of words
 * (argv[n] = NULL), or -1 with a message (unbalanced quote, too many or too
 * long words, no {socket}). Strings are allocated in `store` (cap bytes). */
int vsim_daemon_split(const char *cmd, const char *socket_path, const char *dir, char **argv,
                      int max_words, char *store, size_t cap, char *err, size_t errlen);

/* Start `cmd` and wait up to timeout_ms for its socket to accept. On success
 * *out is the daemon and *sock a connected socket (close-on-exec). -1 with a
 * message (naming the command and the tail of its stderr) otherwise; nothing
 * is left running then. */
int vsim_daemon_start(const char *cmd, int timeout_ms, vsim_daemon **out, int *sock, char *err,
                      size_t errlen);

/* Whether it still runs (reaps it when it has exited), and how it ended:
 * a line such as "exited with status 1" or "killed by signal 6 (Aborted)". */
bool vsim_daemon_alive(vsim_daemon *d, char *how, size_t howlen);

/* The last `cap - 1` bytes of its stdout/stderr log, newlines kept ("" when none). */
void vsim_daemon_log_tail(const vsim_daemon *d, char *buf, size_t cap);

pid_t vsim_daemon_pid(const vsim_daemon *d);
const char *vsim_daemon_socket(const vsim_daemon *d);

/* SIGTERM, up to grace_ms for it to exit, then SIGKILL; reap; remove the
 * directory; free. NULL is fine. */
void vsim_daemon_stop(vsim_daemon *d, int grace_ms);

/* Remove the daemon directories (vsim-vhost-*) under `root`, then root
 * itself when it is empty. */
void vsim_daemon_sweep(const char *root);

#endif
