// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of collector/rules.c: the rules file and when each rule fires. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "records.h"
#include "test.h"

#define S 1000000000ULL
/* 2026-11-27 (a Friday) 06:10:21 UTC. */
#define FRI_0610 1795759821ULL

static struct rules *parse(const char *text, char *err)
{
	return rules__parse(text, strlen(text), err, 256);
}

/* The error a text gets, or "(loaded)". */
static const char *error_of(const char *text)
{
	static char err[256];
	struct rules *r = parse(text, err);

	if (r) {
		rules__free(r);
		return "(loaded)";
	}
	return err;
}

/* What fired: "rule:count:bytes;" per alert. */
struct fired {
	char log[1024];
	struct record last;
	char person[64], path[256];
};

static int on_fire(void *ctx, struct record *alert)
{
	struct fired *f = ctx;
	size_t n = strlen(f->log);

	snprintf(f->log + n, sizeof(f->log) - n, "%.*s:%llu:%llu;", alert->alert.rule.len,
		 alert->alert.rule.p, (unsigned long long)alert->alert.count,
		 (unsigned long long)alert->alert.bytes);
	f->last = *alert;
	snprintf(f->person, sizeof(f->person), "%.*s", alert->alert.person.len,
		 alert->alert.person.p);
	snprintf(f->path, sizeof(f->path), "%.*s", alert->alert.path.len, alert->alert.path.p);
	return 0;
}

static struct record access_at(uint64_t t_s, uint32_t op, const char *path, const char *person)
{
	struct record r = { .type = REC_FILE_ACCESS, .seq = 7 };

	r.access.event_ns = t_s * S;
	r.access.op = op;
	r.access.path = str(path);
	r.access.dataset = str("customers");
	r.access.person = str(person);
	r.access.attribution = str(*person ? "loginuid" : "unattributed");
	r.access.uid = 1001;
	r.access.euid = 1001;
	r.access.comm = str("cat");
	r.access.exe = str("/usr/bin/cat");
	return r;
}

TEST(errors_name_the_line)
{
	ASSERT_STREQ(error_of("rules:\n  - id: a\n    sevrity: high\n"),
		     "line 3: unknown key 'sevrity'");
	ASSERT_STREQ(
		error_of("rules:\n  - id: a\n    severity: urgent\n"),
		"line 3: invalid severity 'urgent' (want info, low, medium, high or critical)");
	ASSERT_STREQ(error_of("rules:\n  - id: a\n    id: b\n    severity: low\n"),
		     "line 3: duplicate key 'id'");
	ASSERT_STREQ(error_of("rules:\n  - severity: low\n"), "line 2: a rule without an id");
	ASSERT_STREQ(error_of("rules:\n  - id: a\n    severity: low\n  - id: a\n"
			      "    severity: low\n"),
		     "line 4: duplicate rule id 'a'");
	ASSERT_STREQ(error_of("rules:\n  - id: a\n    severity: low\n    match:\n"
			      "      hours: 25:00-07:00\n"),
		     "line 5: invalid hours '25:00-07:00' (want HH:MM-HH:MM)");
	ASSERT_STREQ(error_of("rules:\n  - id: a\n    severity: low\n    match:\n"
			      "      action: [open, write]\n"),
		     "line 5: unknown action 'write'");
	ASSERT_STREQ(error_of("rules:\n  - id: a\n    severity: low\n    threshold:\n"
			      "      count: 5\n"),
		     "line 5: threshold: a window is required");
	ASSERT_STREQ(error_of("rules:\n  - id: a\n    severity: low\n    threshold:\n"
			      "      window: 0s\n      count: 5\n"),
		     "line 5: invalid window (seconds, or with s, m, h, d) '0s'");
	ASSERT_STREQ(error_of("rules:\n  - id: a b\n    severity: low\n"),
		     "line 2: invalid id 'a b' (1 to 64 of A-Z a-z 0-9 - _ .)");
	ASSERT_STREQ(error_of("rules: [\n"), "line 2: did not find expected node content");
	ASSERT_STREQ(error_of(""), "line 1: an empty file");
	ASSERT_STREQ(error_of("timezone: mars\nrules: []\n"),
		     "line 1: invalid timezone 'mars' (want utc or local)");
	ASSERT_STREQ(error_of("rules:\n  - id: a\n    severity: low\n    match:\n"
			      "      result: maybe\n"),
		     "line 5: invalid result 'maybe' (want ok, failed, denied or a number)");
	ASSERT_STREQ(error_of("rules:\n  - id: a\n    severity: low\n    match:\n"
			      "      left: false\n"),
		     "line 5: left: want true (or leave it out)");
	ASSERT_STREQ(error_of("rules:\n  - id: a\n    severity: low\n"), "(loaded)");
	return true;
}

