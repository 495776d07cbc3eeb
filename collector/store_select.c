// SPDX-License-Identifier: BSD-2-Clause
/*
 * The records custos query asks for (store.h, query.h): its filter as one
 * fixed, parameterised SELECT over the store's flat rows, every value of
 * the filter reaching SQL only as a bound parameter, and each record
 * selected rebuilt by the store's reader.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custos/abi.h"
#include "log.h"
#include "query.h"
#include "store.h"
#include "store_int.h"

/*
 * One flat row per record with the columns the filter and the sort read:
 * not what is shown (jsonrec builds that from the rebuilt record), only
 * the keys to pick records by.
 */
const char *store_entry_sql =
	"SELECT r.seq AS seq, r.t_real_ns - coalesce(r.event_d, 0) AS t_ns,"
	" CASE r.type WHEN 1 THEN CASE r.op" RECORD_OPS(
		RECORD_SQL_WHEN) " ELSE 'unknown' END" RECORD_TYPES(RECORD_SQL_WHEN) " ELSE "
										     "'unknown' "
										     "END AS "
										     "action,"
										     " r.result AS "
										     "result, "
										     "f.path AS "
										     "path, "
										     "CAST(f."
										     "dataset AS "
										     "TEXT) AS "
										     "dataset,"
										     " CASE WHEN "
										     "r.op IN (2, "
										     "4) THEN "
										     "r.bytes END "
										     "AS bytes, "
										     "p.pid AS "
										     "pid, p.comm "
										     "AS comm,"
										     " p.exe AS "
										     "exe, c.uid "
										     "AS uid, "
										     "c.euid AS "
										     "euid, "
										     "c.loginuid "
										     "AS loginuid,"
										     " w.person AS "
										     "person, "
										     "w."
										     "attribution "
										     "AS "
										     "attribution, "
										     "w.team AS "
										     "team, w.role "
										     "AS role,"
										     " r.abi AS "
										     "abi, "
										     "nullif(r."
										     "session, 0) "
										     "AS "
										     "sessio"
										     "n" RECORD_JOINS;
_Static_assert(OP_READ == 2 && OP_READ_CALL == 4, "store_entry_sql spells out the read ops");

/* Bound parameters of the WHERE clause, numbered as ?N in where_sql. */
enum param {
	P_PREFIX = 1, /* the prefix without trailing '/': matches the path itself */
	P_LO,	      /* prefix + "/": first path below it */
	P_HI,	      /* prefix + "0" ('/' + 1): first path past the subtree */
	P_UID,
	P_ACTION, /* "a,b,c": the list, matched whole between its commas */
	P_SINCE,
	P_UNTIL,
	P_PERSON,
	P_TEAM,
	P_ROLE,
	P_UNATTRIBUTED,
	P_GLOB,
	P_DATASET,
	P_LOGINUID,
	P_RESULT,  /* enum query_result, when not ANY */
	P_RESULT1, /* the values QUERY_RESULT_DENIED and _EQ take */
	P_RESULT2,
	P_EXE,	  /* an exact program */
	P_EXE_LO, /* a directory of programs, as P_LO and P_HI */
	P_EXE_HI,
	P_COMM,
	P_HOST,	       /* the host asked for */
	P_LEDGER_HOST, /* the ledger's host (K_HOST); NULL when it names none */
	P_ABI,	       /* an enum custos_abi bit */
	P_SESSION,     /* a session id, as its int64 bit pattern */
	P_LIMIT,       /* -1: no limit */
};
_Static_assert(P_LIMIT == 26, "where_sql numbers its parameters as enum param does");

/*
 * Paths are compared as blobs (memcmp order), so the subtree of P is exactly
 * [P "/", P "0"): a range an index on path can serve, and one that keeps
 * "/a/bc" out of "/a/b".  GLOB never matches a blob, so the path is cast to
 * text; a NUL byte would end that text early and let "/a" match "/a\0b",
 * so such a path (no kernel makes one) never matches a pattern.
 */
