// SPDX-License-Identifier: BSD-2-Clause
/* custos ship: the ledger into the fleet's central store (ship.h). */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet.h"
#include "log.h"
#include "pg.h"
#include "record.h"
#include "ship.h"
#include "store.h"
#include "util.h"

#define BYTEA_OID	17
#define BYTEA_ARRAY_OID 1001
#define INT8_OID	20
#define TEXT_OID	25
#define ARRAY_HDR_LEN	20  /* ndim, flags, element type, length, lower bound */
#define IDLE_MS		200 /* a record waits at most this long once written */
#define BACKOFF_MIN_MS	200
#define BACKOFF_MAX_MS	30000
#define NOTE_MAX	4096
/* Batches in flight: the next one is read from the ledger and sent while the
 * server stores the one before (libpq's pipeline mode), so that the ledger's
 * reading and the server's work overlap instead of taking turns. */
#define SHIP_DEPTH 2

/* Without tcp_user_timeout a cut link blocks on TCP retransmission for
 * minutes; with these a dead server is noticed in seconds.  TLS with the
 * server's name checked is the default; the operator's string may say
 * otherwise. */
static const char *const ship_defaults[] = {
	"sslmode",
	"verify-full",
	"connect_timeout",
	"5",
	"keepalives",
	"1",
	"keepalives_idle",
	"5",
	"keepalives_interval",
	"2",
	"keepalives_count",
	"2",
	"tcp_user_timeout",
	"3000",
	"application_name",
	"custos-ship",
	NULL,
};

struct shipper {
	const struct ship_opts *o;
	struct store_reader *rd;
	struct store_records *recs;
	PGconn *c;
	uint64_t held;	 /* the server's next seq for this host */
	uint64_t sent;	 /* the next seq to send: held, plus what is in flight */
	int64_t cp_sent; /* the last checkpoint sent (the server's, plus in flight), -1 */
	int64_t cp_size; /* the ledger's next checkpoint past cp_sent, -1 for none */
	char note[NOTE_MAX];
	/* The seq each batch sent and not answered yet ends at, oldest first. */
	uint64_t flight[SHIP_DEPTH];
	unsigned n_flight;
	uint8_t *arr; /* the batch: a bytea[] in PostgreSQL's binary array form */
	size_t len, cap;
	uint32_t n;
	unsigned backoff_ms;
	bool ledger_read; /* a step has read the ledger: a later failure is retried */
};

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	stopping = 1;
}

static int open_ledger(struct shipper *s)
{
	if (s->rd)
		return 0;
	if (store__open_reader(s->o->ledger, &s->rd))
		return -EIO;
	s->recs = store__records_open(s->rd);
	return s->recs ? 0 : -EIO;
}

/* Closed while idle: a reader of a stopped ledger is immutable and would
 * not see what a restarted custosd writes. */
static void close_ledger(struct shipper *s)
{
	store__records_close(s->recs);
	store__reader_close(s->rd);
	s->recs = NULL;
	s->rd = NULL;
}

/* What is in flight is forgotten with the connection: the next one resumes
 * from what the server says it holds. */
static void disconnect(struct shipper *s)
{
	PQfinish(s->c);
	s->c = NULL;
	s->n_flight = 0;
}

/* Wait before the next attempt: exponential, each wait drawn from its upper
 * half so that a fleet cut off at once does not come back at once. */
static void back_off(struct shipper *s)
{
	unsigned ms = s->backoff_ms / 2 + (unsigned)random() % (s->backoff_ms / 2 + 1);

	log_info("retrying in %u.%01u s", ms / 1000, ms % 1000 / 100);
	util__sleep_ms(ms);
	s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
}

/* A bigint of the server's text answer. */
static bool answer_i64(PGresult *r, int col, int64_t *v)
{
	return PQntuples(r) == 1 && !PQgetisnull(r, 0, col) &&
	       !util__parse_int(PQgetvalue(r, 0, col), -1, INT64_MAX, v);
}

/*
 * What the server holds of this host, which is where shipping resumes.
 * Returns 0, -EAGAIN to retry, -EBADMSG when it holds more than the
 * ledger (another ledger, or this one cut back: never shipped over).
 */