TEST(version_is_the_hash_of_the_text)
{
	char err[256];
	const char *text = "rules:\n  - id: a\n    severity: low\n";
	struct rules *r = parse(text, err);

	ASSERT_TRUE(r);
	ASSERT_EQ(rules__count(r), 1);
	/* sha256 of the text above, checked with sha256sum. */
	ASSERT_STREQ(rules__version_hex(r),
		     "d08c0025b0cb4cb850d34aecae9284920dc74a82210eb38e1f17e73adf5b378c");
	rules__free(r);
	return true;
}

TEST(conditions_select_accesses)
{
	char err[256];
	struct rules *r = parse("rules:\n"
				"  - id: glob\n    severity: medium\n    match:\n"
				"      path: /srv/customers/*.csv\n      action: read\n"
				"  - id: denied\n    severity: high\n    match:\n"
				"      result: denied\n"
				"  - id: nobody\n    severity: low\n    match:\n"
				"      unattributed: true\n"
				"  - id: gone\n    severity: critical\n    match:\n"
				"      left: true\n      dataset: [customers, hr]\n"
				"  - id: lost\n    severity: high\n    match:\n"
				"      action: [loss, gap]\n"
				"  - id: moved\n    severity: high\n    match:\n"
				"      action: rename\n      dataset: hr\n",
				err);
	struct fired f = { 0 };
	struct record rec;

	ASSERT_TRUE(r);
	rec = access_at(FRI_0610, OP_READ, "/srv/customers/sub/a.csv", "e1001");
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	ASSERT_STREQ(f.log, "glob:1:0;");
	ASSERT_EQ(f.last.alert.cause_seq, 7);
	ASSERT_EQ(f.last.alert.severity, SEV_MEDIUM);
	ASSERT_STREQ(f.path, "/srv/customers/sub/a.csv");
	f.log[0] = '\0';
	rec = access_at(FRI_0610, OP_OPEN, "/srv/customers/sub/a.csv", "e1001");
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	ASSERT_STREQ(f.log, "");
	rec.access.result = -EACCES;
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	ASSERT_STREQ(f.log, "denied:1:0;");
	f.log[0] = '\0';
	rec.access.result = -ENOENT;
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	ASSERT_STREQ(f.log, "");
	rec = access_at(FRI_0610, OP_OPEN, "/srv/customers/x", "");
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	ASSERT_STREQ(f.log, "nobody:1:0;");
	ASSERT_STREQ(f.person, "uid:1001");
	f.log[0] = '\0';
	rec = access_at(FRI_0610, OP_OPEN, "/srv/customers/x", "e1002");
	rec.access.staff_flags = RECORD_STAFF_LEFT;
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	ASSERT_STREQ(f.log, "gone:1:0;");
	/* A link or rename out of the tree is an access too, by default. */
	f.log[0] = '\0';
	rec.access.op = OP_RENAME;
	rec.access.target = str("/tmp/x");
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	rec.access.op = OP_LINK;
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	ASSERT_STREQ(f.log, "gone:1:0;gone:1:0;");
	f.log[0] = '\0';
	rec.access.op = OP_RENAME;
	rec.access.dataset = str("hr");
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	ASSERT_STREQ(f.log, "gone:1:0;moved:1:0;");
	f.log[0] = '\0';
	rec = (struct record){ .type = REC_LOSS, .seq = 9, .t_real_ns = FRI_0610 * S };
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	ASSERT_STREQ(f.log, "lost:1:0;");
	ASSERT_STREQ(f.person, "");
	/* An alert is never evaluated (no rule fires on what rules said). */
	f.log[0] = '\0';
	rec = (struct record){ .type = REC_ALERT, .seq = 10 };
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	ASSERT_STREQ(f.log, "");
	rules__free(r);
	return true;
}

