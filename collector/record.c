// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "custos/abi.h"
#include "record.h"

/* The numbers the SQL of the views spells out are the enums' (record.h). */
#define ASSERT_NUMBER(e, n, name) _Static_assert(e == n, #e " is " #n);

/*
 * The codec is written once per type as a list of fields walked by one
 * function in either direction, so the encoder and the decoder cannot
 * disagree about the layout.
 */
struct cursor {
	uint8_t *w;	  /* encoding: output */
	const uint8_t *r; /* decoding: input */
	size_t len, pos;
	int err;
};

/* The walkers below run once per field of every record the collector writes
 * and the verifier replays: they are inline, and move whole words. */
static inline int need(struct cursor *c, size_t n)
{
	if (!c->err && c->pos + n > c->len)
		c->err = c->w ? -ENOSPC : -EBADMSG;
	return c->err;
}

static inline void u64(struct cursor *c, uint64_t *v)
{
	uint64_t be;

	if (need(c, 8))
		return;
	if (c->w) {
		be = __builtin_bswap64(*v);
		memcpy(c->w + c->pos, &be, 8);
	} else {
		memcpy(&be, c->r + c->pos, 8);
		*v = __builtin_bswap64(be);
	}
	c->pos += 8;
}

static inline void u32(struct cursor *c, uint32_t *v)
{
	uint32_t be;

	if (need(c, 4))
		return;
	if (c->w) {
		be = __builtin_bswap32(*v);
		memcpy(c->w + c->pos, &be, 4);
	} else {
		memcpy(&be, c->r + c->pos, 4);
		*v = __builtin_bswap32(be);
	}
	c->pos += 4;
}

static inline void u16(struct cursor *c, uint16_t *v)
{
	uint16_t be;

	if (need(c, 2))
		return;
	if (c->w) {
		be = __builtin_bswap16(*v);
		memcpy(c->w + c->pos, &be, 2);
	} else {
		memcpy(&be, c->r + c->pos, 2);
		*v = __builtin_bswap16(be);
	}
	c->pos += 2;
}

static inline void fixed(struct cursor *c, uint8_t *p, size_t n)
{
	need(c, n);
	if (c->err)
		return;
	if (c->w)
		memcpy(c->w + c->pos, p, n);
	else
		memcpy(p, c->r + c->pos, n);
	c->pos += n;
}

/* opaque x<0..max>: a length prefix of 1 byte (max < 256) or 2 bytes. */
static void opaque(struct cursor *c, struct bytes *b, uint16_t max)
{
	uint16_t n = b->len;

	if (c->w && n > max) {
		c->err = c->err ? c->err : -EINVAL;
		return;
	}
	if (max < 256) {
		uint32_t n32 = n;
		uint8_t n8 = n32;

		fixed(c, &n8, 1);
		n = n8;
	} else {
		u16(c, &n);
	}
	if (!c->w && n > max && !c->err)
		c->err = -EBADMSG;
	need(c, n);
	if (c->err)
		return;
	if (c->w) {
		if (n)
			memcpy(c->w + c->pos, b->p, n);
	} else
		*b = (struct bytes){ .p = c->r + c->pos, .len = n };
	c->pos += n;
}

static void s32(struct cursor *c, int32_t *v)
{
	uint32_t x = (uint32_t)*v;

	u32(c, &x);
	*v = (int32_t)x;
}

/*
 * FileAccess body:
 *   uint64 event_ns; uint32 op, open_flags; int32 result; uint32 pid, tid, ppid;
 *   uint32 uid, euid, fsuid, gid, egid, loginuid, sessionid;
 *   uint64 cgroup_id, dev, ino; uint32 mode, mnt_id, path_flags, bpf_cpu;
 *   uint64 bpf_seq, bytes, reads, first_ns, last_ns;
 *   opaque dataset<0..255>; opaque comm<0..16>; opaque exe<0..4096>;
 *   opaque path<0..4096>; uint32 sid, tty; uint64 start_ns; opaque args<0..256>;
 *   opaque lineage<0..1024>; opaque container<0..255>; opaque person<0..255>;
 *   opaque attribution<0..255>; opaque team<0..255>; opaque role<0..255>;
 *   opaque directory<0..32>; uint32 staff_flags, read_paths, partial;
 *   uint64 min_offset, max_offset; uint32 abi, access_flags; uint64 session;
 *   opaque target<0..4096>; uint32 target_flags;
 */
