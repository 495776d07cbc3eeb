// SPDX-License-Identifier: BSD-2-Clause
/* custos verify --follow (follow.h). */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "central.h"
#include "follow.h"
#include "jsonrec.h"
#include "log.h"
#include "pg.h"
#include "source.h"
#include "trust.h"
#include "util.h"
#include "verify.h"

#define ROUND_RECORDS 20000	  /* a claim's transaction stays short */
#define SEND_BYTES    (256 << 10) /* access rows handed to COPY at once */
#define SILENT_BEATS  3
#define RETRY_MS      2000
#define EXTEND_NS     (3600 * 1000000000LL)

/* A host this process verifies: its verifier lives from pass to pass. */
struct followed {
	int id;
	char *role;
	char *trust;
	struct verify_opts vo;
	struct verifier *v;
	uint64_t heartbeat_ns;
	uint64_t rows_from; /* replayed again from 0: rows exist below this */
	bool no_trust, silent;
};

struct follower {
	const struct follow_opts *o;
	PGconn *c;
	struct followed *hosts;
	size_t n;
	struct followed *cur; /* the host of the pass in progress */
	char *rows;	      /* the pass's access rows not sent yet, as COPY text lines */
	size_t len, cap;
	bool copying;
	char id[16];
};

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	stopping = 1;
}

/* One statement on the follower's connection; NULL after logging. */
static PGresult *exec(struct follower *f, const char *sql, int n, const char *const *params,
		      const char *what)
{
	PGresult *r = PQexecParams(f->c, sql, n, NULL, params, NULL, NULL, 0);

	if (pg__ok(r, what))
		return r;
	PQclear(r);
	return NULL;
}

static bool run_sql(struct follower *f, const char *sql, int n, const char *const *params,
		    const char *what)
{
	PGresult *r = exec(f, sql, n, params, what);

	PQclear(r);
	return r != NULL;
}

static struct followed *host_of(struct follower *f, int id)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->hosts[i].id == id)
			return &f->hosts[i];
	return NULL;
}

/* A host seen for the first time: its trust file, for its verifier and
 * its heartbeat.  Without one it is said once and left unverified. */
static int add_host(struct follower *f, int id, const char *role)
{
	struct followed *p = realloc(f->hosts, (f->n + 1) * sizeof(*p)), *h;
	struct trust t;

	if (!p)
		return -ENOMEM;
	f->hosts = p;
	h = &f->hosts[f->n];
	*h = (struct followed){ .id = id, .role = strdup(role) };
	if (!h->role || asprintf(&h->trust, "%s/%s.vkeys", f->o->trust_dir, role) < 0) {
		free(h->role);
		return -ENOMEM;
	}
	f->n++;
	if (trust__load(h->trust, &t)) {
		log_warnx("%s: not verified: no trust file %s that can be read", role, h->trust);
		h->no_trust = true;
		return 0;
	}
	h->heartbeat_ns = t.heartbeat_ns;
	h->vo = (struct verify_opts){
		.db = f->o->conninfo, .host = h->role, .trust = h->trust, .label = h->role
	};
	return 0;
}

/* Every enrolled host has a verify_state row and is known here. */
static int refresh_hosts(struct follower *f)
{
	PGresult *r;
	int err = 0;

	if (!run_sql(f,
		     "INSERT INTO custos.verify_state (host) SELECT id FROM custos.host"
		     " ON CONFLICT DO NOTHING",
		     0, NULL, "list the enrolled hosts"))
		return -EIO;
	r = exec(f, "SELECT id, role FROM custos.host ORDER BY id", 0, NULL,
		 "list the enrolled hosts");
	if (!r)
		return -EIO;
	for (int i = 0; !err && i < PQntuples(r); i++) {
		int id = atoi(PQgetvalue(r, i, 0));

		if (!host_of(f, id))
			err = add_host(f, id, PQgetvalue(r, i, 1));
	}
	PQclear(r);
	return err;
}

/* What the views show of a GAP, LOSS or ALERT, and a link's or rename's
 * target flags, beyond custos query's JSON of it. */