static int resume(struct shipper *s)
{
	PGresult *r = PQexec(s->c, "SELECT custos.next_seq(), custos.checkpoint_size()");
	int64_t next = -1, cp = -1;
	uint64_t last = 0;
	int err = -EAGAIN;

	if (!pg__ok(r, "ask the central store where to resume"))
		goto cleanup;
	if (!answer_i64(r, 0, &next) || next < 0 || !answer_i64(r, 1, &cp)) {
		log_warnx("failed to ask the central store where to resume: this role is no "
			  "enrolled host");
		err = -EBADMSG;
		goto cleanup;
	}
	err = store__last_seq(s->rd, 0, &last);
	if (err && err != -ENOENT) {
		err = -EIO;
		goto cleanup;
	}
	if ((uint64_t)next > (err ? 0 : last + 1)) {
		log_warnx("failed to ship %s: the central store holds %" PRId64
			  " records of this host and the ledger fewer; it is another ledger or "
			  "was cut back",
			  s->o->ledger, next);
		err = -EBADMSG;
		goto cleanup;
	}
	/* A check from o->from: every record and checkpoint again, which the
	 * store holds already or refuses as equivocation. */
	s->held = s->o->from >= 0 && s->o->from < next ? (uint64_t)s->o->from : (uint64_t)next;
	s->sent = s->held;
	s->cp_sent = s->o->from >= 0 ? -1 : cp;
	s->cp_size = -1;
	log_info("shipping %s from seq %" PRIu64, s->o->ledger, s->held);
	err = 0;
cleanup:
	PQclear(r);
	return err;
}

/* The ledger's first checkpoint past the last one sent, into cp_size and
 * note; cp_size -1 when there is none yet. */
static int next_checkpoint(struct shipper *s)
{
	sqlite3_stmt *q = NULL;
	int rc, err = 0;

	s->cp_size = -1;
	rc = sqlite3_prepare_v2(
		store__sqlite(s->rd),
		"SELECT size, note FROM checkpoint WHERE size > ? ORDER BY size LIMIT 1", -1, &q,
		NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(q, 1, s->cp_sent);
	if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(q, 1) >= NOTE_MAX) {
			log_warnx("failed to read checkpoint %lld of %s: its note is too long",
				  sqlite3_column_int64(q, 0), s->o->ledger);
			err = -EIO;
			goto cleanup;
		}
		s->cp_size = sqlite3_column_int64(q, 0);
		snprintf(s->note, sizeof(s->note), "%s", (const char *)sqlite3_column_text(q, 1));
		rc = SQLITE_DONE;
	}
	if (rc != SQLITE_DONE) {
		log_warnx("failed to read the checkpoints of %s: %s", s->o->ledger,
			  sqlite3_errmsg(store__sqlite(s->rd)));
		err = -EIO;
	}
cleanup:
	sqlite3_finalize(q);
	return err;
}