static const char where_sql[] =
	" FROM (%s) WHERE"
	" (?1 IS NULL OR path = ?1 OR (path >= ?2 AND path < ?3))"
	" AND (?4 IS NULL OR uid = ?4 OR euid = ?4)"
	" AND (?5 IS NULL OR instr(',' || ?5 || ',', ',' || action || ',') > 0)"
	" AND (?6 IS NULL OR t_ns >= ?6)"
	" AND (?7 IS NULL OR t_ns < ?7)"
	" AND (?8 IS NULL OR person = ?8)"
	" AND (?9 IS NULL OR team = ?9)"
	" AND (?10 IS NULL OR role = ?10)"
	" AND (?11 IS NULL OR attribution = CAST('unattributed' AS BLOB))"
	" AND (?12 IS NULL OR (CAST(path AS TEXT) GLOB ?12 AND instr(path, x'00') = 0))"
	" AND (?13 IS NULL OR dataset = ?13)"
	" AND (?14 IS NULL OR loginuid = ?14)"
	" AND (?15 IS NULL OR CASE ?15 WHEN 1 THEN result >= 0 WHEN 2 THEN result < 0"
	" ELSE result IN (?16, ?17) END)"
	" AND (?18 IS NULL OR exe = ?18)"
	" AND (?19 IS NULL OR (exe >= ?19 AND exe < ?20))"
	" AND (?21 IS NULL OR comm = ?21)"
	" AND (?22 IS NULL OR ?22 = ?23)"
	" AND (?24 IS NULL OR (abi & ?24) != 0)"
	" AND (?25 IS NULL OR session = ?25)"
	" ORDER BY %s LIMIT ?26";

/*
 * ORDER BY for each enum query_sort, ascending then descending.  Rows
 * without the key (a start has no bytes) come last either way.
 */
static const char *const order_sql[][2] = {
	[QUERY_SORT_TIME] = { "seq", "seq DESC" },
	[QUERY_SORT_BYTES] = { "bytes NULLS LAST, seq", "bytes DESC NULLS LAST, seq" },
	[QUERY_SORT_PATH] = { "path NULLS LAST, seq", "path DESC NULLS LAST, seq" },
	[QUERY_SORT_PERSON] = { "person NULLS LAST, seq", "person DESC NULLS LAST, seq" },
	[QUERY_SORT_PID] = { "pid NULLS LAST, seq", "pid DESC NULLS LAST, seq" },
};

/* The bytes of s followed by one byte c, in a new buffer the caller frees. */
static uint8_t *with_byte(const char *s, size_t n, char c)
{
	uint8_t *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = c;
	}
	return p;
}

/*
 * Check a shell pattern's classes, and write the pattern in SQLite's GLOB
 * form to out (strlen(pat) + 1 bytes) unless out is NULL.  The two differ
 * only in negation: the shell's "[!a]" is SQLite's "[^a]", where '!' would
 * be one more member.  Returns false when a '[' has no closing ']', which
 * SQLite would take as a pattern that matches nothing.
 */
static bool glob_convert(const char *pat, char *out)
{
	size_t i = 0;

	if (out)
		strcpy(out, pat);
	while (pat[i]) {
		if (pat[i++] != '[')
			continue;
		/* A class: '!' or '^' first negates, then a ']' first is a member. */
		if (pat[i] == '!' || pat[i] == '^') {
			if (out)
				out[i] = '^';
			i++;
		}
		if (pat[i] == ']')
			i++;
		while (pat[i] && pat[i] != ']')
			i++;
		if (!pat[i])
			return false;
		i++;
	}
	return true;
}

/* Bind len bytes at p as a blob, for the columns that hold raw bytes; NULL leaves ?n unbound. */
static int bind_bytes(sqlite3_stmt *st, int n, const void *p, size_t len)
{
	/* A TEXT value never equals a BLOB in SQLite. */
	return p ? sqlite3_bind_blob(st, n, p, (int)len, SQLITE_TRANSIENT) : SQLITE_OK;
}

/* A directory prefix as the blob range [P "/", P "0"), bound to ?lo and ?lo + 1. */
static int bind_subtree(sqlite3_stmt *st, int lo_param, const char *prefix, size_t n)
{
	uint8_t *lo = with_byte(prefix, n, '/'), *hi = with_byte(prefix, n, '/' + 1);
	int rc = SQLITE_NOMEM;

	if (lo && hi) {
		rc = bind_bytes(st, lo_param, lo, n + 1);
		if (!rc)
			rc = bind_bytes(st, lo_param + 1, hi, n + 1);
	}
	free(lo);
	free(hi);
	return rc;
}

