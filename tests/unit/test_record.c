// SPDX-License-Identifier: BSD-2-Clause
/* The canonical record codec: round trips, strictness, leaf hashes. */
#include <errno.h>
#include <stdlib.h>

#include "custos/abi.h"
#include "record.h"
#include "records.h"
#include "test.h"

static void sample_access(struct record *r)
{
	memset(r, 0, sizeof(*r));
	r->type = REC_FILE_ACCESS;
	r->seq = 41;
	r->epoch = 3;
	memset(r->prev_leaf, 0xab, sizeof(r->prev_leaf));
	memset(r->boot_id, 0x5c, sizeof(r->boot_id));
	r->t_real_ns = 1795000000123456789ULL;
	r->t_boot_ns = 987654321;
	r->access.op = OP_READ;
	r->access.open_flags = 0x8000;
	r->access.result = -13;
	r->access.pid = 100;
	r->access.tid = 101;
	r->access.ppid = 1;
	r->access.uid = 1000;
	r->access.euid = 0;
	r->access.loginuid = 1000;
	r->access.sessionid = 7;
	r->access.dev = 0xfe00;
	r->access.ino = 1ULL << 40;
	r->access.bpf_cpu = 1;
	r->access.bpf_seq = 99;
	r->access.bytes = 5000;
	r->access.reads = 2;
	r->access.dataset = str("customers");
	r->access.comm = str("cat");
	r->access.path = (struct bytes){ .p = (const uint8_t *)"/srv/a\n\xff", .len = 8 };
}

TEST(access_round_trip)
{
	uint8_t buf[RECORD_MAX], again[RECORD_MAX];
	struct record r, d;
	int n;

	sample_access(&r);
	n = record__encode(&r, buf, sizeof(buf));
	ASSERT_TRUE(n > RECORD_HDR_LEN);
	ASSERT_EQ(record__decode(&d, buf, n), 0);
	ASSERT_EQ(d.type, REC_FILE_ACCESS);
	ASSERT_EQ(d.seq, 41);
	ASSERT_EQ(d.epoch, 3);
	ASSERT_EQ(d.t_real_ns, 1795000000123456789ULL);
	ASSERT_EQ(d.access.result, -13);
	ASSERT_EQ(d.access.ino, 1ULL << 40);
	ASSERT_EQ(d.access.bytes, 5000);
	ASSERT_EQ(d.access.path.len, 8);
	ASSERT_TRUE(!memcmp(d.access.path.p, "/srv/a\n\xff", 8));
	ASSERT_TRUE(!memcmp(d.prev_leaf, r.prev_leaf, 32));
	ASSERT_EQ(record__encode(&d, again, sizeof(again)), n);
	ASSERT_TRUE(!memcmp(buf, again, n));
	ASSERT_STREQ(record__action(&d), "read");
	return true;
}

TEST(header_is_big_endian)
{
	uint8_t buf[RECORD_MAX];
	struct record r;

	sample_access(&r);
	ASSERT_TRUE(record__encode(&r, buf, sizeof(buf)) > 0);
	ASSERT_TRUE(!memcmp(buf, "CUS1", 4));
	ASSERT_EQ(buf[4], 0);
	ASSERT_EQ(buf[5], REC_FILE_ACCESS);
	ASSERT_EQ(buf[6 + 7], 41); /* seq, last byte */
	return true;
}

TEST(lifecycle_round_trip)
{
	uint8_t buf[RECORD_MAX];
	struct record r = { .type = REC_START }, d;
	int n;

	r.start.abi_version = CUSTOS_ABI_VERSION;
	r.start.pid = 4242;
	r.start.host = str("vm");
	r.start.version = str("0.1.0");
	r.start.backend = str("tracepoints");
	r.start.config = str("/srv=customers 254:0:2");
	n = record__encode(&r, buf, sizeof(buf));
	ASSERT_TRUE(n > 0);
	ASSERT_EQ(record__decode(&d, buf, n), 0);
	ASSERT_EQ(d.start.pid, 4242);
	ASSERT_EQ(d.start.config.len, strlen("/srv=customers 254:0:2"));
	ASSERT_STREQ(record__action(&d), "start");

	r = (struct record){ .type = REC_LOSS,
			     .loss = { .cpu = 1, .counter = 1, .count = 5, .total = 9 } };
	n = record__encode(&r, buf, sizeof(buf));
	ASSERT_EQ(record__decode(&d, buf, n), 0);
	ASSERT_EQ(d.loss.count, 5);
	ASSERT_EQ(d.loss.total, 9);

	r = (struct record){ .type = REC_STOP, .stop = { .events = 12, .reason = str("signal") } };
	n = record__encode(&r, buf, sizeof(buf));
	ASSERT_EQ(record__decode(&d, buf, n), 0);
	ASSERT_EQ(d.stop.events, 12);
	return true;
}

