/* SPDX-License-Identifier: BSD-2-Clause */
/* What the files of the custos command share: its exit statuses (custos.c)
 * and the fleet's commands (fleetcmd.c). */
#ifndef CUSTOS_CUSTOS_H
#define CUSTOS_CUSTOS_H

#include "opts.h"

#define EXIT_TAMPER 1
#define EXIT_USAGE  2
#define EXIT_IO	    3

/* custos fleet init|enrol, and custos ship. */
extern const struct opts_cmd fleetcmd__fleet_cmd, fleetcmd__ship_cmd;
int fleetcmd__fleet(int argc, char **argv);
int fleetcmd__ship(int argc, char **argv);

/* custos verify --db URL --all --trust-dir DIR: each enrolled host's log
 * verified with DIR/NAME.vkeys, a line each.  Returns verify's status. */
int fleetcmd__verify_all(const char *conninfo, const char *trust_dir);

#endif /* CUSTOS_CUSTOS_H */
