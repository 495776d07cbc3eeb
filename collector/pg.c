// SPDX-License-Identifier: BSD-2-Clause
/* The fleet commands' libpq habits (pg.h). */
#include <string.h>

#include "log.h"
#include "pg.h"

#define PG_DEFAULTS_MAX 16

/* The server's notices ("terminating connection due to ...") in custos' own
 * form, one line each. */
static void notice(void *ctx, const char *msg)
{
	log_info("the fleet database says: %.*s", (int)strcspn(msg, "\n"), msg);
}

PGconn *pg__connect(const char *conninfo, const char *const *defaults)
{
	const char *keys[PG_DEFAULTS_MAX + 2], *vals[PG_DEFAULTS_MAX + 2];
	size_t n = 0;
	PGconn *c;

	for (; defaults && defaults[2 * n] && n < PG_DEFAULTS_MAX; n++) {
		keys[n] = defaults[2 * n];
		vals[n] = defaults[2 * n + 1];
	}
	/* libpq applies keywords in order and expands this last one, so the
	 * operator's string wins over each default. */
	keys[n] = "dbname";
	vals[n] = conninfo;
	keys[n + 1] = vals[n + 1] = NULL;
	c = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(c) == CONNECTION_OK) {
		PQsetNoticeProcessor(c, notice, NULL);
		return c;
	}
	/* libpq's messages end in a newline and may run to several lines. */
	log_warnx("failed to connect to the fleet database: %s",
		  c ? strtok(PQerrorMessage(c), "\n") : "out of memory");
	PQfinish(c);
	return NULL;
}

bool pg__ok(PGresult *r, const char *what)
{
	ExecStatusType s = PQresultStatus(r);
	char *msg;

	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return true;
	msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	log_warnx("failed to %s: %s", what, msg ? msg : "no answer from the server");
	return false;
}

void pg__conn_failed(PGconn *c, const char *what)
{
	const char *msg = c ? PQerrorMessage(c) : "";

	if (!*msg)
		msg = "the connection failed";
	/* libpq's messages end with a newline, and may hold several lines. */
	log_warnx("failed to %s: %.*s", what, (int)strcspn(msg, "\n"), msg);
}

bool pg__state_is(const PGresult *r, const char *state)
{
	const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	return s && !strcmp(s, state);
}

bool pg__is_conninfo(const char *s)
{
	size_t k = strspn(s, "abcdefghijklmnopqrstuvwxyz_");

	return !strncmp(s, "postgresql://", 13) || !strncmp(s, "postgres://", 11) ||
	       (k && s[k + strspn(s + k, " ")] == '=');
}
