// SPDX-License-Identifier: BSD-2-Clause
/*
 * The auditors' SQL views.  Everything here is plain SQL that the stock
 * sqlite3 shell runs: no custos function, and nothing that writes.
 *
 * Access records are rows (store.c), so their view is a join.  GAP, LOSS and
 * START records keep only their canonical body (record.c); the few values
 * the views need sit at fixed offsets in it, and are read there with
 * substr() and hex() rather than copied into new columns at append time:
 * copies would be a second, unverified version of the evidence, while the
 * body is what the leaf hash covers.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stddef.h>

#include "custos/abi.h"
#include "log.h"
#include "record.h"
#include "views.h"

/* The SQL below spells these numbers out; a change must show up here. */
_Static_assert(CUSTOS_PATH_TRUNCATED == 1 && CUSTOS_PATH_DELETED == 2 &&
		       CUSTOS_PATH_UNRESOLVED == 4 && CUSTOS_PATH_FSREL == 8,
	       "views.c spells out the CUSTOS_PATH_* bits");
/* The action names come from RECORD_OPS; these numbers are spelled out. */
_Static_assert(OP_OPEN == 1 && OP_READ == 2 && OP_READ_CALL == 4 && OP_LINK == 5 &&
		       OP_RENAME == 6 && REC_FILE_ACCESS == 1 && REC_GAP == 3 && REC_LOSS == 4 &&
		       REC_START == 7,
	       "views.c spells out these ops and types");
_Static_assert(CUSTOS_ABI_X86_64 == 1 && CUSTOS_ABI_I386 == 2 && CUSTOS_ABI_X32 == 4 &&
		       RECORD_ACCESS_DISCOVERED == 1,
	       "views.c spells out the ABI bits and the discovered flag");

/* The SQL is laid out by hand, one clause a line: a formatter would break
 * the strings in the middle of words. */
/* clang-format off */

/*
 * The byte at 1-based offset o of blob b, from the two digits of its hex();
 * big-endian integers are built from bytes.  A u64 is hi * 2^32 + lo, which
 * stays an integer (never a float) for values below 2^63: times in ns until
 * 2262, counters.
 */
#define HEXDIGIT(b, o, i) \
	"instr('0123456789ABCDEF', substr(hex(substr(" b ", " o ", 1)), " #i ", 1))"
#define BE1(b, o) "((" HEXDIGIT(b, o, 1) " - 1) * 16 + " HEXDIGIT(b, o, 2) " - 1)"
#define BE2(b, o) "(" BE1(b, o) " * 256 + " BE1(b, o " + 1") ")"
#define BE4(b, o) "(" BE2(b, o) " * 65536 + " BE2(b, o " + 2") ")"
#define BE8(b, o) "(" BE4(b, o) " * 4294967296 + " BE4(b, o " + 4") ")"

/* ns since the epoch as RFC 3339 UTC with nanoseconds, as custos query prints it. */
#define RFC3339(ns) \
	"(strftime('%Y-%m-%dT%H:%M:%S', (" ns ") / 1000000000, 'unixepoch')" \
	" || printf('.%09dZ', (" ns ") % 1000000000))"

/* An access's own time: the record's time minus its stored difference (store.c). */
#define T_ACCESS "(r.t_real_ns - r.event_d)"
#define READ_OP "r.op IN (2, 4)"

/* enum custos_abi bits as custos query names them: "x86_64,i386"; NULL for 0. */
#define ABI_NAMES(v) \
	"nullif(substr(CASE WHEN " v " & 1 THEN ',x86_64' ELSE '' END" \
	" || CASE WHEN " v " & 2 THEN ',i386' ELSE '' END" \
	" || CASE WHEN " v " & 4 THEN ',x32' ELSE '' END" \
	" || CASE WHEN " v " & ~7 THEN ',unknown' ELSE '' END, 2), '')"

/*
 * Whether a read record's bytes count in totals: a read session's bytes
 * count exactly once, in its final record when the ledger has one, else in
 * its latest progress report (a session still open when custosd stopped,
 * or when the host rebooted, has only those; each repeats the totals so
 * far).  A session is (boot, session): ids are unique within a boot.
 * Records without a session id (0) count as before ids existed: final
 * ones only.  read_call records never count (their session does).
 *
 * The sessions without a final record are found by one scan of the
 * record table, which SQLite runs once per statement (the IN list does
 * not depend on the row): no index is kept for it, so appending costs
 * nothing more.  Whether a record counts depends on the whole ledger, not
 * on a period a query selects: summed over periods that split the ledger,
 * every session is counted once, in the period of its counting record.
 */