static void body_access(struct cursor *c, struct rec_access *a)
{
	u64(c, &a->event_ns);
	u32(c, &a->op);
	u32(c, &a->open_flags);
	s32(c, &a->result);
	u32(c, &a->pid);
	u32(c, &a->tid);
	u32(c, &a->ppid);
	u32(c, &a->uid);
	u32(c, &a->euid);
	u32(c, &a->fsuid);
	u32(c, &a->gid);
	u32(c, &a->egid);
	u32(c, &a->loginuid);
	u32(c, &a->sessionid);
	u64(c, &a->cgroup_id);
	u64(c, &a->dev);
	u64(c, &a->ino);
	u32(c, &a->mode);
	u32(c, &a->mnt_id);
	u32(c, &a->path_flags);
	u32(c, &a->bpf_cpu);
	u64(c, &a->bpf_seq);
	u64(c, &a->bytes);
	u64(c, &a->reads);
	u64(c, &a->first_ns);
	u64(c, &a->last_ns);
	opaque(c, &a->dataset, RECORD_NAME_MAX);
	opaque(c, &a->comm, CUSTOS_COMM_LEN);
	opaque(c, &a->exe, RECORD_PATH_MAX);
	opaque(c, &a->path, RECORD_PATH_MAX);
	u32(c, &a->sid);
	u32(c, &a->tty);
	u64(c, &a->start_ns);
	opaque(c, &a->args, RECORD_ARGS_MAX);
	opaque(c, &a->lineage, RECORD_LINEAGE_MAX);
	opaque(c, &a->container, RECORD_NAME_MAX);
	opaque(c, &a->person, RECORD_NAME_MAX);
	opaque(c, &a->attribution, RECORD_NAME_MAX);
	opaque(c, &a->team, RECORD_NAME_MAX);
	opaque(c, &a->role, RECORD_NAME_MAX);
	opaque(c, &a->directory, 32);
	u32(c, &a->staff_flags);
	u32(c, &a->read_paths);
	u32(c, &a->partial);
	u64(c, &a->min_offset);
	u64(c, &a->max_offset);
	u32(c, &a->abi);
	u32(c, &a->access_flags);
	u64(c, &a->session);
	opaque(c, &a->target, RECORD_PATH_MAX);
	u32(c, &a->target_flags);
}

/* Start body: uint32 abi_version, pid; opaque host<0..255>;
 * opaque version<0..255>; opaque backend<0..255>; opaque config<0..65535>; */
static void body_start(struct cursor *c, struct rec_start *s)
{
	u32(c, &s->abi_version);
	u32(c, &s->pid);
	opaque(c, &s->host, RECORD_NAME_MAX);
	opaque(c, &s->version, RECORD_NAME_MAX);
	opaque(c, &s->backend, RECORD_NAME_MAX);
	opaque(c, &s->config, UINT16_MAX);
}

/* Stop body: uint64 events; opaque reason<0..255>; */
static void body_stop(struct cursor *c, struct rec_stop *s)
{
	u64(c, &s->events);
	opaque(c, &s->reason, RECORD_NAME_MAX);
}

/* Loss body: uint32 cpu, counter; uint64 count, total; */
static void body_loss(struct cursor *c, struct rec_loss *l)
{
	u32(c, &l->cpu);
	u32(c, &l->counter);
	u64(c, &l->count);
	u64(c, &l->total);
}

