// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <yaml.h>

#include "rules.h"
#include "util.h"

#define RULES_FILE_MAX (1 << 20)
#define RULE_ID_MAX    64
#define COUNT_MAX      1000000 /* a window holds at most this many records */
#define ACCESS_ACTIONS ((1u << RECORD_ACTION_OPS) - 1) /* the ops: open, read... */
_Static_assert(RECORD_ACTIONS <= 32, "a rule's actions are the bits of a u32");
#define NS_PER_MIN 60000000000ULL

static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

enum result_cond { RES_ANY, RES_OK, RES_FAILED, RES_DENIED, RES_EXACT };

struct strlist {
	char **v;
	size_t n;
};

/* One person's records in one rule's window, oldest first (a ring). */
struct tally {
	char *who;
	uint64_t *t_ns, *bytes;
	size_t head, n, cap;
	uint64_t sum;
	struct tally *next;
};

struct rule {
	char *id;
	char *description;
	uint32_t severity;
	uint32_t actions; /* 1 << record__action_id */
	struct strlist dataset, path, exe, comm, person, team, role;
	uint32_t *uids;
	size_t n_uids;
	enum result_cond result;
	int32_t result_value;
	bool unattributed, left;
	bool hours;
	int from_min, to_min; /* minutes of the day, [from, to), wrapping */
	uint8_t days;	      /* bit per weekday, Sunday first; 0: any */
	uint64_t window_ns;   /* threshold; 0: none */
	uint64_t count, bytes;
	struct tally *tallies;
};

/*
 * The read sessions whose bytes are partly counted.  A progress report
 * carries its session's totals so far: a threshold adds what grew since
 * the session's bytes last counted, so a long session's bytes reach it as
 * they are read, and its final record adds the rest and drops the entry.
 * A session whose final record never comes (custosd stopped, the host
 * rebooted, the event was lost) would stay: the table is bounded, and when
 * it is full the entry updated least recently goes.  Should that session
 * report again, its totals so far count again: bytes are then counted
 * twice, never missed.  The bound is that of the kernel's table of open
 * sessions, so a session still open is evicted only after more than that
 * many sessions ended without a final record since it last reported.
 * Entries are numbered from 1: 0 ends a chain.
 */
#define SEEN_MAX     131072
#define SEEN_BUCKETS 65536

struct seen {
	uint8_t boot[16];
	uint64_t session;
	uint64_t counted;      /* the session's bytes counted so far */
	uint32_t next;	       /* the next entry of its bucket, or of the free list */
	uint32_t older, newer; /* in the order of their last update */
};

struct seen_table {
	struct seen *e;	  /* SEEN_MAX + 1 of them, allocated at the first report */
	uint32_t *bucket; /* the first entry of each bucket */
	uint32_t used;	  /* entries ever handed out */
	uint32_t free;	  /* entries given back, chained through next */
	uint32_t n;
	uint32_t newest, oldest;
};

struct rules {
	struct rule *rule;
	size_t n;
	bool local;
	bool windows; /* a rule has a threshold: session bytes are tracked */
	struct seen_table seen;
	uint8_t version[RULES_VERSION_LEN];
	char hex[2 * RULES_VERSION_LEN + 1];
};

/* ---- parsing ------------------------------------------------------------- */

struct parse {
	yaml_document_t *doc;
	char *err;
	size_t errlen;
};

static int fail(struct parse *p, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Report the first error only, with the line of the node it is about. */
static int fail(struct parse *p, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "line %zu: %s", n ? n->start_mark.line + 1 : 1, msg);
	return -EINVAL;
}

static yaml_node_t *node(struct parse *p, int id)
{
	return yaml_document_get_node(p->doc, id);
}

/* The text of a scalar node, or NULL (and the error) for anything else. */
static const char *scalar(struct parse *p, yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SCALAR_NODE) {
		fail(p, n, "%s: want a single value", what);
		return NULL;
	}
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		fail(p, n, "%s: a NUL byte in the value", what);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