#define COUNTED \
	"CASE WHEN r.op IN (2, 4) THEN r.op = 2 AND (r.partial = 0 OR (r.session != 0" \
	" AND r.seq IN (SELECT max(x.seq) FROM record x WHERE x.op = 2 AND x.session != 0" \
	" GROUP BY x.boot, x.session HAVING min(x.partial) = 1))) END"

/* The host of the last START: abi and pid (8 bytes), then host<0..255>. */
#define HOST \
	"(SELECT CAST(substr(s.body, 10, " BE1("s.body", "9") ") AS TEXT)" \
	" FROM record s WHERE s.type = 7 ORDER BY s.seq DESC LIMIT 1)"

const char views_accesses_sql[] =
	"SELECT r.seq AS seq, " RFC3339(T_ACCESS) " AS time, " T_ACCESS " AS time_ns,"
	" " HOST " AS host,"
	" CASE r.op" RECORD_OPS(RECORD_SQL_WHEN) " ELSE 'unknown' END AS action,"
	" r.result AS result, r.open_flags AS flags, CAST(f.path AS TEXT) AS path,"
	" (r.path_flags & 1) != 0 AS truncated, (r.path_flags & 2) != 0 AS deleted,"
	" (r.path_flags & 4) != 0 AS unresolved, (r.path_flags & 8) != 0 AS fs_relative,"
	" f.dev AS dev, f.ino AS ino, f.mnt_id AS mnt_id, CAST(f.dataset AS TEXT) AS dataset,"
	" CASE WHEN " READ_OP " THEN r.bytes END AS bytes,"
	" CASE WHEN " READ_OP " THEN r.reads END AS reads,"
	" CASE r.op WHEN 2 THEN r.partial END AS partial,"
	" CASE WHEN " READ_OP " THEN " RFC3339(T_ACCESS " - r.first_d") " END AS first_time,"
	" CASE WHEN " READ_OP " THEN " RFC3339(T_ACCESS " - r.last_d") " END AS last_time,"
	" CASE WHEN " READ_OP " AND r.min_offset >= 0 THEN r.min_offset END AS min_offset,"
	" CASE WHEN " READ_OP " AND r.min_offset >= 0 THEN r.max_offset END AS max_offset,"
	" p.pid AS pid, p.tid AS tid, p.ppid AS ppid, CAST(p.comm AS TEXT) AS comm,"
	" CAST(p.exe AS TEXT) AS exe, p.args AS args, c.uid AS uid, c.euid AS euid,"
	" c.fsuid AS fsuid, c.gid AS gid, c.egid AS egid, c.loginuid AS loginuid,"
	" c.sessionid AS sessionid, CAST(w.person AS TEXT) AS person,"
	" CAST(w.attribution AS TEXT) AS attribution, CAST(w.team AS TEXT) AS team,"
	" CAST(w.role AS TEXT) AS role, coalesce(w.staff_flags & 1, 0) AS left,"
	" lower(hex(w.directory)) AS directory, CAST(p.lineage AS TEXT) AS lineage,"
	" CAST(p.container AS TEXT) AS container, p.sid AS sid, p.tty AS tty,"
	" p.cgroup_id AS cgroup_id,"
	" lower(hex(b.boot_id)) AS boot_id, nullif(r.session, 0) AS session,"
	" " ABI_NAMES("r.abi") " AS abi,"
	" CASE r.op WHEN 1 THEN r.access_flags & 1 END AS discovered,"
	" CAST(r.target AS TEXT) AS target,"
	" CASE WHEN r.op IN (5, 6) THEN r.target_flags END AS target_flags,"
	" " COUNTED " AS counted"
	" FROM record r LEFT JOIN proc p ON p.id = r.proc LEFT JOIN cred c ON c.id = r.cred"
	" LEFT JOIN file f ON f.id = r.file LEFT JOIN who w ON w.id = r.who"
	" LEFT JOIN boot b ON b.id = r.boot"
	" WHERE r.type = 1";

/*
 * GAP body: from_ns (1-8), to_ns (9-16), two boot ids (17-48), reason<0..255>
 * (its length at 49, the text from 50), then what the kernel kept.  LOSS body: cpu (1-4),
 * counter (5-8), count (9-16), total (17-24).
 */