static void i64(struct cursor *c, int64_t *v)
{
	uint64_t x = (uint64_t)*v;

	u64(c, &x);
	*v = (int64_t)x;
}

/* Genesis body: opaque origin<0..255>; opaque log_key[32]; opaque epoch_key[32];
 * uint64 t0_ns, interval_ns, heartbeat_ns; opaque software[32]; opaque config[32]; */
static void body_genesis(struct cursor *c, struct rec_genesis *g)
{
	opaque(c, &g->origin, RECORD_NAME_MAX);
	fixed(c, g->log_key, sizeof(g->log_key));
	fixed(c, g->epoch_key, sizeof(g->epoch_key));
	u64(c, &g->t0_ns);
	u64(c, &g->interval_ns);
	u64(c, &g->heartbeat_ns);
	fixed(c, g->software, sizeof(g->software));
	fixed(c, g->config, sizeof(g->config));
}

/* EpochClose body: uint64 epoch, next_epoch; opaque next_key[32]; uint64 records;
 * opaque reason<0..255>; */
static void body_epoch_close(struct cursor *c, struct rec_epoch_close *e)
{
	u64(c, &e->epoch);
	u64(c, &e->next_epoch);
	fixed(c, e->next_key, sizeof(e->next_key));
	u64(c, &e->records);
	opaque(c, &e->reason, RECORD_NAME_MAX);
}

/* Heartbeat body: uint64 events, kernel_lost, kernel_events, pending; */
static void body_heartbeat(struct cursor *c, struct rec_heartbeat *h)
{
	u64(c, &h->events);
	u64(c, &h->kernel_lost);
	u64(c, &h->kernel_events);
	u64(c, &h->pending);
}

/* Gap body: uint64 from_ns, to_ns; opaque from_boot[16]; opaque to_boot[16];
 * opaque reason<0..255>; uint8 kept; uint64 lost; uint64 blind_from_ns,
 * blind_to_ns; */
static void body_gap(struct cursor *c, struct rec_gap *g)
{
	u64(c, &g->from_ns);
	u64(c, &g->to_ns);
	fixed(c, g->from_boot, sizeof(g->from_boot));
	fixed(c, g->to_boot, sizeof(g->to_boot));
	opaque(c, &g->reason, RECORD_NAME_MAX);
	fixed(c, &g->kept, 1);
	u64(c, &g->lost);
	u64(c, &g->blind_from_ns);
	u64(c, &g->blind_to_ns);
}

/* Clock body: int64 old_offset_ns, new_offset_ns; */
static void body_clock(struct cursor *c, struct rec_clock *k)
{
	i64(c, &k->old_offset_ns);
	i64(c, &k->new_offset_ns);
}

/* Config body: opaque text<0..65535>; opaque hash[32]; */
static void body_config(struct cursor *c, struct rec_config *k)
{
	opaque(c, &k->text, UINT16_MAX);
	fixed(c, k->hash, sizeof(k->hash));
}

/* Alert body: opaque rule<0..255>; uint32 severity; opaque summary<0..1023>;
 * uint64 cause_seq, count, bytes, window_ns; opaque person<0..255>;
 * opaque dataset<0..255>; opaque path<0..4096>; opaque rules[32]; */
static void body_alert(struct cursor *c, struct rec_alert *a)
{
	opaque(c, &a->rule, RECORD_NAME_MAX);
	u32(c, &a->severity);
	opaque(c, &a->summary, RECORD_SUMMARY_MAX);
	u64(c, &a->cause_seq);
	u64(c, &a->count);
	u64(c, &a->bytes);
	u64(c, &a->window_ns);
	opaque(c, &a->person, RECORD_NAME_MAX);
	opaque(c, &a->dataset, RECORD_NAME_MAX);
	opaque(c, &a->path, RECORD_PATH_MAX);
	fixed(c, a->rules, sizeof(a->rules));
}