static int reserve(struct shipper *s, size_t more)
{
	size_t cap = s->cap ? s->cap : 1 << 16;
	uint8_t *p;

	if (s->len + more <= s->cap)
		return 0;
	while (cap < s->len + more)
		cap *= 2;
	p = realloc(s->arr, cap);
	if (!p) {
		log_warnx("failed to make a batch: out of memory");
		return -ENOMEM;
	}
	s->arr = p;
	s->cap = cap;
	return 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

/*
 * The ledger's records from the next seq to send on, up to limit of them
 * and SHIP_BATCH_BYTES, as a binary bytea[]: each element its length and
 * its canonical bytes.  s->n is how many (0: none written yet).
 */
static int fill(struct shipper *s, uint64_t limit)
{
	static uint8_t buf[RECORD_MAX];
	struct record r;
	int len, rc, err;

	s->n = 0;
	s->len = ARRAY_HDR_LEN;
	err = reserve(s, 0) ?: store__records_from(s->recs, s->sent);
	while (!err && s->n < limit && s->len < SHIP_BATCH_BYTES &&
	       (rc = store__records_next(s->recs, &r)) == 1) {
		len = record__encode(&r, buf, sizeof(buf));
		if (len < 0 || r.seq != s->sent + s->n) {
			log_warnx("failed to read seq %" PRIu64 " of %s: %s", s->sent + s->n,
				  s->o->ledger,
				  len < 0 ? strerror(-len) : "the seqs are not contiguous");
			return -EIO;
		}
		err = reserve(s, 4 + (size_t)len);
		if (err)
			break;
		put_be32(s->arr + s->len, (uint32_t)len);
		memcpy(s->arr + s->len + 4, buf, (size_t)len);
		s->len += 4 + (size_t)len;
		s->n++;
	}
	if (!err && rc < 0)
		err = -EIO;
	/* One dimension, no NULLs, of bytea, n long, from 1. */
	put_be32(s->arr, 1);
	put_be32(s->arr + 4, 0);
	put_be32(s->arr + 8, BYTEA_OID);
	put_be32(s->arr + 12, s->n);
	put_be32(s->arr + 16, 1);
	return err ? -EIO : 0;
}

/* A refusal of the server's ingest functions is tamper evidence: fatal. */
static int refused(struct shipper *s, PGresult *r, const char *what)
{
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

	if (!pg__state_is(r, FLEET_EQUIVOCATION) && !pg__state_is(r, FLEET_GAP))
		return -EAGAIN;
	log_warnx("failed to ship %s: the central store refuses %s: %s; this is tamper "
		  "evidence, never retried",
		  s->o->ledger, what, msg ? msg : "");
	return -EBADMSG;
}

/*
 * Send the batch, in a transaction of its own (its own sync), and count it
 * in flight; when it ends at the next checkpoint, the checkpoint goes with
 * it.  Returns 0 or -EAGAIN to reconnect and resume.
 */
static int send_batch(struct shipper *s)
{
	static const Oid types[3] = { INT8_OID, BYTEA_ARRAY_OID, TEXT_OID };
	static const int formats[3] = { 1, 1, 0 };
	uint64_t first = htobe64(s->sent);
	bool with_note = s->cp_size >= 0 && (uint64_t)s->cp_size == s->sent + s->n;
	const char *vals[3] = { (const char *)&first, (const char *)s->arr,
				with_note ? s->note : NULL };
	int lens[3] = { 8, (int)s->len, 0 };

	if ((PQpipelineStatus(s->c) == PQ_PIPELINE_OFF && !PQenterPipelineMode(s->c)) ||
	    !PQsendQueryParams(s->c, "SELECT custos.ingest($1, $2, $3)", 3, types, vals, lens,
			       formats, 0) ||
	    !PQpipelineSync(s->c)) {
		pg__conn_failed(s->c, "ship a batch");
		return -EAGAIN;
	}
	s->sent += s->n;
	s->flight[s->n_flight++] = s->sent;
	if (with_note) {
		s->cp_sent = s->cp_size;
		s->cp_size = -1;
	}
	return 0;
}

/*
 * The answer to the oldest batch in flight.  Returns 0, -EAGAIN to
 * reconnect and resume, -EBADMSG refused.  Only the first failure counts:
 * the batch after a failed one was sent before the failure was known, and
 * its refusal (a gap, now) is the failure's consequence, so the connection
 * is dropped unread.
 */
static int collect(struct shipper *s)
{
	uint64_t end = s->flight[0];
	PGresult *r = PQgetResult(s->c), *tail;
	int64_t next;
	int err = 0;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		err = refused(s, r, "a batch");
		if (err == -EAGAIN)
			pg__ok(r, "ship a batch");
	} else if (!answer_i64(r, 0, &next) || (uint64_t)next < end) {
		/* Its next seq: past the batch (a resend below its head), or at its end. */
		log_warnx("failed to ship a batch: the central store answers %s, not seq %" PRIu64,
			  PQgetvalue(r, 0, 0), end);
		err = -EAGAIN;
	}
	PQclear(r);
	if (err)
		return err;
	/* The query's end (NULL), then its sync's own result. */
	r = PQgetResult(s->c);
	tail = r ? NULL : PQgetResult(s->c);
	if (r || PQresultStatus(tail) != PGRES_PIPELINE_SYNC) {
		pg__conn_failed(s->c, "ship a batch");
		err = -EAGAIN;
	}
	PQclear(r);
	PQclear(tail);
	if (err)
		return err;
	s->held = end;
	s->n_flight--;
	memmove(&s->flight[0], &s->flight[1], s->n_flight * sizeof(s->flight[0]));
	/* Out of pipeline mode once drained: the other calls wait for their answer. */
	if (!s->n_flight && !PQexitPipelineMode(s->c)) {
		pg__conn_failed(s->c, "ship a batch");
		return -EAGAIN;
	}
	return 0;
}

