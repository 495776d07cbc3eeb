/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The canonical ledger record (docs/record-format.md): one encoder
 * and one strict decoder, shared by custosd and every reader.
 *
 * Wire form, TLS presentation language, big-endian:
 *   opaque magic[4] = "CUS1"; uint16 type; uint64 seq; uint64 epoch;
 *   opaque prev_leaf[32]; opaque boot_id[16]; uint64 t_real_ns;
 *   uint64 t_boot_ns; opaque body<0..2^16-1>;
 * The body of each type is laid out in record.c, next to its codec.
 * seq is the leaf index; prev_leaf is the previous record's leaf hash
 * (merkle__hash_leaf: SHA-256(0x00 || its bytes)), all
 * zero for seq 0, so the records form a hash chain as they are written.
 * The header times say when the record entered the ledger (they only grow
 * within a boot, which the epoch rules rely on); an access's own time, from
 * the kernel, is event_ns in its body.
 */
#ifndef CUSTOS_RECORD_H
#define CUSTOS_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RECORD_MAGIC	   "CUS1"
#define RECORD_HDR_LEN	   (4 + 2 + 8 + 8 + 32 + 16 + 8 + 8 + 2)
#define RECORD_MAX	   65535
#define RECORD_PATH_MAX	   4096
#define RECORD_NAME_MAX	   255
#define RECORD_SUMMARY_MAX 1023
#define RECORD_LEAF_LEN	   32

enum record_type {
	REC_FILE_ACCESS = 1,
	REC_HEARTBEAT = 2,
	REC_GAP = 3,
	REC_LOSS = 4,
	REC_EPOCH_CLOSE = 5,
	REC_GENESIS = 6,
	REC_START = 7,
	REC_STOP = 8,
	REC_CLOCK = 9,
	REC_CONFIG = 10,
	REC_ANCHOR = 11,
	REC_ALERT = 12,
};

/* FileAccess.op */
enum record_op {
	OP_OPEN = 1,
	OP_READ = 2,	  /* one read session: totals of an open file description */
	OP_MMAP = 3,	  /* a mapping of the file: its pages can be read without syscalls */
	OP_READ_CALL = 4, /* one read call (--fine-reads), besides its session */
	/* A protected file got a name outside its tree: path is the protected
	 * (old) name, target the new one. */
	OP_LINK = 5,   /* a hard link made outside the tree */
	OP_RENAME = 6, /* the file moved out of its tree */
};

/*
 * The actions a record is shown as, named once: an access by its op, any
 * other record by its type (docs/record-format.md).  Each entry is (enum
 * value, its number as SQL spells it, name).  record.c asserts the numbers;
 * the SQL of views.c and store_layout.c is made of RECORD_SQL_WHEN arms,
 * and custos query and the alert rules look names up with
 * record__action_find: a new op or type is one line here.
 */
#define RECORD_OPS(X)                                                                              \
	X(OP_OPEN, 1, "open")                                                                      \
	X(OP_READ, 2, "read")                                                                      \
	X(OP_MMAP, 3, "mmap")                                                                      \
	X(OP_READ_CALL, 4, "read_call")                                                            \
	X(OP_LINK, 5, "link")                                                                      \
	X(OP_RENAME, 6, "rename")
/* Every type but FILE_ACCESS, which is shown by its op. */
#define RECORD_TYPES(X)                                                                            \
	X(REC_HEARTBEAT, 2, "heartbeat")                                                           \
	X(REC_GAP, 3, "gap")                                                                       \
	X(REC_LOSS, 4, "loss")                                                                     \
	X(REC_EPOCH_CLOSE, 5, "epoch_close")                                                       \
	X(REC_GENESIS, 6, "genesis")                                                               \
	X(REC_START, 7, "start")                                                                   \
	X(REC_STOP, 8, "stop")                                                                     \
	X(REC_CLOCK, 9, "clock")                                                                   \
	X(REC_CONFIG, 10, "config")                                                                \
	X(REC_ANCHOR, 11, "anchor")                                                                \
	X(REC_ALERT, 12, "alert")

/* " WHEN 1 THEN 'open'": an arm of the SQL CASE that names an action. */
#define RECORD_SQL_WHEN(e, n, name) " WHEN " #n " THEN '" name "'"

/* A byte string that points into memory the caller owns. */
struct bytes {
	const uint8_t *p;
	uint16_t len;
};

static inline struct bytes record__bytes(const void *p, size_t len)
{
	return (struct bytes){ .p = p, .len = (uint16_t)len };
}