static int parse_u64(struct parse *p, yaml_node_t *n, const char *what, uint64_t max,
		     const char *suffixes, const uint64_t *units, uint64_t *out)
{
	const char *s = scalar(p, n, what);
	size_t len, digits;
	uint64_t v, unit = 1;
	const char *u;

	if (!s)
		return -EINVAL;
	len = strlen(s);
	digits = strspn(s, "0123456789");
	if (digits && digits + 1 == len && (u = strchr(suffixes, s[digits])) && *u)
		unit = units[u - suffixes];
	else if (digits != len)
		digits = 0;
	if (!digits || !util__parse_decimal(s, digits, &v) || v == 0 || v > max / unit)
		return fail(p, n, "invalid %s '%s'", what, s);
	*out = v * unit;
	return 0;
}

static int parse_duration(struct parse *p, yaml_node_t *n, uint64_t *ns)
{
	static const uint64_t units[] = { 1, 60, 3600, 86400 };
	uint64_t s;

	if (parse_u64(p, n, "window (seconds, or with s, m, h, d)", 366 * 86400ULL, "smhd", units,
		      &s))
		return -EINVAL;
	*ns = s * 1000000000ULL;
	return 0;
}

/* A list of scalars, or one scalar. */
static int each_item(struct parse *p, yaml_node_t *n, const char *what,
		     int (*fn)(struct parse *p, yaml_node_t *item, const char *s, void *ctx),
		     void *ctx)
{
	if (n->type == YAML_SEQUENCE_NODE) {
		if (n->data.sequence.items.start == n->data.sequence.items.top)
			return fail(p, n, "%s: an empty list", what);
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		     i < n->data.sequence.items.top; i++) {
			yaml_node_t *item = node(p, *i);
			const char *s = scalar(p, item, what);
			int err = s ? fn(p, item, s, ctx) : -EINVAL;

			if (err)
				return err;
		}
		return 0;
	}
	{
		const char *s = scalar(p, n, what);

		return s ? fn(p, n, s, ctx) : -EINVAL;
	}
}