static int body(struct cursor *c, struct record *r)
{
	switch (r->type) {
	case REC_FILE_ACCESS:
		body_access(c, &r->access);
		break;
	case REC_START:
		body_start(c, &r->start);
		break;
	case REC_STOP:
		body_stop(c, &r->stop);
		break;
	case REC_LOSS:
		body_loss(c, &r->loss);
		break;
	case REC_GENESIS:
		body_genesis(c, &r->genesis);
		break;
	case REC_EPOCH_CLOSE:
		body_epoch_close(c, &r->epoch_close);
		break;
	case REC_HEARTBEAT:
		body_heartbeat(c, &r->heartbeat);
		break;
	case REC_GAP:
		body_gap(c, &r->gap);
		break;
	case REC_CLOCK:
		body_clock(c, &r->clock);
		break;
	case REC_CONFIG:
		body_config(c, &r->config);
		break;
	case REC_ALERT:
		body_alert(c, &r->alert);
		break;
	default:
		return c->w ? -EINVAL : -EBADMSG;
	}
	return c->err;
}

/* The whole record, in either direction.  The body length is written after
 * the body, once it is known. */
static int walk(struct cursor *c, struct record *r)
{
	uint8_t magic[4];
	uint16_t body_len = 0;
	size_t len_at, body_at;
	int err;

	memcpy(magic, RECORD_MAGIC, 4);
	fixed(c, magic, 4);
	if (!c->w && !c->err && memcmp(magic, RECORD_MAGIC, 4))
		return -EBADMSG;
	u16(c, &r->type);
	u64(c, &r->seq);
	u64(c, &r->epoch);
	fixed(c, r->prev_leaf, sizeof(r->prev_leaf));
	fixed(c, r->boot_id, sizeof(r->boot_id));
	u64(c, &r->t_real_ns);
	u64(c, &r->t_boot_ns);
	len_at = c->pos;
	u16(c, &body_len);
	if (c->err)
		return c->err;
	body_at = c->pos;
	if (!c->w) {
		/* The body must end exactly where the record ends. */
		if (body_at + body_len != c->len)
			return -EBADMSG;
	}
	err = body(c, r);
	if (err)
		return err;
	if (c->w) {
		if (c->pos - body_at > UINT16_MAX)
			return -EINVAL;
		body_len = c->pos - body_at;
		c->w[len_at] = body_len >> 8;
		c->w[len_at + 1] = body_len;
	} else if (c->pos != c->len) {
		return -EBADMSG;
	}
	return 0;
}

int record__encode(const struct record *r, uint8_t *buf, size_t cap)
{
	struct cursor c = { .w = buf, .len = cap };
	struct record copy = *r;
	int err;

	err = walk(&c, &copy);
	return err ? err : (int)c.pos;
}

int record__decode(struct record *r, const uint8_t *buf, size_t len)
{
	struct cursor c = { .r = buf, .len = len };
	uint8_t again[RECORD_MAX];
	int n;

	memset(r, 0, sizeof(*r));
	if (len > RECORD_MAX || walk(&c, r))
		return -EBADMSG;
	/* Canonical means one encoding per value: re-encode and compare. */
	n = record__encode(r, again, sizeof(again));
	if (n != (int)len || memcmp(again, buf, len))
		return -EBADMSG;
	return 0;
}

int record__encode_body(const struct record *r, uint8_t *buf, size_t cap)
{
	struct cursor c = { .w = buf, .len = cap };
	struct record copy = *r;
	int err = body(&c, &copy);

	return err ? err : (int)c.pos;
}

int record__decode_body(struct record *r, const uint8_t *buf, size_t len)
{
	struct cursor c = { .r = buf, .len = len };
	uint8_t again[RECORD_MAX];
	int n;

	if (len > RECORD_MAX || body(&c, r) || c.pos != len)
		return -EBADMSG;
	n = record__encode_body(r, again, sizeof(again));
	if (n != (int)len || memcmp(again, buf, len))
		return -EBADMSG;
	return 0;
}