struct rec_access {
	uint64_t event_ns; /* CLOCK_REALTIME of the access (a read: its last close) */
	uint32_t op;
	uint32_t open_flags;
	int32_t result; /* fd or 0 on success, -errno on failure */
	uint32_t pid, tid, ppid;
	uint32_t uid, euid, fsuid, gid, egid, loginuid, sessionid;
	uint64_t cgroup_id;
	uint64_t dev; /* stat(2) encoding */
	uint64_t ino;
	uint32_t mode;
	uint32_t mnt_id;
	uint32_t path_flags; /* CUSTOS_PATH_* */
	uint32_t bpf_cpu;
	uint64_t bpf_seq;
	uint64_t bytes, reads;	    /* OP_READ */
	uint64_t first_ns, last_ns; /* OP_READ, CLOCK_REALTIME */
	struct bytes dataset;	    /* label of the protected tree */
	struct bytes comm;
	struct bytes exe;
	struct bytes path; /* raw bytes as the kernel resolved them */
	/* The process, from the process table. */
	uint32_t sid;		/* session (leader's pid) */
	uint32_t tty;		/* controlling terminal, stat(2) dev_t encoding; 0 for none */
	uint64_t start_ns;	/* the process's start, CLOCK_REALTIME */
	struct bytes args;	/* its arguments, NUL-separated, at most 256 bytes */
	struct bytes lineage;	/* "sshd→bash→sudo→bash→cat", oldest first */
	struct bytes container; /* container id from the cgroup path, or empty */
	/* Who: the staff directory's answer at the time of the access. */
	struct bytes person;	  /* staff id, "service:NAME", or empty */
	struct bytes attribution; /* "loginuid", "uid", "service", "unattributed" */
	struct bytes team, role;
	struct bytes directory; /* SHA-256 of the directory file in force; empty if none */
	uint32_t staff_flags;	/* RECORD_STAFF_* */
	uint32_t read_paths;	/* OP_READ: enum custos_read_path bits */
	uint32_t partial;	/* OP_READ: 1 for a progress report of a session still open */
	uint64_t min_offset;	/* OP_READ: lowest offset read; UINT64_MAX when none known */
	uint64_t max_offset;	/* OP_READ: end of the highest range read */
	uint32_t abi;		/* enum custos_abi bits: the call's (a read: of every call
				 * counted); 0 for none known (a kernel thread's own) */
	uint32_t access_flags;	/* RECORD_ACCESS_* */
	/* The kernel's read session, unique within a boot (boot_id): on the
	 * open that started it and on its read, read_call and mmap records;
	 * 0 for none. */
	uint64_t session;
	struct bytes target;   /* OP_LINK, OP_RENAME: the new name, raw bytes */
	uint32_t target_flags; /* CUSTOS_PATH_* of target */
};

#define RECORD_STAFF_LEFT  (1u << 0) /* the person's status is "left" */
#define RECORD_ARGS_MAX	   256
#define RECORD_LINEAGE_MAX 1024

/* rec_access.access_flags.  DISCOVERED: an open not seen when it happened
 * (made before custosd ran, or by the kernel for someone) but found at the
 * first read or mmap through its file description; the record's task is
 * that reader, not the opener. */
#define RECORD_ACCESS_DISCOVERED (1u << 0)

/* START: the collector began; what it runs and watches. */
struct rec_start {
	uint32_t abi_version;
	uint32_t pid;
	struct bytes host;
	struct bytes version;
	struct bytes backend;
	struct bytes config; /* the watch list, one "DIR=LABEL dev:ino" per line */
};

/* STOP: a clean shutdown, with the totals of the run. */
struct rec_stop {
	uint64_t events; /* events the collector stored in this run */
	struct bytes reason;
};

/* LOSS counters of the collector's own, past the kernel's (enum
 * custos_stat), with cpu UINT32_MAX: ring records that did not parse
 * (CUSTOS_STAT_MAX, "malformed"), and records passed over because another
 * process moved the ring's read position ("ring_moved"; a number of its
 * own, so that a kernel counter added later cannot take it). */
#define RECORD_LOSS_RING_MOVED 256