static json_t *extra_of(const struct record *r)
{
	static const char *const counters[] = {
#define COUNTER_NAME(id, n, name) [n] = name,
		RECORD_LOSS_COUNTERS(COUNTER_NAME)
#undef COUNTER_NAME
	};
	const struct rec_alert *a = &r->alert;
	uint32_t c = r->loss.counter;

	switch (r->type) {
	case REC_GAP:
		return json_pack("{s:s, s:o, s:I, s:I}", "kind", "gap", "reason",
				 jsonrec__text(r->gap.reason.p, r->gap.reason.len), "gap_from_ns",
				 (json_int_t)r->gap.from_ns, "gap_to_ns", (json_int_t)r->gap.to_ns);
	case REC_LOSS:
		return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "kind", "loss", "reason",
				 c < sizeof(counters) / sizeof(*counters) && counters[c]
					 ? counters[c]
					 : "unknown",
				 "cpu", (json_int_t)r->loss.cpu, "counter", (json_int_t)c, "count",
				 (json_int_t)r->loss.count, "total", (json_int_t)r->loss.total);
	case REC_ALERT:
		return json_pack("{s:o, s:I, s:I, s:I, s:o, s:o, s:o}", "summary",
				 jsonrec__text(a->summary.p, a->summary.len), "count",
				 (json_int_t)a->count, "bytes", (json_int_t)a->bytes, "window_ns",
				 (json_int_t)a->window_ns, "person",
				 jsonrec__text(a->person.p, a->person.len), "dataset",
				 jsonrec__text(a->dataset.p, a->dataset.len), "path",
				 jsonrec__text(a->path.p, a->path.len));
	case REC_FILE_ACCESS:
		if (r->access.op == OP_LINK || r->access.op == OP_RENAME)
			return json_pack("{s:I}", "target_flags",
					 (json_int_t)r->access.target_flags);
		return json_null();
	default:
		return json_null();
	}
}

/*
 * The rows so far into custos.access: one COPY a pass, started with its
 * first rows and fed as the replay goes, so that the server stores rows
 * while the replay makes the next ones.
 */
static int send_rows(struct follower *f)
{
	PGresult *r;

	if (!f->len)
		return 0;
	if (!f->copying) {
		r = PQexec(f->c,
			   "COPY custos.access (host, seq, type, time_ns, boot_id, doc, extra)"
			   " FROM STDIN");
		f->copying = PQresultStatus(r) == PGRES_COPY_IN;
		if (!f->copying)
			pg__ok(r, "write access rows");
		PQclear(r);
		if (!f->copying)
			return -EIO;
	}
	f->len = PQputCopyData(f->c, f->rows, (int)f->len) == 1 ? 0 : f->len;
	return f->len ? -EIO : 0;
}

/* End the pass's COPY: with abort, undo it (the pass found tamper evidence). */
static int end_rows(struct follower *f, const char *abort)
{
	PGresult *r;
	int err = abort ? 0 : send_rows(f);
	bool ok;

	f->len = 0;
	if (!f->copying)
		return err;
	f->copying = false;
	ok = PQputCopyEnd(f->c, abort) == 1;
	while ((r = PQgetResult(f->c))) {
		if (ok && !abort)
			ok = pg__ok(r, "write access rows");
		PQclear(r);
	}
	return err ?: ok ? 0 : -EIO;
}

static int put(struct follower *f, const char *p, size_t n)
{
	if (f->len + n > f->cap) {
		size_t cap = f->cap ? f->cap : 1 << 20;
		char *q;

		while (cap < f->len + n)
			cap *= 2;
		q = realloc(f->rows, cap);
		if (!q)
			return -ENOMEM;
		f->rows = q;
		f->cap = cap;
	}
	memcpy(f->rows + f->len, p, n);
	f->len += n;
	return 0;
}

/* JSON as a field of COPY's text form: its backslashes doubled (compact
 * JSON has no raw tab or newline); \N for none.  v is released. */
static int put_json(struct follower *f, json_t *v)
{
	char *text = v && !json_is_null(v) ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	int err = 0;

	if (!v || (!json_is_null(v) && !text)) {
		err = -ENOMEM;
	} else if (!text) {
		err = put(f, "\\N", 2);
	} else {
		for (char *p = text; !err && *p; p++)
			err = *p == '\\' ? put(f, "\\\\", 2) : put(f, p, 1);
	}
	free(text);
	json_decref(v);
	return err;
}

/* custos query's object for r, without its null members: ->> reads a
 * missing key as NULL too, and most of a record's keys are null. */
static json_t *doc_of(const struct record *r, const char *host)
{
	json_t *doc = jsonrec__custos(r, host), *v;
	const char *k;
	void *tmp;

	json_object_foreach_safe(doc, tmp, k, v) if (json_is_null(v)) json_object_del(doc, k);
	return doc;
}

/* Each replayed record: its row, unless an earlier pass wrote it. */
static int each_row(void *ctx, const struct record *r)
{
	struct follower *f = ctx;
	char head[160];
	int n, err;

	if (r->seq < f->cur->rows_from)
		return 0;
	n = snprintf(head, sizeof(head), "%s\t%" PRIu64 "\t%u\t%" PRId64 "\t\\\\x", f->id, r->seq,
		     (unsigned)r->type, jsonrec__time_ns(r));
	util__hex(head + n, r->boot_id, sizeof(r->boot_id));
	n += 2 * (int)sizeof(r->boot_id);
	head[n++] = '\t';
	err = put(f, head, (size_t)n) ?: put_json(f, doc_of(r, f->cur->role)) ?: put(f, "\t", 1)
									?: put_json(f, extra_of(r))
									?: put(f, "\n", 1);
	if (err) {
		log_warnx("failed to make an access row: out of memory");
		return err;
	}
	return f->len >= SEND_BYTES ? send_rows(f) : 0;
}