/* A checkpoint whose records the server holds already. */
static int hand_in(struct shipper *s)
{
	char size[24];
	const char *vals[2] = { size, s->note };
	PGresult *r;
	int err = 0;

	snprintf(size, sizeof(size), "%" PRId64, s->cp_size);
	r = PQexecParams(s->c, "SELECT custos.checkpoint_in($1, $2)", 2, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		err = refused(s, r, "a checkpoint");
		if (err == -EAGAIN)
			pg__ok(r, "hand in a checkpoint");
	} else {
		s->cp_sent = s->cp_size;
		s->cp_size = -1;
	}
	PQclear(r);
	return err;
}

/*
 * One step on a connected shipper: the pipeline filled with what the ledger
 * has, then the oldest answer taken; or a checkpoint handed in once nothing
 * is in flight.  Returns 1 when it did something, 0 when idle, or an error
 * as collect.
 */
static int step(struct shipper *s)
{
	int err = open_ledger(s), did = 0;

	while (!err && s->n_flight < SHIP_DEPTH) {
		uint64_t limit = (uint64_t)s->o->batch;

		if (s->cp_size < 0 && (err = next_checkpoint(s)))
			break;
		if (s->cp_size >= 0 && (uint64_t)s->cp_size <= s->sent) {
			/* Its records were sent before it was written, or before a
			 * reconnection: handed in on its own, once they are held. */
			if (s->n_flight)
				break;
			err = hand_in(s);
			did = 1;
			continue;
		}
		/* A batch never runs past the next checkpoint, so that it can carry it. */
		if (s->cp_size >= 0 && (uint64_t)s->cp_size - s->sent < limit)
			limit = (uint64_t)s->cp_size - s->sent;
		err = fill(s, limit);
		if (err || !s->n)
			break;
		err = send_batch(s);
		did = 1;
	}
	if (!err && s->n_flight) {
		err = collect(s);
		did = 1;
	}
	return err ?: did;
}

/* Until stopped, caught up (once), refused or the ledger fails. */
static int run(struct shipper *s)
{
	int err = 0;

	while (!stopping) {
		if (!s->c) {
			s->c = pg__connect(s->o->conninfo, ship_defaults);
			err = !s->c ? -EAGAIN : open_ledger(s) ?: resume(s);
		} else {
			err = step(s);
			if (err >= 0)
				s->ledger_read = true;
			if (err > 0) {
				s->backoff_ms = BACKOFF_MIN_MS;
				err = 0;
				continue;
			}
			if (!err && s->o->once)
				break;
			if (!err) {
				close_ledger(s);
				util__sleep_ms(IDLE_MS);
			}
		}
		/* A ledger read once and then not (a reader beside a busy writer
		 * may be told to come back): said, and read again from the top. */
		if (err == -EIO && s->ledger_read)
			err = -EAGAIN;
		if (err == -EAGAIN) {
			close_ledger(s);
			disconnect(s);
			back_off(s);
			err = 0;
		} else if (err) {
			break;
		}
	}
	return err;
}

int ship__run(const struct ship_opts *o)
{
	struct shipper s = { .o = o, .cp_sent = -1, .cp_size = -1, .backoff_ms = BACKOFF_MIN_MS };
	struct sigaction sa = { .sa_handler = on_stop };
	struct timespec now;
	int err;

	/* No SA_RESTART: a stop cuts the idle sleep short. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	clock_gettime(CLOCK_MONOTONIC, &now);
	srandom((unsigned)(now.tv_nsec ^ now.tv_sec));
	err = run(&s);
	if (!err)
		log_info("the central store holds %" PRIu64 " records of %s", s.held, o->ledger);
	disconnect(&s);
	close_ledger(&s);
	free(s.arr);
	return err == -EBADMSG ? -EBADMSG : err ? -EIO : 0;
}