static int add_string(struct parse *p, yaml_node_t *item, const char *s, void *ctx)
{
	struct strlist *l = ctx;
	char **v;

	if (!*s)
		return fail(p, item, "an empty value");
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	l->v[l->n] = strdup(s);
	if (!l->v[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

static int add_action(struct parse *p, yaml_node_t *item, const char *s, void *ctx)
{
	uint32_t *actions = ctx;
	int id = record__action_find(s, strlen(s));

	/* A rule on alerts would feed on its own; nothing writes an anchor. */
	if (id < 0 || id == RECORD_ACTION_OF_TYPE(REC_ALERT) ||
	    id == RECORD_ACTION_OF_TYPE(REC_ANCHOR))
		return fail(p, item, "unknown action '%s'", s);
	*actions |= 1u << id;
	return 0;
}

static int add_day(struct parse *p, yaml_node_t *item, const char *s, void *ctx)
{
	uint8_t *days = ctx;

	for (int i = 0; i < 7; i++) {
		if (!strcmp(s, day_names[i])) {
			*days |= 1u << i;
			return 0;
		}
	}
	return fail(p, item, "unknown day '%s' (want mon, tue, ... sun)", s);
}

static int add_uid(struct parse *p, yaml_node_t *item, const char *s, void *ctx)
{
	struct rule *r = ctx;
	int64_t v;
	uint32_t *u;

	if (util__parse_int(s, 0, UINT32_MAX - 1, &v))
		return fail(p, item, "invalid uid '%s'", s);
	u = realloc(r->uids, (r->n_uids + 1) * sizeof(*u));
	if (!u)
		return -ENOMEM;
	r->uids = u;
	r->uids[r->n_uids++] = (uint32_t)v;
	return 0;
}

static int parse_bool(struct parse *p, yaml_node_t *n, const char *what, bool *out)
{
	const char *s = scalar(p, n, what);

	if (!s)
		return -EINVAL;
	if (strcmp(s, "true"))
		return fail(p, n, "%s: want true (or leave it out)", what);
	*out = true;
	return 0;
}

static int parse_result(struct parse *p, yaml_node_t *n, struct rule *r)
{
	const char *s = scalar(p, n, "result");
	int64_t v;

	if (!s)
		return -EINVAL;
	if (!strcmp(s, "ok"))
		r->result = RES_OK;
	else if (!strcmp(s, "failed"))
		r->result = RES_FAILED;
	else if (!strcmp(s, "denied"))
		r->result = RES_DENIED;
	else if (!util__parse_int(s, INT32_MIN, INT32_MAX, &v)) {
		r->result = RES_EXACT;
		r->result_value = (int32_t)v;
	} else
		return fail(p, n, "invalid result '%s' (want ok, failed, denied or a number)", s);
	return 0;
}

/* "HH:MM-HH:MM", two different times of day. */
static int parse_hours(struct parse *p, yaml_node_t *n, struct rule *r)
{
	const char *s = scalar(p, n, "hours");
	unsigned int h1, m1, h2, m2;
	char tail;

	if (!s)
		return -EINVAL;
	if (strlen(s) != 11 || sscanf(s, "%2u:%2u-%2u:%2u%c", &h1, &m1, &h2, &m2, &tail) != 4 ||
	    h1 > 23 || h2 > 24 || m1 > 59 || m2 > 59 || (h2 == 24 && m2) ||
	    h1 * 60 + m1 == h2 * 60 + m2)
		return fail(p, n, "invalid hours '%s' (want HH:MM-HH:MM)", s);
	r->hours = true;
	r->from_min = h1 * 60 + m1;
	r->to_min = h2 * 60 + m2;
	return 0;
}

/* Walk a mapping: fn gets each key and value, and duplicate keys are refused. */
static int each_pair(struct parse *p, yaml_node_t *map, const char *what,
		     int (*fn)(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
			       void *ctx),
		     void *ctx)
{
	if (map->type != YAML_MAPPING_NODE)
		return fail(p, map, "%s: want a mapping of keys to values", what);
	for (yaml_node_pair_t *i = map->data.mapping.pairs.start; i < map->data.mapping.pairs.top;
	     i++) {
		yaml_node_t *k = node(p, i->key), *v = node(p, i->value);
		const char *key = scalar(p, k, "a key");
		int err;

		if (!key)
			return -EINVAL;
		for (yaml_node_pair_t *j = map->data.mapping.pairs.start; j < i; j++) {
			yaml_node_t *other = node(p, j->key);

			if (other->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)other->data.scalar.value, key))
				return fail(p, k, "duplicate key '%s'", key);
		}
		err = fn(p, key, k, v, ctx);
		if (err)
			return err;
	}
	return 0;
}

static int match_pair(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
	static const char *const list_keys[] = { "dataset", "path", "exe", "comm",
						 "person",  "team", "role" };
	struct rule *r = ctx;
	struct strlist *lists[] = { &r->dataset, &r->path, &r->exe, &r->comm,
				    &r->person,	 &r->team, &r->role };

	for (size_t i = 0; i < sizeof(list_keys) / sizeof(list_keys[0]); i++)
		if (!strcmp(key, list_keys[i]))
			return each_item(p, v, key, add_string, lists[i]);
	if (!strcmp(key, "action")) {
		r->actions = 0;
		return each_item(p, v, key, add_action, &r->actions);
	}
	if (!strcmp(key, "uid"))
		return each_item(p, v, key, add_uid, r);
	if (!strcmp(key, "days"))
		return each_item(p, v, key, add_day, &r->days);
	if (!strcmp(key, "result"))
		return parse_result(p, v, r);
	if (!strcmp(key, "hours"))
		return parse_hours(p, v, r);
	if (!strcmp(key, "unattributed"))
		return parse_bool(p, v, key, &r->unattributed);
	if (!strcmp(key, "left"))
		return parse_bool(p, v, key, &r->left);
	return fail(p, k, "unknown condition '%s'", key);
}

static int threshold_pair(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
			  void *ctx)
{
	static const uint64_t bytes_units[] = { 1ULL << 10, 1ULL << 20, 1ULL << 30, 1ULL << 40 };
	struct rule *r = ctx;

	if (!strcmp(key, "window"))
		return parse_duration(p, v, &r->window_ns);
	if (!strcmp(key, "count"))
		return parse_u64(p, v, "count", COUNT_MAX, "", NULL, &r->count);
	if (!strcmp(key, "bytes"))
		return parse_u64(p, v, "bytes (a number, or with K, M, G, T)", UINT64_MAX, "KMGT",
				 bytes_units, &r->bytes);
	return fail(p, k, "unknown threshold key '%s'", key);
}

static bool valid_id(const char *s)
{
	size_t n = strlen(s);

	return n && n <= RULE_ID_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

static int rule_pair(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
	static const char *const severities[] = { [SEV_INFO] = "info",
						  [SEV_LOW] = "low",
						  [SEV_MEDIUM] = "medium",
						  [SEV_HIGH] = "high",
						  [SEV_CRITICAL] = "critical" };
	struct rule *r = ctx;
	const char *s;

	if (!strcmp(key, "match"))
		return each_pair(p, v, "match", match_pair, r);
	if (!strcmp(key, "threshold")) {
		int err = each_pair(p, v, "threshold", threshold_pair, r);

		if (!err && !r->window_ns)
			return fail(p, v, "threshold: a window is required");
		if (!err && !r->count && !r->bytes)
			return fail(p, v, "threshold: want count, bytes or both");
		return err;
	}
	if (strcmp(key, "id") && strcmp(key, "severity") && strcmp(key, "description"))
		return fail(p, k, "unknown key '%s'", key);
	s = scalar(p, v, key);
	if (!s)
		return -EINVAL;
	if (!strcmp(key, "id")) {
		if (!valid_id(s))
			return fail(p, v, "invalid id '%s' (1 to %d of A-Z a-z 0-9 - _ .)", s,
				    RULE_ID_MAX);
		r->id = strdup(s);
		return r->id ? 0 : -ENOMEM;
	}
	if (!strcmp(key, "description")) {
		/* libyaml has refused input that is not UTF-8 already. */
		if (!*s || strlen(s) > RECORD_SUMMARY_MAX)
			return fail(p, v, "description: want 1 to %d bytes", RECORD_SUMMARY_MAX);
		r->description = strdup(s);
		return r->description ? 0 : -ENOMEM;
	}
	for (uint32_t i = SEV_INFO; i <= SEV_CRITICAL; i++) {
		if (!strcmp(s, severities[i])) {
			r->severity = i;
			return 0;
		}
	}
	return fail(p, v, "invalid severity '%s' (want info, low, medium, high or critical)", s);
}

static void rule_clear(struct rule *r);

static int parse_rule(struct parse *p, yaml_node_t *n, struct rules *rs)
{
	struct rule *r = &rs->rule[rs->n];
	int err;

	memset(r, 0, sizeof(*r));
	r->actions = ACCESS_ACTIONS;
	err = each_pair(p, n, "a rule", rule_pair, r);
	if (!err && !r->id)
		err = fail(p, n, "a rule without an id");
	if (!err && !r->severity)
		err = fail(p, n, "rule %s: a severity is required", r->id);
	for (size_t i = 0; !err && i < rs->n; i++)
		if (!strcmp(rs->rule[i].id, r->id))
			err = fail(p, n, "duplicate rule id '%s'", r->id);
	if (!err && !r->description)
		r->description = strdup(r->id);
	if (!err && !r->description)
		err = -ENOMEM;
	if (err) {
		rule_clear(r);
		return err;
	}
	rs->n++;
	return 0;
}

static int top_pair(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
	struct rules *rs = ctx;
	const char *s;

	if (!strcmp(key, "timezone")) {
		s = scalar(p, v, key);
		if (!s)
			return -EINVAL;
		if (strcmp(s, "utc") && strcmp(s, "local"))
			return fail(p, v, "invalid timezone '%s' (want utc or local)", s);
		rs->local = !strcmp(s, "local");
		return 0;
	}
	if (strcmp(key, "rules"))
		return fail(p, k, "unknown key '%s' (want timezone, rules)", key);
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(p, v, "rules: want a list of rules");
	rs->rule = calloc(v->data.sequence.items.top - v->data.sequence.items.start + 1,
			  sizeof(*rs->rule));
	if (!rs->rule)
		return -ENOMEM;
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		int err = parse_rule(p, node(p, *i), rs);

		if (err)
			return err;
	}
	return 0;
}

struct rules *rules__parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct rules *rs = calloc(1, sizeof(*rs));
	yaml_parser_t parser;
	yaml_document_t doc;
	struct parse p = { .doc = &doc, .err = err, .errlen = errlen };
	yaml_node_t *root;
	bool parser_up = false, doc_up = false;
	int rc = -EINVAL;

	snprintf(err, errlen, "out of memory");
	if (!rs || !yaml_parser_initialize(&parser))
		goto cleanup;
	parser_up = true;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "line %zu: %s", parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "not YAML");
		goto cleanup;
	}
	doc_up = true;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		snprintf(err, errlen, "line 1: an empty file");
		goto cleanup;
	}
	rc = each_pair(&p, root, "the file", top_pair, rs);
	if (!rc && !rs->rule)
		rc = fail(&p, root, "no rules list");
	for (size_t i = 0; !rc && i < rs->n; i++)
		rs->windows |= rs->rule[i].window_ns != 0;
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (!rc) {
		unsigned int n = 0;

		if (!EVP_Digest(text, len, rs->version, &n, EVP_sha256(), NULL)) {
			snprintf(err, errlen, "failed to hash the rules");
			rc = -EIO;
		}
		util__hex(rs->hex, rs->version, RULES_VERSION_LEN);
	}
