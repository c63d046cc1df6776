/* sim/cmd_conform.h — `virtio-sim conform` (see cmd_conform.c). */
#ifndef VSIM_CMD_CONFORM_H
#define VSIM_CMD_CONFORM_H

/* Handles argv[1] == "conform"; returns the exit status, or -1 when argv[1]
 * is another command. */
int vsim_cli_conform_command(int argc, char **argv);

#endif