TEST(hours_and_days_in_utc)
{
	char err[256];
	struct rules *r =
		parse("rules:\n"
		      "  - id: night\n    severity: high\n    match:\n"
		      "      hours: 19:00-07:00\n"
		      "  - id: office\n    severity: info\n    match:\n"
		      "      hours: 08:00-18:00\n      days: [mon, tue, wed, thu, fri]\n"
		      "  - id: weekend\n    severity: low\n    match:\n      days: [sat, sun]\n",
		      err);
	struct fired f = { 0 };
	struct record rec;

	ASSERT_TRUE(r);
	/* Friday 06:10: before 07:00, inside the night window that wraps. */
	rec = access_at(FRI_0610, OP_OPEN, "/p", "e1");
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	ASSERT_STREQ(f.log, "night:1:0;");
	/* Friday 12:10: the office window. */
	f.log[0] = '\0';
	rec = access_at(FRI_0610 + 6 * 3600, OP_OPEN, "/p", "e1");
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	ASSERT_STREQ(f.log, "office:1:0;");
	/* Friday 18:00 sharp: the office window has ended, night not begun. */
	f.log[0] = '\0';
	rec = access_at(FRI_0610 + 11 * 3600 + 50 * 60 - 21, OP_OPEN, "/p", "e1");
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	ASSERT_STREQ(f.log, "");
	/* Saturday 12:10. */
	rec = access_at(FRI_0610 + 30 * 3600, OP_OPEN, "/p", "e1");
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	ASSERT_STREQ(f.log, "weekend:1:0;");
	rules__free(r);
	return true;
}

TEST(threshold_is_a_sliding_window_per_person)
{
	char err[256];
	struct rules *r =
		parse("rules:\n"
		      "  - id: bulk\n    severity: high\n    match:\n      action: read\n"
		      "    threshold:\n      window: 60s\n      bytes: 1K\n"
		      "  - id: many\n    severity: medium\n    match:\n      action: open\n"
		      "    threshold:\n      window: 10s\n      count: 3\n",
		      err);
	struct fired f = { 0 };
	struct record rec;

	ASSERT_TRUE(r);
	/* 600 bytes at t, 600 at t+70 (the first has left the window): nothing. */
	rec = access_at(FRI_0610, OP_READ, "/p", "e1");
	rec.access.bytes = 600;
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	rec.access.event_ns += 70 * S;
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	ASSERT_STREQ(f.log, "");
	/* Another person's bytes are their own. */
	rec = access_at(FRI_0610 + 80, OP_READ, "/p", "e2");
	rec.access.bytes = 600;
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	ASSERT_STREQ(f.log, "");
	/* A progress report (partial) adds no bytes. */
	rec = access_at(FRI_0610 + 90, OP_READ, "/p", "e1");
	rec.access.bytes = 5000;
	rec.access.partial = 1;
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	ASSERT_STREQ(f.log, "");
	/* e1: 600 + 600 within 60 s: fires with the window's totals. */
	rec.access.partial = 0;
	rec.access.bytes = 600;
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	ASSERT_STREQ(f.log, "bulk:3:1200;");
	ASSERT_EQ(f.last.alert.window_ns, 60 * S);
	ASSERT_STREQ(f.person, "e1");
	/* Then counting starts afresh: one more read does not fire again. */
	f.log[0] = '\0';
	rec.access.event_ns += S;
	ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	ASSERT_STREQ(f.log, "");
	/* Three opens in 10 s fire; spread over 30 s they do not. */
	for (int i = 0; i < 3; i++) {
		rec = access_at(FRI_0610 + 1000 + 15 * i, OP_OPEN, "/p", "e3");
		ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	}
	ASSERT_STREQ(f.log, "");
	for (int i = 0; i < 3; i++) {
		rec = access_at(FRI_0610 + 2000 + i, OP_OPEN, "/p", "e3");
		ASSERT_EQ(rules__eval(r, &rec, on_fire, &f), 0);
	}
	ASSERT_STREQ(f.log, "many:3:0;");
	rules__free(r);
	return true;
}

/* A read record of session `session` of boot `boot` by e1, at FRI_0610 + t_s. */
static struct record session_read(uint64_t t_s, uint8_t boot, uint64_t session, uint64_t bytes,
				  int partial)
{
	struct record r = access_at(FRI_0610 + t_s, OP_READ, "/srv/c/a.csv", "e1");

	memset(r.boot_id, boot, sizeof(r.boot_id));
	r.access.session = session;
	r.access.bytes = bytes;
	r.access.partial = partial;
	return r;
}

static struct rules *bulk_rule(const char *bytes)
{
	char text[256], err[256];

	snprintf(text, sizeof(text),
		 "rules:\n  - id: bulk\n    severity: high\n"
		 "    threshold:\n      window: 1h\n      bytes: %s\n",
		 bytes);
	return parse(text, err);
}

#define EVAL(r, f, ...)                                                                            \
	do {                                                                                       \
		struct record _rec = session_read(__VA_ARGS__);                                    \
		ASSERT_EQ(rules__eval(r, &_rec, on_fire, &f), 0);                                  \
	} while (0)