cleanup:
	if (doc_up)
		yaml_document_delete(&doc);
	if (parser_up)
		yaml_parser_delete(&parser);
	if (rc) {
		rules__free(rs);
		return NULL;
	}
	return rs;
}

struct rules *rules__load(const char *path, char *err, size_t errlen)
{
	struct rules *rs;
	size_t len = 0;
	char *text = NULL;
	int rc = util__read_file(path, RULES_FILE_MAX, &text, &len);

	if (rc) {
		snprintf(err, errlen, "%s: %s", path,
			 rc == -EFBIG ? "larger than 1 MiB" : strerror(-rc));
		return NULL;
	}
	rs = rules__parse(text, len, err, errlen);
	free(text);
	return rs;
}

static void strlist_clear(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static void rule_clear(struct rule *r)
{
	struct strlist *lists[] = { &r->dataset, &r->path, &r->exe, &r->comm,
				    &r->person,	 &r->team, &r->role };

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		strlist_clear(lists[i]);
	while (r->tallies) {
		struct tally *t = r->tallies;

		r->tallies = t->next;
		free(t->who);
		free(t->t_ns);
		free(t->bytes);
		free(t);
	}
	free(r->uids);
	free(r->id);
	free(r->description);
}

void rules__free(struct rules *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++)
		rule_clear(&rs->rule[i]);
	free(rs->rule);
	free(rs->seen.e);
	free(rs->seen.bucket);
	free(rs);
}