/* The names of the LOSS counters, as the record lists (RECORD_OPS) are made. */
#define RECORD_LOSS_COUNTERS(X)                                                                    \
	X(CUSTOS_STAT_EVENTS, 0, "events")                                                         \
	X(CUSTOS_STAT_RB_FULL, 1, "ring_full")                                                     \
	X(CUSTOS_STAT_PROBE_READ, 2, "probe_read")                                                 \
	X(CUSTOS_STAT_PATH_TRUNCATED, 3, "path_truncated")                                         \
	X(CUSTOS_STAT_STASH_FULL, 4, "stash_full")                                                 \
	X(CUSTOS_STAT_SESSION_FULL, 5, "session_full")                                             \
	X(CUSTOS_STAT_PROC_LOST, 6, "proc_lost")                                                   \
	X(CUSTOS_STAT_DENIED, 7, "denied")                                                         \
	X(CUSTOS_STAT_INODES_FULL, 8, "inodes_full")                                               \
	X(CUSTOS_STAT_MAX, 9, "malformed")                                                         \
	X(RECORD_LOSS_RING_MOVED, 256, "ring_moved")

/* LOSS: a kernel counter of lost or damaged events went up. */
struct rec_loss {
	uint32_t cpu;
	uint32_t counter; /* enum custos_stat, or one of the collector's (above) */
	uint64_t count;	  /* increase since the previous LOSS of this counter */
	uint64_t total;	  /* value of the counter now */
};

#define RECORD_KEY_LEN 32 /* Ed25519 public key */

/* GENESIS: leaf 0; the log's identity and the first forward-secure key. */
struct rec_genesis {
	struct bytes origin;
	uint8_t log_key[RECORD_KEY_LEN];   /* LK, static, witness-facing */
	uint8_t epoch_key[RECORD_KEY_LEN]; /* FK_0 */
	uint64_t t0_ns; /* epoch e spans [t0 + e*interval, t0 + (e+1)*interval) */
	uint64_t interval_ns;
	uint64_t heartbeat_ns;
	uint8_t software[32]; /* SHA-256 of the custosd binary */
	uint8_t config[32];   /* SHA-256 of the watch configuration */
};

/* EPOCH_CLOSE: the last record of epoch `epoch`; certifies the next key. */
struct rec_epoch_close {
	uint64_t epoch;
	uint64_t next_epoch;
	uint8_t next_key[RECORD_KEY_LEN];
	uint64_t records; /* records of this epoch before this one */
	struct bytes reason;
};

/* HEARTBEAT: proof of life every heartbeat interval, even when idle. */
struct rec_heartbeat {
	uint64_t events;	/* access records stored since START */
	uint64_t kernel_lost;	/* sum of the kernel's loss counters */
	uint64_t kernel_events; /* events the kernel handed to the ring */
	uint64_t pending;	/* ring bytes read but not yet stored */
};

/* What the kernel kept of a gap: its programs captured on while no
 * collector ran, their events waiting in the pinned ring. */
enum gap_kept {
	GAP_KEPT_NONE = 0, /* nothing: no record of the gap's time follows */
	/* Every event: the programs stayed attached (the collector died) and
	 * their events, and sequence numbers, carry on after this record. */
	GAP_KEPT_ALL = 1,
	/* The opens of fail-closed trees only (a clean stop keeps that
	 * program), recorded after this record. */
	GAP_KEPT_FAILCLOSED = 2,
};

/* GAP: time the collector was not running, or a jump it cannot explain. */
struct rec_gap {
	uint64_t from_ns, to_ns; /* CLOCK_REALTIME */
	uint8_t from_boot[16], to_boot[16];
	struct bytes reason; /* "stop", "crash", "reboot", "clock" */
	uint8_t kept;	     /* enum gap_kept */
	/* Events the kernel counted lost since the collector last committed
	 * (its loss counters' increase): the LOSS records after the START
	 * that follows say which, and add up to it. */
	uint64_t lost;
	/* CLOCK_REALTIME: no program was attached from .._from to .._to (the
	 * programs of another build were replaced).  0, 0: none. */
	uint64_t blind_from_ns, blind_to_ns;
};

/* CLOCK: CLOCK_REALTIME - CLOCK_BOOTTIME moved by a second or more. */
struct rec_clock {
	int64_t old_offset_ns;
	int64_t new_offset_ns;
};

/* CONFIG: the watch configuration differs from the previous run's. */
struct rec_config {
	struct bytes text;
	uint8_t hash[32];
};

/* Severity of an alert rule, lowest first. */
enum record_severity {
	SEV_INFO = 1,
	SEV_LOW = 2,
	SEV_MEDIUM = 3,
	SEV_HIGH = 4,
	SEV_CRITICAL = 5,
};