/*
 * A read session's bytes count once towards byte thresholds, as they are
 * read: each record adds the increase over what its session already
 * counted, progress reports and final record alike.
 */
TEST(session_bytes_count_once_as_they_are_read)
{
	struct rules *r = bulk_rule("1000");
	struct fired f = { 0 };

	ASSERT_TRUE(r);
	/* Progress reports of 600 then 1100: the threshold is reached while the
	 * session is still open, with its 1100 bytes. */
	EVAL(r, f, 0, 0xa1, 7, 600, 1);
	ASSERT_STREQ(f.log, "");
	EVAL(r, f, 60, 0xa1, 7, 1100, 1);
	ASSERT_STREQ(f.log, "bulk:2:1100;");
	/* Its final record adds only the last 200 to the fresh count. */
	f.log[0] = '\0';
	EVAL(r, f, 120, 0xa1, 7, 1300, 0);
	ASSERT_STREQ(f.log, "");
	/* Partials only (custosd stopped before the final record): the latest
	 * report's 900, not 400 + 900; with the 200 above, 1100. */
	EVAL(r, f, 180, 0xa1, 8, 400, 1);
	ASSERT_STREQ(f.log, "");
	EVAL(r, f, 240, 0xa1, 8, 900, 1);
	ASSERT_STREQ(f.log, "bulk:3:1100;");
	rules__free(r);
	return true;
}

TEST(sessions_are_per_boot_and_id)
{
	struct rules *r = bulk_rule("1000");
	struct fired f = { 0 };

	ASSERT_TRUE(r);
	/* Two sessions of one file: each counts its own bytes. */
	EVAL(r, f, 0, 0xa1, 10, 300, 1);
	EVAL(r, f, 1, 0xa1, 11, 300, 1);
	EVAL(r, f, 2, 0xa1, 10, 500, 0);
	ASSERT_STREQ(f.log, "");
	EVAL(r, f, 3, 0xa1, 11, 500, 0);
	ASSERT_STREQ(f.log, "bulk:4:1000;");
	/* The same id after a reboot is another session. */
	f.log[0] = '\0';
	EVAL(r, f, 4, 0xa1, 12, 600, 1);
	EVAL(r, f, 5, 0xb2, 12, 600, 1);
	ASSERT_STREQ(f.log, "bulk:2:1200;");
	/* Without a session id, as before ids: final records only; a single read
	 * call never counts. */
	f.log[0] = '\0';
	EVAL(r, f, 6, 0xa1, 0, 5000, 1);
	EVAL(r, f, 7, 0xa1, 0, 999, 0);
	{
		struct record call = session_read(8, 0xa1, 12, 4000, 0);

		call.access.op = OP_READ_CALL;
		ASSERT_EQ(rules__eval(r, &call, on_fire, &f), 0);
	}
	ASSERT_STREQ(f.log, "");
	EVAL(r, f, 9, 0xa1, 0, 1, 0);
	ASSERT_STREQ(f.log, "bulk:4:1000;");
	rules__free(r);
	return true;
}

/* The table of partly counted sessions is bounded: when full, the session
 * updated least recently goes, not one that reported since. */
TEST(session_table_evicts_the_least_recently_updated)
{
	struct rules *r = bulk_rule("150");
	struct fired f = { 0 };

	ASSERT_TRUE(r);
	/* Session 1 counts 100; 131071 others (0 bytes so far) fill the table. */
	EVAL(r, f, 0, 0xa1, 1, 100, 1);
	for (uint64_t s = 2; s <= 131072; s++)
		EVAL(r, f, 1, 0xa1, s, 0, 1);
	/* Session 1 reports again, so session 2 is now the oldest, and a new
	 * session takes its place. */
	EVAL(r, f, 2, 0xa1, 1, 100, 1);
	EVAL(r, f, 3, 0xa1, 200000, 0, 1);
	ASSERT_STREQ(f.log, "");
	/* Session 1 was kept: its final record adds 50, not 150. */
	EVAL(r, f, 4, 0xa1, 1, 150, 0);
	ASSERT_TRUE(strstr(f.log, ":150;"));
	rules__free(r);
	return true;
}

RUN_TESTS(T(errors_name_the_line), T(version_is_the_hash_of_the_text),
	  T(conditions_select_accesses), T(hours_and_days_in_utc),
	  T(threshold_is_a_sliding_window_per_person), T(session_bytes_count_once_as_they_are_read),
	  T(sessions_are_per_boot_and_id), T(session_table_evicts_the_least_recently_updated))