size_t rules__count(const struct rules *rs)
{
	return rs->n;
}

const uint8_t *rules__version(const struct rules *rs)
{
	return rs->version;
}

const char *rules__version_hex(const struct rules *rs)
{
	return rs->hex;
}

/* ---- evaluation ---------------------------------------------------------- */

static bool in_bytes(const struct strlist *l, struct bytes b)
{
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->v[i]) == b.len && !memcmp(l->v[i], b.p, b.len))
			return true;
	return false;
}

static bool in_globs(const struct strlist *l, struct bytes b)
{
	char s[RECORD_PATH_MAX + 1];

	memcpy(s, b.p, b.len);
	s[b.len] = '\0';
	/* A NUL inside is not a path the kernel gave. */
	if (strlen(s) != b.len)
		return false;
	for (size_t i = 0; i < l->n; i++)
		if (!fnmatch(l->v[i], s, 0))
			return true;
	return false;
}

static bool result_holds(const struct rule *r, int32_t res)
{
	switch (r->result) {
	case RES_OK:
		return res >= 0;
	case RES_FAILED:
		return res < 0;
	case RES_DENIED:
		return res == -EACCES || res == -EPERM;
	case RES_EXACT:
		return res == r->result_value;
	default:
		return true;
	}
}

static bool when_holds(const struct rules *rs, const struct rule *r, uint64_t t_ns)
{
	time_t t = (time_t)(t_ns / 1000000000ULL);
	struct tm tm;
	int m;

	if (!r->hours && !r->days)
		return true;
	if (!(rs->local ? localtime_r(&t, &tm) : gmtime_r(&t, &tm)))
		return false;
	if (r->days && !(r->days & (1u << tm.tm_wday)))
		return false;
	if (!r->hours)
		return true;
	m = tm.tm_hour * 60 + tm.tm_min;
	if (r->from_min < r->to_min)
		return m >= r->from_min && m < r->to_min;
	return m >= r->from_min || m < r->to_min;
}