/* The length of s without its trailing '/'s: "/a/b/" means "/a/b" and "/" the empty prefix. */
static size_t strip_slashes(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		n--;
	return n;
}

static int bind_str(sqlite3_stmt *st, int n, const char *s)
{
	return s ? bind_bytes(st, n, s, strlen(s)) : SQLITE_OK;
}

/* The result wanted: its kind, and the one or two values it allows. */
static int bind_result(sqlite3_stmt *st, const struct query_filter *f)
{
	int rc = SQLITE_OK;

	if (f->result != QUERY_RESULT_ANY)
		rc = sqlite3_bind_int(st, P_RESULT, f->result);
	if (!rc && f->result == QUERY_RESULT_DENIED) {
		rc = sqlite3_bind_int(st, P_RESULT1, -EACCES);
		if (!rc)
			rc = sqlite3_bind_int(st, P_RESULT2, -EPERM);
	} else if (!rc && f->result == QUERY_RESULT_EQ) {
		rc = sqlite3_bind_int64(st, P_RESULT1, f->result_value);
		if (!rc)
			rc = sqlite3_bind_int64(st, P_RESULT2, f->result_value);
	}
	return rc;
}

/* A program, or with a final '/' every program below that directory. */
static int bind_exe(sqlite3_stmt *st, const char *exe)
{
	size_t n = strlen(exe);

	if (n > 0 && exe[n - 1] == '/')
		return bind_subtree(st, P_EXE_LO, exe, strip_slashes(exe));
	return bind_bytes(st, P_EXE, exe, n);
}

static int bind_filter(sqlite3_stmt *st, const struct query_filter *f, struct bytes host)
{
	char *glob = NULL;
	int rc = SQLITE_OK, err = 0;
	size_t n;

	if (f->path_prefix) {
		n = strip_slashes(f->path_prefix);
		rc = bind_bytes(st, P_PREFIX, f->path_prefix, n);
		if (!rc)
			rc = bind_subtree(st, P_LO, f->path_prefix, n);
	}
	if (!rc && f->glob) {
		glob = malloc(strlen(f->glob) + 1);
		if (!glob) {
			err = -ENOMEM;
			goto cleanup;
		}
		/* query__set refused an open class; a caller that did not gets no rows. */
		glob_convert(f->glob, glob);
		rc = sqlite3_bind_text(st, P_GLOB, glob, -1, SQLITE_TRANSIENT);
	}
	/* dataset is the one text column (the entry view casts it). */
	if (!rc && f->dataset)
		rc = sqlite3_bind_text(st, P_DATASET, f->dataset, -1, SQLITE_TRANSIENT);
	if (!rc && f->uid >= 0)
		rc = sqlite3_bind_int64(st, P_UID, f->uid);
	if (!rc && f->loginuid >= 0)
		rc = sqlite3_bind_int64(st, P_LOGINUID, f->loginuid);
	if (!rc && f->action)
		rc = sqlite3_bind_text(st, P_ACTION, f->action, -1, SQLITE_TRANSIENT);
	if (!rc)
		rc = bind_result(st, f);
	if (!rc && f->exe)
		rc = bind_exe(st, f->exe);
	if (!rc)
		rc = bind_str(st, P_COMM, f->comm);
	if (!rc && f->abi)
		rc = sqlite3_bind_int64(st, P_ABI, f->abi);
	if (!rc && f->session)
		rc = sqlite3_bind_int64(st, P_SESSION, (int64_t)f->session);
	if (!rc && f->since_ns != INT64_MIN)
		rc = sqlite3_bind_int64(st, P_SINCE, f->since_ns);
	if (!rc && f->until_ns != INT64_MAX)
		rc = sqlite3_bind_int64(st, P_UNTIL, f->until_ns);
	/* The who columns are raw bytes, so the names are bound as blobs. */
	if (!rc)
		rc = bind_str(st, P_PERSON, f->person);
	if (!rc)
		rc = bind_str(st, P_TEAM, f->team);
	if (!rc)
		rc = bind_str(st, P_ROLE, f->role);
	if (!rc && f->unattributed)
		rc = sqlite3_bind_int(st, P_UNATTRIBUTED, 1);
	/* The host is the ledger's, not a row's: it lets every row through or none. */
	if (!rc && f->host) {
		rc = bind_str(st, P_HOST, f->host);
		if (!rc && host.p)
			rc = bind_bytes(st, P_LEDGER_HOST, host.p, host.len);
	}
	if (!rc)
		rc = sqlite3_bind_int64(st, P_LIMIT, f->limit > 0 ? f->limit : -1);
	if (rc)
		err = rc == SQLITE_NOMEM ? -ENOMEM : -EINVAL;
cleanup:
	free(glob);
	return err;
}

