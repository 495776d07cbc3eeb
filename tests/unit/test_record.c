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

/* The fields after max_offset, at the end of the body: abi, access_flags,
 * session, target<0..4096>, target_flags. */
TEST(link_fields_round_trip)
{
	static const uint8_t target[] = "/home/e1001/copy\xff";
	uint8_t buf[RECORD_MAX], *p;
	struct record r, d;
	int n;

	sample_access(&r);
	r.access.op = OP_RENAME;
	r.access.abi = CUSTOS_ABI_X86_64 | CUSTOS_ABI_I386;
	r.access.access_flags = RECORD_ACCESS_DISCOVERED;
	r.access.session = 0x0123456789abcdefULL;
	r.access.target = (struct bytes){ .p = target, .len = sizeof(target) - 1 };
	r.access.target_flags = CUSTOS_PATH_UNRESOLVED;
	n = record__encode(&r, buf, sizeof(buf));
	ASSERT_TRUE(n > 0);
	ASSERT_EQ(record__decode(&d, buf, n), 0);
	ASSERT_STREQ(record__action(&d), "rename");
	ASSERT_EQ(d.access.abi, 3);
	ASSERT_EQ(d.access.access_flags, RECORD_ACCESS_DISCOVERED);
	ASSERT_TRUE(d.access.session == 0x0123456789abcdefULL);
	ASSERT_EQ(d.access.target.len, sizeof(target) - 1);
	ASSERT_TRUE(!memcmp(d.access.target.p, target, sizeof(target) - 1));
	ASSERT_EQ(d.access.target_flags, CUSTOS_PATH_UNRESOLVED);
	/* Big-endian at the very end: ... session, 2-byte length, target, flags. */
	p = buf + n - 4 - (sizeof(target) - 1) - 2 - 8 - 4 - 4;
	ASSERT_TRUE(!memcmp(p, "\0\0\0\3\0\0\0\1\x01\x23\x45\x67\x89\xab\xcd\xef\0\x11", 18));
	ASSERT_TRUE(!memcmp(buf + n - 4, "\0\0\0\4", 4));
	r.access.op = OP_LINK;
	ASSERT_TRUE(record__encode(&r, buf, sizeof(buf)) == n);
	ASSERT_EQ(record__decode(&d, buf, n), 0);
	ASSERT_STREQ(record__action(&d), "link");
	return true;
}

/* A target past 4096 bytes is refused both ways, and a body without the new
 * fields (a record of the layout before them) does not decode. */
TEST(target_is_bounded_and_required)
{
	static char long_target[RECORD_PATH_MAX + 1];
	uint8_t buf[RECORD_MAX];
	struct record r, d;
	int n, at;

	sample_access(&r);
	memset(long_target, 'a', sizeof(long_target));
	r.access.target =
		(struct bytes){ .p = (const uint8_t *)long_target, .len = sizeof(long_target) };
	ASSERT_EQ(record__encode(&r, buf, sizeof(buf)), -EINVAL);
	/* 4096 bytes encode; a length prefix of 4097 over the same bytes does not decode. */
	r.access.target.len = RECORD_PATH_MAX;
	n = record__encode(&r, buf, sizeof(buf));
	ASSERT_TRUE(n > 0);
	ASSERT_EQ(record__decode(&d, buf, n), 0);
	at = n - 4 - RECORD_PATH_MAX - 2;
	ASSERT_EQ(buf[at], RECORD_PATH_MAX >> 8);
	ASSERT_EQ(buf[at + 1], 0);
	buf[at + 1] = 1;
	ASSERT_EQ(record__decode(&d, buf, n), -EBADMSG);
	/* Without the 18 bytes after max_offset and an empty target: body and
	 * record lengths made to agree, the body is still short. */
	sample_access(&r);
	n = record__encode(&r, buf, sizeof(buf));
	n -= 4 + 2 + 8 + 4 + 4;
	buf[RECORD_HDR_LEN - 2] = (n - RECORD_HDR_LEN) >> 8;
	buf[RECORD_HDR_LEN - 1] = (uint8_t)(n - RECORD_HDR_LEN);
	ASSERT_EQ(record__decode(&d, buf, n), -EBADMSG);
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

RUN_TESTS(T(access_round_trip), T(link_fields_round_trip), T(target_is_bounded_and_required),
	  T(header_is_big_endian), T(lifecycle_round_trip), T(alert_round_trip), T(gap_round_trip),
	  T(decode_is_strict_under_bit_flips), T(decode_rejects_bad_framing),
	  T(encode_rejects_oversized_fields))