static const char *const status_names[] = { [VERIFY_OK] = "verified",
					    [VERIFY_TAMPER] = "tamper",
					    [VERIFY_WARNINGS] = "warnings",
					    [VERIFY_ERROR] = "unverified" };

/* The host's state after a pass, in the pass's transaction. */
static bool save_state(struct follower *f, const struct verify_summary *s, int status)
{
	char size[24], sealed[24], tamper[16], warnings[16];
	const char *params[6] = { f->id, size, sealed, status_names[status], tamper, warnings };

	snprintf(size, sizeof(size), "%" PRIu64, s->records);
	snprintf(sealed, sizeof(sealed), "%" PRIu64, s->sealed);
	snprintf(tamper, sizeof(tamper), "%u", s->tamper);
	snprintf(warnings, sizeof(warnings), "%u", s->warnings);
	return run_sql(f,
		       "UPDATE custos.verify_state SET size = $2, sealed = $3, status = $4,"
		       " tamper = $5, warnings = $6, checked = now() WHERE host = $1",
		       6, params, "save the host's verification state");
}

/* Replay the claimed host's next records (inside the claim's transaction). */
static int pass(struct follower *f, struct followed *h, uint64_t size)
{
	struct verify_summary s;
	struct source *src = NULL;
	struct central_range range = { .limit = ROUND_RECORDS, .to_checkpoint = true };
	struct source_spec spec = { .where = f->o->conninfo, .host = h->role, .range = &range };
	int status = VERIFY_ERROR, err;

	if (h->v) {
		verify__follow_summary(h->v, &s);
		/* Another follower moved it on: start this one's replay over. */
		if (s.records != size) {
			verify__follow_close(h->v);
			h->v = NULL;
		}
	}
	if (!h->v) {
		h->v = verify__follow_open(&h->vo);
		if (!h->v)
			return -EIO;
		h->rows_from = size;
	}
	verify__follow_summary(h->v, &s);
	range.from = s.records;
	if (h->rows_from > s.records)
		range.limit = h->rows_from - s.records + ROUND_RECORDS;
	err = source__open(&spec, &src);
	if (!err) {
		f->cur = h;
		status = verify__follow_round(h->v, src, each_row, f);
	}
	source__close(src);
	verify__follow_summary(h->v, &s);
	err = end_rows(f, status == VERIFY_OK || status == VERIFY_WARNINGS ? NULL : "not proved");
	if (status == VERIFY_ERROR || err) {
		verify__follow_close(h->v);
		h->v = NULL;
		return -EIO;
	}
	/* Tamper evidence ends the host's verification: nothing past it is shown. */
	if (status == VERIFY_TAMPER) {
		if (!run_sql(f, "ROLLBACK", 0, NULL, "end a pass") ||
		    !run_sql(f, "BEGIN", 0, NULL, "end a pass"))
			return -EIO;
		s.records = size;
	}
	if (!save_state(f, &s, status))
		return -EIO;
	printf("%s: %" PRIu64 " records verified, %" PRIu64 " sealed, %u tamper findings, %u "
	       "warnings: %s\n",
	       h->role, s.records, s.sealed, s.tamper, s.warnings, status_names[status]);
	fflush(stdout);
	return 0;
}

/*
 * Claim a host with records and a checkpoint past what is verified, and
 * verify them, in one transaction.  1 when a host was claimed, 0 when none
 * is waiting, -EIO.
 */
static int claim(struct follower *f)
{
	PGresult *r;
	struct followed *h;
	int64_t size;
	int err;

	char *ids = malloc(f->n * 12 + 3), *p = ids;
	const char *param = ids;

	if (!ids)
		return -ENOMEM;
	/* Only hosts whose trust file this follower holds: "{1,2,...}". */
	*p++ = '{';
	for (size_t i = 0; i < f->n; i++)
		if (!f->hosts[i].no_trust)
			p += sprintf(p, "%s%d", p > ids + 1 ? "," : "", f->hosts[i].id);
	strcpy(p, "}");
	r = run_sql(f, "BEGIN", 0, NULL, "claim a host")
		    ? exec(f,
			   "SELECT v.host, v.size FROM custos.verify_state v"
			   " JOIN custos.head d ON d.host = v.host"
			   " WHERE v.host = ANY($1::int[]) AND v.status <> 'tamper'"
			   " AND d.next_seq > v.size AND EXISTS (SELECT 1 FROM custos.checkpoint c"
			   " WHERE c.host = v.host AND c.size > v.size)"
			   " ORDER BY v.checked NULLS FIRST LIMIT 1 FOR UPDATE OF v SKIP LOCKED",
			   1, &param, "claim a host")
		    : NULL;
	free(ids);
	if (!r)
		return -EIO;
	h = PQntuples(r) ? host_of(f, atoi(PQgetvalue(r, 0, 0))) : NULL;
	if (h) {
		snprintf(f->id, sizeof(f->id), "%s", PQgetvalue(r, 0, 0));
		util__parse_int(PQgetvalue(r, 0, 1), 0, INT64_MAX, &size);
	}
	PQclear(r);
	if (!h)
		return run_sql(f, "COMMIT", 0, NULL, "claim a host") ? 0 : -EIO;
	err = pass(f, h, (uint64_t)size);
	if (err) {
		run_sql(f, "ROLLBACK", 0, NULL, "end a pass");
		return err;
	}
	return run_sql(f, "COMMIT", 0, NULL, "end a pass") ? 1 : -EIO;
}

