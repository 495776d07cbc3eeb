// SPDX-License-Identifier: BSD-2-Clause
/* The fleet's central store: its schema and the enrolment of hosts (fleet.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "fleet_sql.h"
#include "log.h"
#include "pg.h"
#include "trust.h"
#include "util.h"

#define TRUST_MAX 4096 /* a trust file is a few hundred bytes */

int fleet__init(const char *conninfo)
{
	PGconn *c = pg__connect(conninfo, NULL);
	PGresult *r = NULL;
	int err = -EIO;

	if (!c)
		return -EIO;
	r = PQexecParams(c, "SELECT 1 FROM pg_namespace WHERE nspname = 'custos'", 0, NULL, NULL,
			 NULL, NULL, 0);
	if (!pg__ok(r, "read the fleet database"))
		goto cleanup;
	if (PQntuples(r)) {
		log_warnx("failed to make the fleet schema: the database has one already");
		err = -EEXIST;
		goto cleanup;
	}
	PQclear(r);
	/* Several statements in one PQexec run in one transaction: all or nothing. */
	r = PQexec(c, fleet_sql);
	if (pg__ok(r, "make the fleet schema"))
		err = 0;
cleanup:
	PQclear(r);
	PQfinish(c);
	return err;
}

/* A role name as custos enrols hosts: what a certificate's CN can carry
 * without quoting, so that pg_hba's cert mapping stays simple. */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 63 || !((*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

/* The trust file's bytes, as pinned. */
static int read_trust(const char *path, char *buf, size_t cap, size_t *len)
{
	FILE *f = fopen(path, "re");
	int err = 0;

	if (!f) {
		err = -errno;
		log_warn("failed to open trust file %s", path);
		return err;
	}
	*len = fread(buf, 1, cap, f);
	if (ferror(f) || *len == cap) {
		log_warnx("failed to read trust file %s: %s", path,
			  ferror(f) ? "read error" : "too large for a trust file");
		err = -EINVAL;
	}
	fclose(f);
	return err;
}

int fleet__enrol(const char *conninfo, const char *name, const char *trust_path)
{
	/* The role is made and granted in the transaction that pins the host. */
	static const char sql[] =
		"DO $$ BEGIN EXECUTE format('CREATE ROLE %I LOGIN', "
		"current_setting('custos.role'));"
		" EXECUTE format('GRANT USAGE ON SCHEMA custos TO %I', "
		"current_setting('custos.role'));"
		" EXECUTE format('GRANT EXECUTE ON FUNCTION custos.ingest(bigint, bytea[], text),"
		" custos.next_seq(), custos.checkpoint_size(), custos.checkpoint_in(bigint, text)"
		" TO %I',"
		" current_setting('custos.role')); END $$";
	char buf[TRUST_MAX];
	const char *params[3];
	int lens[3], formats[3] = { 0, 0, 1 };
	struct trust t;
	size_t len = 0;
	PGconn *c = NULL;
	PGresult *r = NULL;
	int err;

	if (!valid_name(name)) {
		log_warnx("failed to enrol %s: a host's name is a-z, 0-9, _ and -, at most 63, "
			  "starting with a letter or _",
			  name);
		return -EINVAL;
	}
	err = trust__load(trust_path, &t) ?: read_trust(trust_path, buf, sizeof(buf), &len);
	if (err)
		return -EINVAL;
	c = pg__connect(conninfo, NULL);
	if (!c)
		return -EIO;
	err = -EIO;
	params[0] = name;
	params[1] = t.origin;
	params[2] = buf;
	lens[2] = (int)len;
	r = PQexec(c, "BEGIN");
	if (!pg__ok(r, "enrol the host"))
		goto cleanup;
	PQclear(r);
	r = PQexecParams(c,
			 "SELECT 1 FROM custos.host WHERE role = $1 OR origin = $2"
			 " UNION ALL SELECT 1 FROM pg_roles WHERE rolname = $1",
			 2, NULL, params, NULL, NULL, 0);
	if (!pg__ok(r, "enrol the host"))
		goto cleanup;
	if (PQntuples(r)) {
		log_warnx("failed to enrol %s: that role, or the log %s, is enrolled already", name,
			  t.origin);
		err = -EEXIST;
		goto cleanup;
	}
	PQclear(r);
	r = PQexecParams(c, "SELECT set_config('custos.role', $1, true)", 1, NULL, params, NULL,
			 NULL, 0);
	if (!pg__ok(r, "enrol the host"))
		goto cleanup;
	PQclear(r);
	r = PQexec(c, sql);
	if (!pg__ok(r, "enrol the host"))
		goto cleanup;
	PQclear(r);
	r = PQexecParams(
		c,
		"WITH h AS (INSERT INTO custos.host (role, origin, trust) VALUES ($1, $2, $3)"
		" RETURNING id) INSERT INTO custos.head (host) SELECT id FROM h",
		3, NULL, params, lens, formats, 0);
	if (!pg__ok(r, "enrol the host"))
		goto cleanup;
	PQclear(r);
	r = PQexec(c, "COMMIT");
	if (pg__ok(r, "enrol the host"))
		err = 0;
cleanup:
	PQclear(r);
	PQfinish(c);
	return err;
}
