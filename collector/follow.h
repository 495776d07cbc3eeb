/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * custos verify --follow: the fleet's central store verified as hosts ship
 * into it.  Each pass claims a host that has records and a checkpoint past
 * what is verified (FOR UPDATE SKIP LOCKED, so that several followers share
 * the fleet), replays them with the verifier it keeps for that host since
 * its last pass, and in one transaction writes their access rows (the
 * views' source) and the host's verify_state.  It wakes when ingest
 * notifies, and reports a host whose log has not moved for three of its
 * heartbeats as silent.
 */
#ifndef CUSTOS_FOLLOW_H
#define CUSTOS_FOLLOW_H

struct follow_opts {
	const char *conninfo;  /* the central store, as an administrator or verifier role */
	const char *trust_dir; /* the auditor's trust files: DIR/NAME.vkeys */
};

/*
 * Follow until SIGTERM or SIGINT.  A lost connection is retried with
 * backoff.  Returns 0 when stopped; -EIO when the store could not be read
 * at the start (logged).
 */
int follow__run(const struct follow_opts *o);

#endif /* CUSTOS_FOLLOW_H */