const char *record__gap_kept_name(uint8_t kept)
{
	static const char *const names[] = {
		[GAP_KEPT_NONE] = "none",
		[GAP_KEPT_ALL] = "all",
		[GAP_KEPT_FAILCLOSED] = "fail-closed",
	};

	return kept < sizeof(names) / sizeof(names[0]) ? names[kept] : "unknown";
}

const char *record__severity_name(uint32_t severity)
{
	static const char *const names[] = {
		[SEV_INFO] = "info", [SEV_LOW] = "low",		  [SEV_MEDIUM] = "medium",
		[SEV_HIGH] = "high", [SEV_CRITICAL] = "critical",
	};

	if (severity < sizeof(names) / sizeof(names[0]) && names[severity])
		return names[severity];
	return "unknown";
}

/* The names of enum custos_abi's bits, in bit order; the last entry takes
 * every other bit. */
static const struct {
	uint32_t bit;
	const char *name;
} abi_names[] = {
	{ CUSTOS_ABI_X86_64, "x86_64" },
	{ CUSTOS_ABI_I386, "i386" },
	{ CUSTOS_ABI_X32, "x32" },
	{ ~(uint32_t)(CUSTOS_ABI_X86_64 | CUSTOS_ABI_I386 | CUSTOS_ABI_X32), "unknown" },
};

void record__abi_names(uint32_t abi, char buf[RECORD_ABI_NAMES_MAX])
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(abi_names) / sizeof(abi_names[0]); i++)
		if (abi & abi_names[i].bit)
			n += snprintf(buf + n, RECORD_ABI_NAMES_MAX - n, "%s%s", n ? "," : "",
				      abi_names[i].name);
}

uint32_t record__abi_bit(const char *name)
{
	/* "unknown" names no bit of its own. */
	for (size_t i = 0; i + 1 < sizeof(abi_names) / sizeof(abi_names[0]); i++)
		if (!strcmp(name, abi_names[i].name))
			return abi_names[i].bit;
	return 0;
}

RECORD_LOSS_COUNTERS(ASSERT_NUMBER)

static const char *stat_name(uint32_t counter)
{
	static const struct {
		uint32_t counter;
		const char *name;
	} names[] = {
#define COUNTER(e, n, name) { e, name },
		RECORD_LOSS_COUNTERS(COUNTER)
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].counter == counter)
			return names[i].name;
	return "unknown";
}

