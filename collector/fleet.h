/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fleet's central evidence store on PostgreSQL (sql/fleet.sql): made
 * once by an administrator, who then enrols each host.  A host's role can
 * only call the store's ingest functions; what it may send is decided
 * there, under the host's row lock.
 */
#ifndef CUSTOS_FLEET_H
#define CUSTOS_FLEET_H

/* The SQLSTATEs of the ingest functions' refusals: both are tamper
 * evidence, never retried. */
#define FLEET_EQUIVOCATION "CU001" /* a record or checkpoint held differs from the one sent */
#define FLEET_GAP	   "CU002" /* a batch that does not start at the head or chain */

/* Make the central schema in the database conninfo names (a URI or a
 * libpq connection string), in one transaction.  Returns 0; -EEXIST when
 * it is made already; -EIO when the server cannot be reached or refuses.
 * The reason has been logged once. */
int fleet__init(const char *conninfo);

/*
 * Enrol the host whose trust file is trust_path under the login role name:
 * its origin and trust file are pinned, its head starts at seq 0, and the
 * role may execute the ingest functions and nothing else.  The role is
 * created without a password (the server authenticates hosts by client
 * certificate).  Returns 0; -EEXIST when the role or the origin is
 * enrolled already; -EINVAL for a bad name or trust file; -EIO.  Logged.
 */
int fleet__enrol(const char *conninfo, const char *name, const char *trust_path);

#endif /* CUSTOS_FLEET_H */
