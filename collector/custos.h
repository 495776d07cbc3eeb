/* SPDX-License-Identifier: BSD-2-Clause */
/* What the files of the custos command share: its exit statuses (custos.c)
 * and the fleet's commands (fleetcmd.c). */
#ifndef CUSTOS_CUSTOS_H
#define CUSTOS_CUSTOS_H

#include "opts.h"

/* 1 and 3 are custos verify's own (verify.h), which the fleet's commands
 * combine host by host. */
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

/*
 * custos query and report on a central store: each host named (every
 * enrolled one when none is) verified from its central copy with the
 * auditor's trust_dir/NAME.vkeys, and what the replay proved copied into a
 * temporary ledger, which each(ctx, reader, host, trust, summary) reads as
 * it reads any ledger.  A host with tamper evidence is refused (said).
 * Returns the exit status: 1 when a host was refused, else 3 when one could
 * not be read, else 0 (or each's failure as 3).
 */
struct store_reader;
struct verify_summary;
struct fleet_proven_opts {
	const char *cmd; /* "query", "report on": for messages */
	const char *conninfo;
	const char *const *hosts;
	size_t n_hosts;
	const char *trust_dir;
	int (*each)(void *ctx, struct store_reader *rd, const char *host, const char *trust,
		    const struct verify_summary *sum);
	void *ctx;
};
int fleetcmd__each_proven(const struct fleet_proven_opts *o);

#endif /* CUSTOS_CUSTOS_H */