/* Hosts whose log has not moved for SILENT_BEATS of their heartbeats. */
static int check_silence(struct follower *f)
{
	PGresult *r = exec(f,
			   "SELECT host, (extract(epoch FROM now() - moved) * 1e9)::bigint,"
			   " to_char(moved AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
			   " FROM custos.head",
			   0, NULL, "read the hosts' heads");
	int err = 0;

	if (!r)
		return -EIO;
	for (int i = 0; !err && i < PQntuples(r); i++) {
		struct followed *h = host_of(f, atoi(PQgetvalue(r, i, 0)));
		int64_t age = 0;
		bool silent;
		const char *params[2] = { PQgetvalue(r, i, 0), NULL };

		if (!h || h->no_trust)
			continue;
		util__parse_int(PQgetvalue(r, i, 1), INT64_MIN, INT64_MAX, &age);
		silent = age > (int64_t)(SILENT_BEATS * h->heartbeat_ns);
		if (silent == h->silent)
			continue;
		h->silent = silent;
		if (silent)
			printf("%s: SILENT: nothing shipped since %s, %d heartbeats of %g s\n",
			       h->role, PQgetvalue(r, i, 2), SILENT_BEATS,
			       (double)h->heartbeat_ns / 1e9);
		else
			printf("%s: shipping again\n", h->role);
		fflush(stdout);
		params[1] = silent ? "true" : "false";
		if (!run_sql(f, "UPDATE custos.verify_state SET silent = $2 WHERE host = $1", 2,
			     params, "save a host's silence"))
			err = -EIO;
	}
	PQclear(r);
	return err;
}

/* Sleep until ingest notifies or a second passes. */
static int wait_notify(struct follower *f)
{
	struct pollfd p = { .fd = PQsocket(f->c), .events = POLLIN };
	PGnotify *n;

	if (poll(&p, 1, 1000) < 0 && errno != EINTR)
		return -EIO;
	if (!PQconsumeInput(f->c))
		return -EIO;
	while ((n = PQnotifies(f->c)))
		PQfreemem(n);
	return 0;
}

static int connect_follower(struct follower *f)
{
	f->c = pg__connect(f->o->conninfo, NULL);
	if (!f->c)
		return -EIO;
	if (!run_sql(f, "LISTEN custos_ingest", 0, NULL, "listen for records"))
		return -EIO;
	return refresh_hosts(f);
}

int follow__run(const struct follow_opts *o)
{
	struct follower f = { .o = o };
	struct sigaction sa = { .sa_handler = on_stop };
	int64_t extended = INT64_MIN / 2;
	int err, rc = 0;
	bool started = false;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stopping) {
		err = f.c ? 0 : connect_follower(&f);
		/* Next month's partitions, made well before records need them. */
		if (!err && util__boottime_ns() - extended > EXTEND_NS) {
			err = run_sql(&f, "SELECT custos.extend_span()", 0, NULL,
				      "add the coming months' partitions")
				      ? 0
				      : -EIO;
			extended = util__boottime_ns();
		}
		if (err && !started) {
			rc = -EIO;
			break;
		}
		started = true;
		while (!err && !stopping && (err = claim(&f)) > 0)
			err = 0;
		err = err ?: refresh_hosts(&f) ?: check_silence(&f) ?: wait_notify(&f);
		if (err) {
			log_warnx("failed to follow the central store: retrying in %d s",
				  RETRY_MS / 1000);
			PQfinish(f.c);
			f.c = NULL;
			util__sleep_ms(RETRY_MS);
		}
	}
	PQfinish(f.c);
	for (size_t i = 0; i < f.n; i++) {
		verify__follow_close(f.hosts[i].v);
		free(f.hosts[i].role);
		free(f.hosts[i].trust);
	}
	free(f.hosts);
	free(f.rows);
	return rc;
}