static bool access_holds(const struct rule *r, const struct rec_access *a)
{
	static const char unattributed[] = "unattributed";

	if (r->dataset.n && !in_bytes(&r->dataset, a->dataset))
		return false;
	if (r->path.n && !in_globs(&r->path, a->path))
		return false;
	if (r->exe.n && !in_globs(&r->exe, a->exe))
		return false;
	if (r->comm.n && !in_bytes(&r->comm, a->comm))
		return false;
	if (r->person.n && !in_bytes(&r->person, a->person))
		return false;
	if (r->team.n && !in_bytes(&r->team, a->team))
		return false;
	if (r->role.n && !in_bytes(&r->role, a->role))
		return false;
	if (r->n_uids) {
		bool found = false;

		for (size_t i = 0; i < r->n_uids && !found; i++)
			found = r->uids[i] == a->uid || r->uids[i] == a->euid;
		if (!found)
			return false;
	}
	if (!result_holds(r, a->result))
		return false;
	if (r->unattributed && (a->attribution.len != sizeof(unattributed) - 1 ||
				memcmp(a->attribution.p, unattributed, a->attribution.len)))
		return false;
	if (r->left && !(a->staff_flags & RECORD_STAFF_LEFT))
		return false;
	return true;
}

static bool needs_access(const struct rule *r)
{
	return r->dataset.n || r->path.n || r->exe.n || r->comm.n || r->person.n || r->team.n ||
	       r->role.n || r->n_uids || r->result != RES_ANY || r->unattributed || r->left;
}

static struct tally *tally_of(struct rule *r, const char *who)
{
	struct tally *t;

	for (t = r->tallies; t; t = t->next)
		if (!strcmp(t->who, who))
			return t;
	t = calloc(1, sizeof(*t));
	if (!t || !(t->who = strdup(who))) {
		free(t);
		return NULL;
	}
	t->next = r->tallies;
	r->tallies = t;
	return t;
}

static void tally_drop_oldest(struct tally *t)
{
	t->sum -= t->bytes[t->head];
	t->head = (t->head + 1) % t->cap;
	t->n--;
}