bool store__glob_valid(const char *pat)
{
	return glob_convert(pat, NULL);
}

int store__host(struct store_reader *db, struct bytes *host, uint8_t **copy)
{
	struct store_records *c = NULL;
	struct record r;
	uint64_t seq;
	int err;

	*host = record__bytes(NULL, 0);
	*copy = NULL;
	err = store__last_seq(db, REC_START, &seq);
	if (!err) {
		c = store__records_open(db);
		err = c ? store__records_get(c, seq, &r) : -EIO;
	}
	/* A START that does not decode names no host; custos verify reports it. */
	if (err == -ENOENT || err == -EBADMSG || (!err && r.type != REC_START)) {
		err = 0;
		goto cleanup;
	}
	if (err)
		goto cleanup;
	/* One byte more: an empty name is still a name, and needs a pointer. */
	*copy = malloc(r.start.host.len + 1);
	if (!*copy) {
		log_warnx("failed to read the ledger's host: out of memory");
		err = -ENOMEM;
		goto cleanup;
	}
	memcpy(*copy, r.start.host.p, r.start.host.len);
	*host = record__bytes(*copy, r.start.host.len);
cleanup:
	store__records_close(c);
	return err;
}

static int prepare_select(sqlite3 *db, const struct query_filter *f, struct bytes host,
			  sqlite3_stmt **out)
{
	char sql[8192];
	sqlite3_stmt *st = NULL;
	int n, err = 0;

	if ((unsigned int)f->sort >= sizeof(order_sql) / sizeof(order_sql[0])) {
		log_warnx("failed to build query: unknown sort order %d", (int)f->sort);
		return -EINVAL;
	}
	/* The flat rows come from the store's own view of a record; the order is one of ours. */
	/* One statement: the records of the seqs the filter picks, in its order
	 * (its rank n), each rebuilt from its row. */
	n = snprintf(sql, sizeof(sql),
		     "%s JOIN (SELECT seq AS k, row_number() OVER (ORDER BY %s) AS n",
		     store_record_sql, order_sql[f->sort][f->sort_desc ? 1 : 0]);
	n += snprintf(sql + n, sizeof(sql) - n, where_sql, store_entry_sql,
		      order_sql[f->sort][f->sort_desc ? 1 : 0]);
	n += snprintf(sql + n, sizeof(sql) - n, ") q ON r.seq = q.k ORDER BY q.n");
	if ((size_t)n >= sizeof(sql)) {
		/* Only a programming error gets here: nothing in sql comes from the user. */
		log_warnx("failed to build query: statement too long");
		return -E2BIG;
	}
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL)) {
		log_warnx("failed to query the database: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	err = bind_filter(st, f, host);
	if (err) {
		log_warnx("failed to bind query filter: %s", strerror(-err));
		sqlite3_finalize(st);
		return err;
	}
	*out = st;
	return 0;
}

int store__select(struct store_reader *rd, const struct query_filter *f, store_select_fn *each,
		  void *ctx)
{
	sqlite3 *db = rd->db;
	struct bytes host;
	uint8_t *host_copy = NULL;
	sqlite3_stmt *st = NULL;
	struct record r;
	int rc, err;

	err = store__host(rd, &host, &host_copy);
	if (!err)
		err = prepare_select(db, f, host, &st);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		err = store__row_record(st, &r);
		if (err)
			log_warnx(
				"failed to read record %lld: not as custosd writes it (run custos "
				"verify)",
				sqlite3_column_int64(st, 0));
		else
			err = each(ctx, &r);
	}
	if (!err && rc != SQLITE_DONE) {
		log_warnx("failed to read the database: %s", sqlite3_errmsg(db));
		err = -EIO;
	}
	sqlite3_finalize(st);
	free(host_copy);
	return err;
}
