// SPDX-License-Identifier: BSD-2-Clause
/* One host's log in the fleet's central store, for a replay (central.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "central.h"
#include "log.h"
#include "pg.h"
#include "util.h"

struct central {
	PGconn *c;
	PGresult *row; /* the record last given */
	uint64_t head;
	struct checkpoint_list checkpoints;
	uint8_t buf[RECORD_MAX];
};

bool central__is_url(const char *s)
{
	return pg__is_conninfo(s);
}

/* One statement's rows, or NULL after logging "failed to what: ...". */
static PGresult *query(PGconn *c, const char *sql, const char *param, const char *what)
{
	PGresult *r = PQexecParams(c, sql, param ? 1 : 0, NULL, &param, NULL, NULL, 0);

	if (pg__ok(r, what))
		return r;
	PQclear(r);
	return NULL;
}

static int load_checkpoints(struct central *c, const char *id)
{
	PGresult *r = query(
		c->c, "SELECT size, note FROM custos.checkpoint WHERE host = $1 ORDER BY size", id,
		"read the host's checkpoints");
	int64_t size;
	int err = 0;

	if (!r)
		return -EIO;
	for (int i = 0; !err && i < PQntuples(r); i++) {
		if (util__parse_int(PQgetvalue(r, i, 0), 0, INT64_MAX, &size))
			err = -EIO;
		else
			err = checkpoint__list_add(&c->checkpoints, (uint64_t)size,
						   PQgetvalue(r, i, 1),
						   (size_t)PQgetlength(r, i, 1));
	}
	if (err)
		log_warnx("failed to read the host's checkpoints: %s",
			  err == -ENOMEM ? "out of memory" : "a size is no number");
	PQclear(r);
	return err;
}

/* The host's id and head, then its checkpoints, then the records' stream,
 * all in one snapshot. */
static int start(struct central *c, const char *host, const struct central_range *range)
{
	char from[24], to[24];
	const char *params[3] = { NULL, from, to };
	uint64_t end;
	PGresult *r = query(c->c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL,
			    "read the central store");
	char id[24];
	int64_t head;
	int err = -EIO;

	if (!r)
		return -EIO;
	PQclear(r);
	r = query(c->c,
		  "SELECT h.id, d.next_seq FROM custos.host h JOIN custos.head d ON d.host = h.id"
		  " WHERE h.role = $1",
		  host, "read the central store");
	if (!r)
		return -EIO;
	if (PQntuples(r) != 1) {
		log_warnx("failed to read host %s from the central store: no such host is enrolled",
			  host);
		err = -ENOENT;
		goto cleanup;
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(r, 0, 0));
	if (util__parse_int(PQgetvalue(r, 0, 1), 0, INT64_MAX, &head))
		goto cleanup;
	c->head = (uint64_t)head;
	err = load_checkpoints(c, id);
	if (err)
		goto cleanup;
	end = range->to_checkpoint
		      ? (c->checkpoints.n ? c->checkpoints.at[c->checkpoints.n - 1].size : 0)
		      : (uint64_t)INT64_MAX;
	if (range->limit && end - range->from > range->limit)
		end = range->from + range->limit;
	snprintf(from, sizeof(from), "%" PRIu64, range->from);
	snprintf(to, sizeof(to), "%" PRIu64, end < range->from ? range->from : end);
	params[0] = id;
	/* Row by row, in binary: memory stays flat whatever the log's length. */
	if (!PQsendQueryParams(c->c,
			       "SELECT body FROM custos.record WHERE host = $1 AND seq >= $2"
			       " AND seq < $3 ORDER BY seq",
			       3, NULL, params, NULL, NULL, 1) ||
	    !PQsetSingleRowMode(c->c)) {
		log_warnx("failed to read the host's records: %s",
			  strtok(PQerrorMessage(c->c), "\n"));
		err = -EIO;
	}
cleanup:
	PQclear(r);
	return err;
}

int central__open(const char *conninfo, const char *host, const struct central_range *range,
		  struct central **out)
{
	static const struct central_range all = { 0 };
	struct central *c = calloc(1, sizeof(*c));
	int err = -ENOMEM;

	if (!c) {
		log_warnx("failed to read the central store: out of memory");
		return -ENOMEM;
	}
	c->c = pg__connect(conninfo, NULL);
	err = c->c ? start(c, host, range ? range : &all) : -EIO;
	if (err) {
		central__close(c);
		return err;
	}
	*out = c;
	return 0;
}

const struct checkpoint_list *central__checkpoints(const struct central *c)
{
	return &c->checkpoints;
}

uint64_t central__head(const struct central *c)
{
	return c->head;
}

int central__next(struct central *c, struct record *r, const uint8_t **bytes, size_t *len)
{
	ExecStatusType s;
	int n;

	PQclear(c->row);
	c->row = PQgetResult(c->c);
	s = PQresultStatus(c->row);
	if (s == PGRES_TUPLES_OK) {
		/* The end: drain to the query's last result. */
		PQclear(c->row);
		while ((c->row = PQgetResult(c->c)))
			PQclear(c->row);
		return 0;
	}
	if (s != PGRES_SINGLE_TUPLE) {
		pg__ok(c->row, "read the host's records");
		return -EIO;
	}
	n = PQgetlength(c->row, 0, 0);
	if (n > RECORD_MAX)
		return -EBADMSG;
	/* A copy: the readahead keeps r, which points into it, past this row. */
	memcpy(c->buf, PQgetvalue(c->row, 0, 0), (size_t)n);
	if (record__decode(r, c->buf, (size_t)n))
		return -EBADMSG;
	*bytes = c->buf;
	*len = (size_t)n;
	return 1;
}

void central__close(struct central *c)
{
	if (!c)
		return;
	PQclear(c->row);
	PQfinish(c->c);
	checkpoint__list_free(&c->checkpoints);
	free(c);
}

int central__hosts(const char *conninfo, char ***names, size_t *n)
{
	PGconn *c = pg__connect(conninfo, NULL);
	PGresult *r = c ? query(c, "SELECT role FROM custos.host ORDER BY role", NULL,
				"list the enrolled hosts")
			: NULL;
	int err = r ? 0 : -EIO;

	*names = NULL;
	*n = 0;
	if (r) {
		*names = calloc((size_t)PQntuples(r) + 1, sizeof(**names));
		for (int i = 0; *names && i < PQntuples(r); i++) {
			(*names)[i] = strdup(PQgetvalue(r, i, 0));
			if (!(*names)[i])
				break;
			(*n)++;
		}
		if (*n != (size_t)PQntuples(r)) {
			log_warnx("failed to list the enrolled hosts: out of memory");
			err = -ENOMEM;
		}
	}
	PQclear(r);
	PQfinish(c);
	return err;
}

void central__free_hosts(char **names, size_t n)
{
	for (size_t i = 0; i < n && names; i++)
		free(names[i]);
	free(names);
}