const char views_gaps_losses_sql[] =
	"SELECT seq, " RFC3339("t") " AS time, t AS time_ns, kind, reason,"
	" " RFC3339("gap_from_ns") " AS gap_from, " RFC3339("gap_to_ns") " AS gap_to,"
	" gap_from_ns, gap_to_ns, round((gap_to_ns - gap_from_ns) / 1e9, 3) AS seconds,"
	" cpu, counter, count, total FROM ("
	"SELECT seq, t_real_ns AS t, 'gap' AS kind,"
	" CAST(substr(body, 50, " BE1("body", "49") ") AS TEXT) AS reason,"
	" " BE8("body", "1") " AS gap_from_ns, " BE8("body", "9") " AS gap_to_ns,"
	" NULL AS cpu, NULL AS counter, NULL AS count, NULL AS total"
	" FROM record WHERE type = 3"
	" UNION ALL "
	"SELECT seq, t_real_ns, 'loss', CASE " BE4("body", "5") RECORD_LOSS_COUNTERS(RECORD_SQL_WHEN)
	" ELSE 'unknown' END,"
	" NULL, NULL, " BE4("body", "1") ", " BE4("body", "5") ","
	" " BE8("body", "9") ", " BE8("body", "17") " FROM record WHERE type = 4"
	") ORDER BY seq";

/*
 * Alerts: the alert table holds each ALERT record's fields as columns
 * (store.c), and custos verify checks them against the bodies; the time is
 * the record's.  person is the staff id, "service:NAME" or "uid:N".
 */
const char views_alerts_sql[] =
	"SELECT al.seq AS seq, " RFC3339("r.t_real_ns") " AS time, r.t_real_ns AS time_ns,"
	" al.rule AS rule, al.severity AS severity, al.summary AS description,"
	" al.cause AS cause_seq, al.count AS count, al.bytes AS bytes,"
	" al.window_ns / 1000000000 AS window_s, nullif(al.person, '') AS person,"
	" nullif(al.dataset, '') AS dataset, nullif(CAST(al.path AS TEXT), '') AS path"
	" FROM alert al JOIN record r ON r.seq = al.seq";

/*
 * Per person and dataset: a read session counts once, as do its bytes, in
 * the record that counts them (counted, above), as progress reports repeat
 * the totals so far.
 */
static const char person_dataset_sql[] =
	"SELECT person, dataset,"
	" sum(action = 'open' AND result >= 0) AS opens,"
	" sum(action = 'mmap' AND result >= 0) AS mmaps,"
	" sum(action = 'read' AND counted) AS reads,"
	" sum(CASE WHEN action = 'read' AND counted THEN bytes ELSE 0 END) AS bytes,"
	" sum(action IN ('open', 'mmap') AND result < 0) AS failed,"
	" " RFC3339("min(time_ns)") " AS first_time, " RFC3339("max(time_ns)") " AS last_time"
	" FROM accesses GROUP BY person, dataset";

/* clang-format on */

int views__create(sqlite3 *db)
{
	static const char *const steps[] = {
		"BEGIN IMMEDIATE",
		"DROP VIEW IF EXISTS person_dataset",
		"DROP VIEW IF EXISTS accesses",
		"DROP VIEW IF EXISTS gaps_losses",
		"DROP VIEW IF EXISTS alerts",
		"CREATE VIEW accesses AS ",
		"CREATE VIEW gaps_losses AS ",
		"CREATE VIEW person_dataset AS ",
		"CREATE VIEW alerts AS ",
		"COMMIT",
	};
	static const char *const bodies[] = {
		"",
		"",
		"",
		"",
		"",
		views_accesses_sql,
		views_gaps_losses_sql,
		person_dataset_sql,
		views_alerts_sql,
		"",
	};
	sqlite3_stmt *st = NULL;
	char *sql = NULL;
	int err = 0;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		sql = sqlite3_mprintf("%s%s", steps[i], bodies[i]);
		if (!sql) {
			log_warnx("failed to create SQL views: out of memory");
			err = -EIO;
			goto cleanup;
		}
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_DONE) {
			log_warnx("failed to create SQL views: %s", sqlite3_errmsg(db));
			err = -EIO;
			goto cleanup;
		}
		sqlite3_finalize(st);
		st = NULL;
		sqlite3_free(sql);
		sql = NULL;
	}
cleanup:
	sqlite3_finalize(st);
	sqlite3_free(sql);
	if (err && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return err;
}