char *record__detail(const struct record *r)
{
	char *s = NULL;
	int n = -1;

	switch (r->type) {
	case REC_START:
		n = asprintf(&s, "host=%.*s version=%.*s backend=%.*s abi=%u pid=%u watch=%.*s",
			     r->start.host.len, r->start.host.p, r->start.version.len,
			     r->start.version.p, r->start.backend.len, r->start.backend.p,
			     r->start.abi_version, r->start.pid, r->start.config.len,
			     r->start.config.p);
		break;
	case REC_STOP:
		n = asprintf(&s, "reason=%.*s events=%" PRIu64, r->stop.reason.len,
			     r->stop.reason.p, r->stop.events);
		break;
	case REC_LOSS:
		n = asprintf(&s, "cpu=%u counter=%s count=%" PRIu64 " total=%" PRIu64, r->loss.cpu,
			     stat_name(r->loss.counter), r->loss.count, r->loss.total);
		break;
	case REC_GENESIS:
		n = asprintf(&s, "origin=%.*s interval=%gs heartbeat=%gs", r->genesis.origin.len,
			     r->genesis.origin.p, r->genesis.interval_ns / 1e9,
			     r->genesis.heartbeat_ns / 1e9);
		break;
	case REC_EPOCH_CLOSE:
		n = asprintf(
			&s, "epoch=%" PRIu64 " next=%" PRIu64 " records=%" PRIu64 " reason=%.*s",
			r->epoch_close.epoch, r->epoch_close.next_epoch, r->epoch_close.records,
			r->epoch_close.reason.len, r->epoch_close.reason.p);
		break;
	case REC_HEARTBEAT:
		n = asprintf(&s,
			     "events=%" PRIu64 " kernel_events=%" PRIu64 " kernel_lost=%" PRIu64
			     " pending=%" PRIu64,
			     r->heartbeat.events, r->heartbeat.kernel_events,
			     r->heartbeat.kernel_lost, r->heartbeat.pending);
		break;
	case REC_GAP:
		n = asprintf(&s, "reason=%.*s seconds=%.3f kept=%s lost=%" PRIu64 " blind=%.3f",
			     r->gap.reason.len, r->gap.reason.p,
			     ((double)r->gap.to_ns - (double)r->gap.from_ns) / 1e9,
			     record__gap_kept_name(r->gap.kept), r->gap.lost,
			     ((double)r->gap.blind_to_ns - (double)r->gap.blind_from_ns) / 1e9);
		break;
	case REC_CLOCK:
		n = asprintf(&s, "offset_change_ns=%" PRId64,
			     r->clock.new_offset_ns - r->clock.old_offset_ns);
		break;
	case REC_CONFIG:
		n = asprintf(&s, "watch=%.*s", r->config.text.len, r->config.text.p);
		break;
	case REC_ALERT:
		n = asprintf(&s,
			     "rule=%.*s severity=%s cause=%" PRIu64 " count=%" PRIu64
			     " bytes=%" PRIu64 " person=%.*s dataset=%.*s: %.*s",
			     r->alert.rule.len, r->alert.rule.p,
			     record__severity_name(r->alert.severity), r->alert.cause_seq,
			     r->alert.count, r->alert.bytes, r->alert.person.len, r->alert.person.p,
			     r->alert.dataset.len, r->alert.dataset.p, r->alert.summary.len,
			     r->alert.summary.p);
		break;
	default:
		return NULL;
	}
	return n < 0 ? NULL : s;
}

RECORD_OPS(ASSERT_NUMBER)
RECORD_TYPES(ASSERT_NUMBER)

/* Ops number from 1 and types from 2 (FILE_ACCESS is shown by its op), each
 * without holes: the entries are counted, and a number given twice is an
 * initializer given twice, which the build refuses. */
#define COUNT(e, n, name) +1
_Static_assert(0 RECORD_OPS(COUNT) == RECORD_ACTION_OPS, "RECORD_ACTION_OPS counts RECORD_OPS");
_Static_assert(0 RECORD_OPS(COUNT) RECORD_TYPES(COUNT) == RECORD_ACTIONS,
	       "RECORD_ACTIONS counts RECORD_OPS and RECORD_TYPES");
#define OP_NAME(e, n, name)   [RECORD_ACTION_OF_OP(n)] = name,
#define TYPE_NAME(e, n, name) [RECORD_ACTION_OF_TYPE(n)] = name,
static const char *const action_names[RECORD_ACTIONS] = { RECORD_OPS(OP_NAME)
								  RECORD_TYPES(TYPE_NAME) };

int record__action_id(const struct record *r)
{
	if (r->type == REC_FILE_ACCESS)
		return r->access.op >= 1 && r->access.op <= RECORD_ACTION_OPS
			       ? RECORD_ACTION_OF_OP((int)r->access.op)
			       : -1;
	return r->type >= 2 && RECORD_ACTION_OF_TYPE(r->type) < RECORD_ACTIONS
		       ? RECORD_ACTION_OF_TYPE(r->type)
		       : -1;
}

const char *record__action_name(int id)
{
	return id >= 0 && id < RECORD_ACTIONS ? action_names[id] : "unknown";
}

int record__action_find(const char *s, size_t n)
{
	for (int i = 0; i < RECORD_ACTIONS; i++)
		if (strlen(action_names[i]) == n && !memcmp(s, action_names[i], n))
			return i;
	return -1;
}

const char *record__action(const struct record *r)
{
	return record__action_name(record__action_id(r));
}
