/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The few libpq habits every fleet command shares: how a connection is
 * made (with the caller's defaults, which the operator's connection string
 * overrides), and how a failed result is reported once.
 */
#ifndef CUSTOS_PG_H
#define CUSTOS_PG_H

#include <libpq-fe.h>
#include <stdbool.h>

/*
 * Connect to the database conninfo names (a postgresql:// URI or a libpq
 * connection string).  defaults is a NULL-terminated list of keyword,
 * value pairs applied first, so that conninfo may override each of them.
 * Returns the connection, or NULL after logging "failed to connect to the
 * fleet database: reason" once.
 */
PGconn *pg__connect(const char *conninfo, const char *const *defaults);

/* Whether r is a success; else "failed to what: the server's message" is
 * logged once. */
bool pg__ok(PGresult *r, const char *what);

/* Log "failed to what: the connection's message" once: for a call that
 * failed before the server answered. */
void pg__conn_failed(PGconn *c, const char *what);

/* Whether r failed with the SQLSTATE state. */
bool pg__state_is(const PGresult *r, const char *state);

/* Whether the text names a PostgreSQL database (a postgresql:// or
 * postgres:// URI, or a connection string of keyword=value pairs) rather
 * than a ledger file. */
bool pg__is_conninfo(const char *s);

#endif /* CUSTOS_PG_H */
