/* sim/cmd_coverage.h — `virtio-sim coverage`: which normative sections the
 * check catalog covers. */
#ifndef VSIM_CMD_COVERAGE_H
#define VSIM_CMD_COVERAGE_H

/* Handles argv[1] == "coverage"; returns the exit status, or -1 when argv[1]
 * is another command. */
int vsim_cli_coverage_command(int argc, char **argv);

#endif