/* Add one record at t_ns; the window's records and bytes are then in t. */
static int tally_add(struct tally *t, uint64_t window_ns, uint64_t t_ns, uint64_t bytes)
{
	while (t->n && t->t_ns[t->head] + window_ns <= t_ns)
		tally_drop_oldest(t);
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		uint64_t *ts, *bs;

		if (cap > COUNT_MAX) {
			/* Full: the oldest goes; a count cannot exceed COUNT_MAX. */
			tally_drop_oldest(t);
		} else {
			ts = malloc(cap * sizeof(*ts));
			bs = malloc(cap * sizeof(*bs));
			if (!ts || !bs) {
				free(ts);
				free(bs);
				return -ENOMEM;
			}
			for (size_t i = 0; i < t->n; i++) {
				ts[i] = t->t_ns[(t->head + i) % t->cap];
				bs[i] = t->bytes[(t->head + i) % t->cap];
			}
			free(t->t_ns);
			free(t->bytes);
			t->t_ns = ts;
			t->bytes = bs;
			t->head = 0;
			t->cap = cap;
		}
	}
	t->t_ns[(t->head + t->n) % t->cap] = t_ns;
	t->bytes[(t->head + t->n) % t->cap] = bytes;
	t->n++;
	t->sum += bytes;
	return 0;
}

static uint32_t seen_bucket(const uint8_t boot[16], uint64_t session)
{
	uint64_t a, b;

	memcpy(&a, boot, 8);
	memcpy(&b, boot + 8, 8);
	a ^= b ^ session * 0x9e3779b97f4a7c15ULL;
	a = (a ^ (a >> 33)) * 0xff51afd7ed558ccdULL;
	return (uint32_t)((a ^ (a >> 33)) % SEEN_BUCKETS);
}

static uint32_t seen_find(const struct seen_table *t, const uint8_t boot[16], uint64_t session)
{
	uint32_t i = t->bucket ? t->bucket[seen_bucket(boot, session)] : 0;

	while (i && (t->e[i].session != session || memcmp(t->e[i].boot, boot, 16)))
		i = t->e[i].next;
	return i;
}

/* Take entry i out of the order of updates. */
static void seen_unlink(struct seen_table *t, uint32_t i)
{
	struct seen *e = &t->e[i];

	if (e->older)
		t->e[e->older].newer = e->newer;
	else
		t->oldest = e->newer;
	if (e->newer)
		t->e[e->newer].older = e->older;
	else
		t->newest = e->older;
}

/* Put entry i at the newest end of the order of updates. */
static void seen_link(struct seen_table *t, uint32_t i)
{
	t->e[i].older = t->newest;
	t->e[i].newer = 0;
	if (t->newest)
		t->e[t->newest].newer = i;
	else
		t->oldest = i;
	t->newest = i;
}

static void seen_drop(struct seen_table *t, uint32_t i)
{
	uint32_t *at = &t->bucket[seen_bucket(t->e[i].boot, t->e[i].session)];

	while (*at != i)
		at = &t->e[*at].next;
	*at = t->e[i].next;
	seen_unlink(t, i);
	t->e[i].next = t->free;
	t->free = i;
	t->n--;
}

/* A new entry for the session, the least recently updated one going when
 * the table is full.  0 when out of memory. */
static uint32_t seen_add(struct seen_table *t, const uint8_t boot[16], uint64_t session)
{
	uint32_t i, *head;

	if (!t->e) {
		t->e = calloc(SEEN_MAX + 1, sizeof(*t->e));
		t->bucket = calloc(SEEN_BUCKETS, sizeof(*t->bucket));
		if (!t->e || !t->bucket) {
			free(t->e);
			free(t->bucket);
			t->e = NULL;
			t->bucket = NULL;
			return 0;
		}
	}
	if (t->n == SEEN_MAX)
		seen_drop(t, t->oldest);
	if (t->free) {
		i = t->free;
		t->free = t->e[i].next;
	} else {
		i = ++t->used;
	}
	head = &t->bucket[seen_bucket(boot, session)];
	t->e[i] = (struct seen){ .session = session, .next = *head };
	memcpy(t->e[i].boot, boot, 16);
	*head = i;
	seen_link(t, i);
	t->n++;
	return i;
}