TEST(alert_round_trip)
{
	uint8_t buf[RECORD_MAX];
	struct record r = { .type = REC_ALERT, .seq = 9 }, d;
	char *detail;
	int n;

	r.alert.rule = str("bulk-read");
	r.alert.severity = SEV_HIGH;
	r.alert.summary = str("more than 1 MiB in a minute");
	r.alert.cause_seq = 8;
	r.alert.count = 3;
	r.alert.bytes = 3 << 20;
	r.alert.window_ns = 60000000000ULL;
	r.alert.person = str("e1001");
	r.alert.dataset = str("customers");
	r.alert.path = str("/srv/customers/a");
	memset(r.alert.rules, 0xab, sizeof(r.alert.rules));
	n = record__encode(&r, buf, sizeof(buf));
	ASSERT_TRUE(n > 0);
	ASSERT_EQ(record__decode(&d, buf, n), 0);
	ASSERT_EQ(d.alert.severity, SEV_HIGH);
	ASSERT_EQ(d.alert.cause_seq, 8);
	ASSERT_EQ(d.alert.bytes, 3 << 20);
	ASSERT_EQ(d.alert.rules[31], 0xab);
	ASSERT_STREQ(record__action(&d), "alert");
	ASSERT_STREQ(record__severity_name(d.alert.severity), "high");
	detail = record__detail(&d);
	ASSERT_STREQ(detail, "rule=bulk-read severity=high cause=8 count=3 bytes=3145728 "
			     "person=e1001 dataset=customers: more than 1 MiB in a minute");
	free(detail);
	/* A severity outside the scale still encodes (the reader names it unknown). */
	ASSERT_STREQ(record__severity_name(9), "unknown");
	return true;
}

/* A GAP carries what the kernel kept of it after the reason, and says so
 * in its detail. */
TEST(gap_round_trip)
{
	uint8_t buf[RECORD_MAX];
	struct record r = { .type = REC_GAP }, d;
	char *detail;
	int n;

	r.gap.from_ns = 1000000000;
	r.gap.to_ns = 3500000000;
	r.gap.reason = str("crash");
	r.gap.kept = GAP_KEPT_ALL;
	r.gap.lost = 7;
	r.gap.blind_from_ns = 2000000000;
	r.gap.blind_to_ns = 2250000000;
	n = record__encode(&r, buf, sizeof(buf));
	ASSERT_TRUE(n > 0);
	ASSERT_EQ(record__decode(&d, buf, n), 0);
	ASSERT_EQ(d.gap.kept, GAP_KEPT_ALL);
	ASSERT_EQ(d.gap.lost, 7);
	ASSERT_EQ(d.gap.blind_to_ns, 2250000000);
	ASSERT_EQ(d.gap.reason.len, 5);
	detail = record__detail(&d);
	ASSERT_STREQ(detail, "reason=crash seconds=2.500 kept=all lost=7 blind=0.250");
	free(detail);
	ASSERT_STREQ(record__gap_kept_name(GAP_KEPT_FAILCLOSED), "fail-closed");
	ASSERT_STREQ(record__gap_kept_name(3), "unknown");
	/* The body's last field cut: not a GAP. */
	ASSERT_EQ(record__decode(&d, buf, n - 1), -EBADMSG);
	return true;
}

/* Every single-byte change either fails to decode or decodes to something
 * that re-encodes to exactly the changed bytes (a different, valid record):
 * never to a record whose encoding differs from its input. */
TEST(decode_is_strict_under_bit_flips)
{
	uint8_t buf[RECORD_MAX], again[RECORD_MAX];
	struct record r, d;
	int n, rejected = 0;

	sample_access(&r);
	n = record__encode(&r, buf, sizeof(buf));
	for (int i = 0; i < n; i++) {
		buf[i] ^= 0x80;
		if (record__decode(&d, buf, n) == 0) {
			ASSERT_EQ(record__encode(&d, again, sizeof(again)), n);
			ASSERT_TRUE(!memcmp(again, buf, n));
		} else {
			rejected++;
		}
		buf[i] ^= 0x80;
	}
	/* Magic, type and every length prefix must have been rejected. */
	ASSERT_TRUE(rejected >= 4 + 1 + 2 + 4);
	return true;
}

TEST(decode_rejects_bad_framing)
{
	uint8_t buf[RECORD_MAX];
	struct record r, d;
	int n;

	sample_access(&r);
	n = record__encode(&r, buf, sizeof(buf));
	ASSERT_EQ(record__decode(&d, buf, n - 1), -EBADMSG); /* truncated */
	buf[n] = 0;
	ASSERT_EQ(record__decode(&d, buf, n + 1), -EBADMSG); /* trailing byte */
	ASSERT_EQ(record__decode(&d, buf, 3), -EBADMSG);
	buf[5] = 99; /* unknown type */
	ASSERT_EQ(record__decode(&d, buf, n), -EBADMSG);
	return true;
}

TEST(encode_rejects_oversized_fields)
{
	uint8_t buf[RECORD_MAX];
	static char long_path[RECORD_PATH_MAX + 1];
	struct record r;

	sample_access(&r);
	memset(long_path, 'a', sizeof(long_path));
	r.access.path = (struct bytes){ .p = (const uint8_t *)long_path, .len = sizeof(long_path) };
	ASSERT_EQ(record__encode(&r, buf, sizeof(buf)), -EINVAL);
	sample_access(&r);
	ASSERT_EQ(record__encode(&r, buf, 20), -ENOSPC);
	r.type = 99;
	ASSERT_EQ(record__encode(&r, buf, sizeof(buf)), -EINVAL);
	return true;
}

RUN_TESTS(T(access_round_trip), T(header_is_big_endian), T(lifecycle_round_trip),
	  T(alert_round_trip), T(gap_round_trip), T(decode_is_strict_under_bit_flips),
	  T(decode_rejects_bad_framing), T(encode_rejects_oversized_fields))
