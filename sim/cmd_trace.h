/* sim/cmd_trace.h — the `replay`, `show` and `minimize` commands of the CLI.
 *
 * Owns: their argument parsing, output and exit status. sim/cli.c's main
 * dispatches to it first: `int r = vsim_cli_trace_command(argc, argv);
 * if (r >= 0) return r;`.
 */
#ifndef VSIM_CMD_TRACE_H
#define VSIM_CMD_TRACE_H

/* Handle argv[1] in {"replay", "show", "minimize"}: returns the exit status
 * (0 success, 1 divergence / check does not fire, 2 usage, malformed trace or
 * scenario); -1 when argv[1] is none of them. */
int vsim_cli_trace_command(int argc, char **argv);

#endif