/*
 * The bytes rec adds to byte thresholds: a read session's bytes count once
 * in all, by the increase each of its records brings over what was already
 * counted for it, progress reports and final record alike.  A session is
 * (boot, session id); a record without an id (0) counts as before ids
 * existed, only when final.  read_call records never count: their session
 * does.  0, or -ENOMEM.
 */
static int read_increase(struct seen_table *t, const struct record *rec, uint64_t *bytes)
{
	const struct rec_access *a = &rec->access;
	uint64_t before;
	uint32_t i;

	*bytes = 0;
	if (rec->type != REC_FILE_ACCESS || a->op != OP_READ)
		return 0;
	if (!a->session) {
		*bytes = a->partial ? 0 : a->bytes;
		return 0;
	}
	i = seen_find(t, rec->boot_id, a->session);
	before = i ? t->e[i].counted : 0;
	*bytes = a->bytes > before ? a->bytes - before : 0;
	if (!a->partial) {
		if (i)
			seen_drop(t, i);
		return 0;
	}
	if (!i) {
		i = seen_add(t, rec->boot_id, a->session);
		if (!i)
			return -ENOMEM;
	} else {
		seen_unlink(t, i);
		seen_link(t, i);
	}
	t->e[i].counted = before + *bytes;
	return 0;
}

int rules__eval(struct rules *rs, const struct record *rec, rules_fire_fn fire, void *ctx)
{
	const struct rec_access *a = rec->type == REC_FILE_ACCESS ? &rec->access : NULL;
	uint64_t t_ns = a ? a->event_ns : rec->t_real_ns;
	uint64_t bytes = 0;
	int bit = record__action_id(rec);
	char who[RECORD_NAME_MAX + 16];
	int err;

	if (rec->type == REC_ALERT || bit < 0)
		return 0;
	/* Whether or not a rule matches it, a record brings its session's count up to date. */
	if (rs->windows) {
		err = read_increase(&rs->seen, rec, &bytes);
		if (err)
			return err;
	}
	who[0] = '\0';
	if (a && a->person.len)
		snprintf(who, sizeof(who), "%.*s", a->person.len, a->person.p);
	else if (a)
		snprintf(who, sizeof(who), "uid:%u", a->uid);
	for (size_t i = 0; i < rs->n; i++) {
		struct rule *r = &rs->rule[i];
		struct record alert = { .type = REC_ALERT };
		struct rec_alert *al = &alert.alert;

		if (!(r->actions & (1u << bit)) || (needs_access(r) && !a) ||
		    (a && !access_holds(r, a)) || !when_holds(rs, r, t_ns))
			continue;
		al->count = 1;
		al->bytes = a ? a->bytes : 0;
		if (r->window_ns) {
			struct tally *t = tally_of(r, who);

			if (!t)
				return -ENOMEM;
			err = tally_add(t, r->window_ns, t_ns, bytes);
			if (err)
				return err;
			if (!(r->count && t->n >= r->count) && !(r->bytes && t->sum >= r->bytes))
				continue;
			al->count = t->n;
			al->bytes = t->sum;
			al->window_ns = r->window_ns;
			/* Fire once per crossing: the next alert needs a window of its own. */
			t->n = 0;
			t->sum = 0;
		}
		al->rule = (struct bytes){ (const uint8_t *)r->id, (uint16_t)strlen(r->id) };
		al->severity = r->severity;
		al->summary = (struct bytes){ (const uint8_t *)r->description,
					      (uint16_t)strlen(r->description) };
		al->cause_seq = rec->seq;
		al->person = (struct bytes){ (const uint8_t *)who, (uint16_t)strlen(who) };
		if (a) {
			al->dataset = a->dataset;
			al->path = a->path;
		}
		memcpy(al->rules, rs->version, sizeof(al->rules));
		err = fire(ctx, &alert);
		if (err)
			return err;
	}
	return 0;
}