/* ALERT: a rule fired on the record cause_seq (for a threshold rule, the
 * record that crossed it; count and bytes are the window's totals then). */
struct rec_alert {
	struct bytes rule;    /* the rule's id */
	uint32_t severity;    /* enum record_severity */
	uint32_t _pad;	      /* not encoded */
	struct bytes summary; /* the rule's description */
	uint64_t cause_seq;   /* seq of the record that made it fire */
	uint64_t count;	      /* matching records in the window (1 without one) */
	uint64_t bytes;	      /* bytes read by them */
	uint64_t window_ns;   /* the rule's window; 0 for none */
	struct bytes person;  /* who: staff id, "service:NAME", "uid:N", or empty */
	struct bytes dataset; /* the cause's dataset, or empty */
	struct bytes path;    /* the cause's path, or empty */
	uint8_t rules[32];    /* SHA-256 of the rules file in force */
};

struct record {
	uint16_t type;
	uint64_t seq;
	uint64_t epoch;
	uint8_t prev_leaf[RECORD_LEAF_LEN];
	uint8_t boot_id[16];
	uint64_t t_real_ns;
	uint64_t t_boot_ns;
	union {
		struct rec_access access;
		struct rec_start start;
		struct rec_stop stop;
		struct rec_loss loss;
		struct rec_genesis genesis;
		struct rec_epoch_close epoch_close;
		struct rec_heartbeat heartbeat;
		struct rec_gap gap;
		struct rec_clock clock;
		struct rec_config config;
		struct rec_alert alert;
	};
};

/* A record of type with every other field zero: the caller fills the body,
 * the ledger the header's times when it appends it. */
static inline void record__init(struct record *r, uint16_t type)
{
	memset(r, 0, sizeof(*r));
	r->type = type;
}

/*
 * Encode r into buf (cap bytes).  Returns the encoded length, or -ENOSPC if
 * it does not fit, -EINVAL for an unknown type or an over-long field.
 */
int record__encode(const struct record *r, uint8_t *buf, size_t cap);

/*
 * Strictly decode buf into r: the magic, a known type, exact lengths, and
 * re-encoding must give back the same bytes.  The struct bytes fields of r
 * point into buf.  Returns 0, or -EBADMSG for anything non-canonical.
 */
int record__decode(struct record *r, const uint8_t *buf, size_t len);

/* The body alone (no header), for stores that keep the header in columns.
 * r->type selects the layout.  Same returns as record__encode/decode. */
int record__encode_body(const struct record *r, uint8_t *buf, size_t cap);
int record__decode_body(struct record *r, const uint8_t *buf, size_t len);

/* One line for a person about a non-access record ("reason=signal events=3"),
 * malloc'd; NULL for access records or when out of memory. */
char *record__detail(const struct record *r);

/* What a GAP says its time kept: "none", "all", "fail-closed"; "unknown". */
const char *record__gap_kept_name(uint8_t kept);

/* The name of a severity ("high"); "unknown". */
const char *record__severity_name(uint32_t severity);

/* enum custos_abi bits as names, in bit order and joined with ",":
 * "x86_64", "i386", "x32", and "unknown" for any other bit; "" for 0.
 * Writes at most RECORD_ABI_NAMES_MAX bytes with the NUL. */
#define RECORD_ABI_NAMES_MAX 32
void record__abi_names(uint32_t abi, char buf[RECORD_ABI_NAMES_MAX]);

/* The enum custos_abi bit named "x86_64", "i386" or "x32"; 0 for any other name. */
uint32_t record__abi_bit(const char *name);

/* The action a record is shown as: the op for FILE_ACCESS, else the type. */
const char *record__action(const struct record *r);

/*
 * Actions by number, 0 to RECORD_ACTIONS - 1 (the ops of RECORD_OPS, then
 * the types of RECORD_TYPES), for sets of them as bits.  record__action_id
 * is r's, or -1 for an unknown op or type; record__action_find the one
 * named by the n bytes at s, or -1; record__action_name the name of id.
 */
#define RECORD_ACTION_OPS	    6
#define RECORD_ACTIONS		    (RECORD_ACTION_OPS + 11)
#define RECORD_ACTION_OF_OP(op)	    ((op)-1)
#define RECORD_ACTION_OF_TYPE(type) (RECORD_ACTION_OPS + (type)-2)
int record__action_id(const struct record *r);
int record__action_find(const char *s, size_t n);
const char *record__action_name(int id);

#endif /* CUSTOS_RECORD_H */
