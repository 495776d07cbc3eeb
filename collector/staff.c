// SPDX-License-Identifier: BSD-2-Clause
/*
 * The staff directory (format in staff.h).  Loading reads the file once into memory, hashes
 * those bytes and parses the same bytes, so the version always names what was parsed even if
 * the file is replaced meanwhile.  The parsed JSON tree is kept: every string of the directory
 * points into it, and it is freed with the directory.  After loading nothing changes but the
 * NSS cache, which has its own lock, so lookups need no locking.
 *
 * Lookups go through open-addressing hash tables sized when loading (at most half full), which
 * also find the duplicates the format forbids while they are filled, in file order.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "staff.h"
#include "util.h"

/* About 70 000 entries the size of the example's; jansson's tree takes several times that. */
#define FILE_MAX (16 << 20)
#define NSEC	 1000000000LL

/*
 * NSS cache.  4096 slots bound it at about 100 KiB plus the names; a slot is chosen by the uid's
 * hash and a collision simply replaces the older answer.  Answers expire so that an account
 * created or renamed in LDAP is seen without a SIGHUP; "no such uid" expires sooner because a
 * new hire's first accesses are the ones most likely to hit it, and because an NSS failure
 * (LDAP down) is cached as a miss rather than retried on every event.
 */
#define NSS_SLOTS    4096
#define NSS_HIT_TTL  (600 * NSEC)
#define NSS_MISS_TTL (60 * NSEC)
/* getpwuid_r's buffer grows on ERANGE up to this; a passwd entry larger is treated as absent. */
#define PW_BUF_MAX (1 << 20)

struct entry {
	struct staff_person person; /* a staff member's fields */
	const char *service;	    /* a service's name; NULL for a staff member */
	const char *status;	    /* staff: as written, checked after parsing */
	const char *owner_id;	    /* service: as written */
	const struct staff_person *owner;
	const char *first_login; /* NULL when the entry lists only uids */
};

struct uid_slot {
	uint32_t uid;
	int32_t entry; /* < 0: empty */
};

struct str_slot {
	const char *key; /* NULL: empty */
	int32_t entry;
};

struct uid_table {
	struct uid_slot *slots;
	size_t mask;
};

struct str_table {
	struct str_slot *slots;
	size_t mask;
};

struct nss_slot {
	uint32_t uid;
	bool used;
	int64_t expires_ns;
	char *login; /* NULL: NSS gave no name */
};

struct nss_cache {
	pthread_mutex_t lock;
	struct nss_slot *slots; /* NSS_SLOTS of them, allocated on first use */
};

struct staff {
	json_t *root;	       /* owns every string the entries point to */
	struct entry *entries; /* staff members first, then services */
	size_t n_people, n_entries;
	struct uid_table uids;
	struct str_table logins, ids, services;
	uint8_t version[STAFF_VERSION_LEN];
	char version_hex[2 * STAFF_VERSION_LEN + 1];
	struct nss_cache *nss; /* the only mutable part, hence behind a pointer */
};

/* For s == NULL: no directory to own a cache, and no reload to drop it. */
static struct nss_cache process_nss = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* murmur3's finaliser: uids come in runs and strides, so the low bits alone would cluster. */
static uint32_t uid_hash(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x85ebca6b;
	x ^= x >> 13;
	x *= 0xc2b2ae35;
	x ^= x >> 16;
	return x;
}

/* FNV-1a. */
static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h;
}

/* Room for n keys at most half full, so probes stay short and a probe always ends. */
static size_t table_cap(size_t n)
{
	size_t cap = 8;

	while (cap < 2 * n)
		cap *= 2;
	return cap;
}

static int uid_table_init(struct uid_table *t, size_t n)
{
	size_t cap = table_cap(n);

	t->slots = malloc(cap * sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	for (size_t i = 0; i < cap; i++)
		t->slots[i].entry = -1;
	t->mask = cap - 1;
	return 0;
}

static int str_table_init(struct str_table *t, size_t n)
{
	size_t cap = table_cap(n);

	t->slots = calloc(cap, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->mask = cap - 1;
	return 0;
}

/* The slot holding uid, or the empty slot where it would go. */
static struct uid_slot *uid_slot(const struct uid_table *t, uint32_t uid)
{
	size_t i = uid_hash(uid) & t->mask;

	while (t->slots[i].entry >= 0 && t->slots[i].uid != uid)
		i = (i + 1) & t->mask;
	return &t->slots[i];
}

static struct str_slot *str_slot(const struct str_table *t, const char *key)
{
	size_t i = str_hash(key) & t->mask;

	while (t->slots[i].key && strcmp(t->slots[i].key, key))
		i = (i + 1) & t->mask;
	return &t->slots[i];
}

/* Add uid for entry, unless present: returns -1 when added, else the entry that has it. */
static int32_t uid_add(struct uid_table *t, uint32_t uid, int32_t entry)
{
	struct uid_slot *sl = uid_slot(t, uid);

	if (sl->entry >= 0)
		return sl->entry;
	sl->uid = uid;
	sl->entry = entry;
	return -1;
}

/* key must outlive the table (it points into the JSON tree). */
static int32_t str_add(struct str_table *t, const char *key, int32_t entry)
{
	struct str_slot *sl = str_slot(t, key);

	if (sl->key)
		return sl->entry;
	sl->key = key;
	sl->entry = entry;
	return -1;
}

static const struct entry *entry_by_uid(const struct staff *s, uint32_t uid)
{
	const struct uid_slot *sl = uid_slot(&s->uids, uid);

	return sl->entry >= 0 ? &s->entries[sl->entry] : NULL;
}

static const struct entry *entry_by_key(const struct staff *s, const struct str_table *t,
					const char *key)
{
	const struct str_slot *sl = str_slot(t, key);

	return sl->key ? &s->entries[sl->entry] : NULL;
}

/* ---- loading ---- */

struct loader {
	const char *path;
	char *err;
	size_t errcap;
	struct staff *s;
};

/*
 * Make err one printable line of valid UTF-8: it quotes keys, values and jansson's excerpts of
 * the file, which may hold control characters (escaped in JSON, or raw in a broken file), and
 * snprintf may have cut it inside a sequence.
 */
static void sanitize(char *str)
{
	uint8_t *p = (uint8_t *)str;
	size_t len = strlen(str), n;
	uint32_t cp;

	for (size_t i = 0; i < len; i += n) {
		n = util__utf8_seq(p + i, len - i, &cp);
		if (n && cp >= 0x20 && (cp < 0x7f || cp > 0x9f))
			continue;
		if (!n)
			n = 1;
		memset(p + i, '?', n);
	}
}

static int vfail(struct loader *ld, int errnum, const char *fmt, va_list ap)
{
	int n;

	if (!ld->errcap)
		return -errnum;
	n = snprintf(ld->err, ld->errcap, "%s: ", ld->path);
	if (n >= 0 && (size_t)n < ld->errcap)
		vsnprintf(ld->err + n, ld->errcap - n, fmt, ap);
	sanitize(ld->err);
	return -errnum;
}

/* Write "path: <message>" into the caller's err and return -errnum. */
__attribute__((format(printf, 3, 4))) static int fail(struct loader *ld, int errnum,
						      const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vfail(ld, errnum, fmt, ap);
	va_end(ap);
	return ret;
}

/* fail() for what is wrong with the file's content. */
__attribute__((format(printf, 2, 3))) static int bad(struct loader *ld, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vfail(ld, EINVAL, fmt, ap);
	va_end(ap);
	return ret;
}

static int read_file(struct loader *ld, uint8_t **out, size_t *out_len)
{
	uint8_t *buf = NULL, *grown;
	size_t cap = 0, len = 0;
	int fd, ret = 0, e;
	ssize_t n;

	fd = open(ld->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		ret = fail(ld, e, "%s", strerror(e));
		goto cleanup;
	}
	for (;;) {
		if (len > FILE_MAX) {
			ret = fail(ld, EFBIG, "larger than %d MiB", FILE_MAX >> 20);
			goto cleanup;
		}
		if (len == cap) {
			cap = cap ? 2 * cap : 65536;
			grown = realloc(buf, cap);
			if (!grown) {
				ret = fail(ld, ENOMEM, "out of memory");
				goto cleanup;
			}
			buf = grown;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			ret = fail(ld, e, "%s", strerror(e));
			goto cleanup;
		}
		if (n == 0)
			break;
		len += n;
	}
	*out = buf;
	*out_len = len;
	buf = NULL;
cleanup:
	free(buf);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Check that v is a string the format allows; where names it in messages. */
static int check_text(struct loader *ld, const json_t *v, const char *where, const char **out)
{
	const uint8_t *p;
	size_t len, n;
	uint32_t cp;

	if (!json_is_string(v))
		return bad(ld, "%s: not a string", where);
	p = (const uint8_t *)json_string_value(v);
	len = json_string_length(v);
	if (len == 0)
		return bad(ld, "%s: empty string", where);
	if (len > STAFF_TEXT_MAX)
		return bad(ld, "%s: longer than %d bytes", where, STAFF_TEXT_MAX);
	/* jansson checked the UTF-8 already; this also sees the code points. */
	for (size_t i = 0; i < len; i += n) {
		n = util__utf8_seq(p + i, len - i, &cp);
		if (!n)
			return bad(ld, "%s: invalid UTF-8", where);
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return bad(ld, "%s: control character U+%04X", where, cp);
	}
	*out = (const char *)p;
	return 0;
}

enum field_kind { F_TEXT, F_LOGINS, F_UIDS };

/* One key of an entry: its kind and, for text, where it goes in struct entry. */
struct field {
	const char *key;
	enum field_kind kind;
	bool required;
	size_t off;
};

#define TEXT(k, req, member)                                                                       \
	{                                                                                          \
		.key = k, .kind = F_TEXT, .required = req, .off = offsetof(struct entry, member)   \
	}

/* Also the lists of allowed keys; text fields are read in this order. */
static const struct field staff_fields[] = {
	TEXT("id", true, person.id),
	TEXT("name", true, person.name),
	TEXT("status", true, status),
	TEXT("team", false, person.team),
	TEXT("role", false, person.role),
	TEXT("email", false, person.email),
	{ .key = "logins", .kind = F_LOGINS },
	{ .key = "uids", .kind = F_UIDS },
	{ .key = NULL },
};

static const struct field service_fields[] = {
	TEXT("name", true, service),
	TEXT("owner", false, owner_id),
	{ .key = "logins", .kind = F_LOGINS },
	{ .key = "uids", .kind = F_UIDS },
	{ .key = NULL },
};

static const struct field top_fields[] = {
	{ .key = "version" },
	{ .key = "staff" },
	{ .key = "services" },
	{ .key = NULL },
};

/* ent is "staff[3]" and the like, or NULL for the top level. */
static int check_keys(struct loader *ld, json_t *obj, const struct field *fields, const char *ent)
{
	for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
		const char *key = json_object_iter_key(it);
		const struct field *f = fields;

		while (f->key && strcmp(f->key, key))
			f++;
		if (f->key)
			continue;
		if (ent)
			return bad(ld, "%s: unknown key \"%.100s\"", ent, key);
		return bad(ld, "unknown key \"%.100s\"", key);
	}
	return 0;
}

/* Who an entry is in messages: a staff id, or "service NAME". */
static void entry_label(const struct entry *e, const char **prefix, const char **name)
{
	*prefix = e->service ? "service " : "";
	*name = e->service ? e->service : e->person.id;
}

static int parse_logins(struct loader *ld, json_t *obj, const char *ent, int32_t idx, size_t *n)
{
	struct staff *s = ld->s;
	json_t *arr = json_object_get(obj, "logins"), *v;
	const char *login, *prefix, *name;
	char where[96];
	int32_t prev;
	size_t i;
	int ret;

	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return bad(ld, "%s.logins: not an array", ent);
	json_array_foreach(arr, i, v)
	{
		snprintf(where, sizeof(where), "%s.logins[%zu]", ent, i);
		ret = check_text(ld, v, where, &login);
		if (ret)
			return ret;
		prev = str_add(&s->logins, login, idx);
		if (prev == idx)
			return bad(ld, "%s: login \"%s\" is listed twice", where, login);
		if (prev >= 0) {
			entry_label(&s->entries[prev], &prefix, &name);
			return bad(ld, "%s: login \"%s\" already belongs to %s%s", where, login,
				   prefix, name);
		}
		if (!s->entries[idx].first_login)
			s->entries[idx].first_login = login;
	}
	*n = json_array_size(arr);
	return 0;
}

static int parse_uids(struct loader *ld, json_t *obj, const char *ent, int32_t idx, size_t *n)
{
	struct staff *s = ld->s;
	json_t *arr = json_object_get(obj, "uids"), *v;
	const char *prefix, *name;
	char where[96];
	json_int_t uid;
	int32_t prev;
	size_t i;

	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return bad(ld, "%s.uids: not an array", ent);
	json_array_foreach(arr, i, v)
	{
		snprintf(where, sizeof(where), "%s.uids[%zu]", ent, i);
		if (!json_is_integer(v))
			return bad(ld, "%s: not an integer", where);
		uid = json_integer_value(v);
		if (uid == STAFF_UID_UNSET)
			return bad(ld, "%s: 4294967295 is the unset uid (-1), not a uid", where);
		if (uid < 0 || uid > STAFF_UID_UNSET)
			return bad(ld,
				   "%s: uid %" JSON_INTEGER_FORMAT " is out of range 0..4294967294",
				   where, uid);
		prev = uid_add(&s->uids, (uint32_t)uid, idx);
		if (prev == idx)
			return bad(ld, "%s: uid %" JSON_INTEGER_FORMAT " is listed twice", where,
				   uid);
		if (prev >= 0) {
			entry_label(&s->entries[prev], &prefix, &name);
			return bad(ld, "%s: uid %" JSON_INTEGER_FORMAT " already belongs to %s%s",
				   where, uid, prefix, name);
		}
	}
	*n = json_array_size(arr);
	return 0;
}

/* What is particular to a staff member, after its fields parsed: a unique id and a status. */
static int finish_person(struct loader *ld, const char *ent, int32_t idx)
{
	struct entry *e = &ld->s->entries[idx];
	int32_t prev = str_add(&ld->s->ids, e->person.id, idx);

	if (prev >= 0)
		return bad(ld, "%s.id: \"%s\" is already the id of staff[%d]", ent, e->person.id,
			   prev);
	if (!strcmp(e->status, "left"))
		e->person.left = 1;
	else if (strcmp(e->status, "active"))
		return bad(ld, "%s.status: \"%s\" is neither \"active\" nor \"left\"", ent,
			   e->status);
	return 0;
}

/* What is particular to a service: a unique name and an owner that is a staff member. */
static int finish_service(struct loader *ld, const char *ent, int32_t idx)
{
	struct staff *s = ld->s;
	struct entry *e = &s->entries[idx];
	const struct entry *owner;
	int32_t prev = str_add(&s->services, e->service, idx);

	if (prev >= 0)
		return bad(ld, "%s.name: \"%s\" is already the name of services[%zu]", ent,
			   e->service, prev - s->n_people);
	if (!e->owner_id)
		return 0;
	owner = entry_by_key(s, &s->ids, e->owner_id);
	if (!owner)
		return bad(ld, "%s.owner: \"%s\" is not a staff id", ent, e->owner_id);
	e->owner = &owner->person;
	return 0;
}

static int parse_entry(struct loader *ld, json_t *obj, const char *ent, int32_t idx, bool service)
{
	const struct field *fields = service ? service_fields : staff_fields;
	struct entry *e = &ld->s->entries[idx];
	size_t n_logins = 0, n_uids = 0;
	char where[96];
	json_t *v;
	int ret;

	if (!json_is_object(obj))
		return bad(ld, "%s: not an object", ent);
	ret = check_keys(ld, obj, fields, ent);
	if (ret)
		return ret;
	for (const struct field *f = fields; f->key; f++) {
		if (f->kind != F_TEXT)
			continue;
		v = json_object_get(obj, f->key);
		if (!v && f->required)
			return bad(ld, "%s: missing \"%s\"", ent, f->key);
		if (!v)
			continue;
		snprintf(where, sizeof(where), "%s.%s", ent, f->key);
		ret = check_text(ld, v, where, (const char **)((char *)e + f->off));
		if (ret)
			return ret;
	}
	/* Ids and names first, so that a duplicate login or uid can name its first owner. */
	ret = service ? finish_service(ld, ent, idx) : finish_person(ld, ent, idx);
	if (ret)
		return ret;
	ret = parse_logins(ld, obj, ent, idx, &n_logins);
	if (ret)
		return ret;
	ret = parse_uids(ld, obj, ent, idx, &n_uids);
	if (ret)
		return ret;
	if (!n_logins && !n_uids)
		return bad(ld, "%s: no logins and no uids: nothing would match it", ent);
	return 0;
}

/* Parse the array under key (may be absent) into entries [*idx, ...). */
static int parse_array(struct loader *ld, json_t *root, const char *key, bool service, int32_t *idx)
{
	json_t *arr = json_object_get(root, key), *v;
	char ent[48];
	size_t i;
	int ret;

	json_array_foreach(arr, i, v)
	{
		snprintf(ent, sizeof(ent), "%s[%zu]", key, i);
		ret = parse_entry(ld, v, ent, (*idx)++, service);
		if (ret)
			return ret;
	}
	return 0;
}

static int parse(struct loader *ld, json_t *root)
{
	struct staff *s = ld->s;
	json_t *version, *staff, *services;
	size_t n_uids = 0, n_logins = 0;
	int32_t idx = 0;
	int ret;

	if (!json_is_object(root))
		return bad(ld, "not a JSON object");
	/* Before the keys: a later format is refused as such, not for its new keys. */
	version = json_object_get(root, "version");
	if (!version)
		return bad(ld, "missing \"version\"");
	if (!json_is_integer(version))
		return bad(ld, "version: not an integer");
	if (json_integer_value(version) != 1)
		return bad(ld, "version: unsupported version %" JSON_INTEGER_FORMAT ", expected 1",
			   json_integer_value(version));
	ret = check_keys(ld, root, top_fields, NULL);
	if (ret)
		return ret;
	staff = json_object_get(root, "staff");
	services = json_object_get(root, "services");
	if (staff && !json_is_array(staff))
		return bad(ld, "staff: not an array");
	if (services && !json_is_array(services))
		return bad(ld, "services: not an array");

	/* Size everything up front (json_array_size is 0 for what is not an array). */
	s->n_people = json_array_size(staff);
	s->n_entries = s->n_people + json_array_size(services);
	for (size_t i = 0; i < s->n_entries; i++) {
		json_t *e = i < s->n_people ? json_array_get(staff, i)
					    : json_array_get(services, i - s->n_people);

		n_uids += json_array_size(json_object_get(e, "uids"));
		n_logins += json_array_size(json_object_get(e, "logins"));
	}
	s->entries = calloc(s->n_entries ? s->n_entries : 1, sizeof(*s->entries));
	if (!s->entries || uid_table_init(&s->uids, n_uids) ||
	    str_table_init(&s->logins, n_logins) || str_table_init(&s->ids, s->n_people) ||
	    str_table_init(&s->services, s->n_entries - s->n_people))
		return fail(ld, ENOMEM, "out of memory");

	/* Staff before services, whatever the order in the file, so owners can be checked. */
	ret = parse_array(ld, root, "staff", false, &idx);
	if (ret)
		return ret;
	return parse_array(ld, root, "services", true, &idx);
}

/* Read, hash, parse and check path; NULL with errno and err set.  See staff.h. */
struct staff *staff__load(const char *path, char *err, size_t errcap)
{
	struct loader ld = { .path = path, .err = err, .errcap = errcap };
	static const char hex[] = "0123456789abcdef";
	struct staff *s = NULL;
	uint8_t *buf = NULL;
	json_error_t jerr;
	size_t len = 0;
	int ret;

	if (errcap)
		err[0] = '\0';
	ret = read_file(&ld, &buf, &len);
	if (ret)
		goto cleanup;
	/* jansson would say "'[' or '{' expected near end of file". */
	if (len == 0) {
		ret = bad(&ld, "empty file");
		goto cleanup;
	}
	s = calloc(1, sizeof(*s));
	if (s)
		s->nss = calloc(1, sizeof(*s->nss));
	if (!s || !s->nss) {
		ret = fail(&ld, ENOMEM, "out of memory");
		goto cleanup;
	}
	pthread_mutex_init(&s->nss->lock, NULL);
	ld.s = s;
	if (!EVP_Digest(buf, len, s->version, NULL, EVP_sha256(), NULL)) {
		ret = fail(&ld, EIO, "failed to hash the file: libcrypto error");
		goto cleanup;
	}
	for (size_t i = 0; i < STAFF_VERSION_LEN; i++) {
		s->version_hex[2 * i] = hex[s->version[i] >> 4];
		s->version_hex[2 * i + 1] = hex[s->version[i] & 0xf];
	}
	s->root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!s->root) {
		if (jerr.line > 0)
			ret = bad(&ld, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
		else
			ret = bad(&ld, "%s", jerr.text);
		goto cleanup;
	}
	ret = parse(&ld, s->root);
cleanup:
	free(buf);
	if (ret) {
		staff__free(s);
		s = NULL;
		errno = -ret;
	}
	return s;
}

/* Free s, its JSON tree and its NSS cache; NULL is a no-op. */
void staff__free(struct staff *s)
{
	if (!s)
		return;
	if (s->nss) {
		for (size_t i = 0; s->nss->slots && i < NSS_SLOTS; i++)
			free(s->nss->slots[i].login);
		free(s->nss->slots);
		pthread_mutex_destroy(&s->nss->lock);
		free(s->nss);
	}
	free(s->uids.slots);
	free(s->logins.slots);
	free(s->ids.slots);
	free(s->services.slots);
	free(s->entries);
	json_decref(s->root);
	free(s);
}

/* The file's SHA-256, owned by s. */
const uint8_t *staff__version(const struct staff *s)
{
	return s->version;
}

/* The file's SHA-256 in lowercase hex, owned by s. */
const char *staff__version_hex(const struct staff *s)
{
	return s->version_hex;
}

/* Staff members, services not included. */
size_t staff__count(const struct staff *s)
{
	return s->n_people;
}

/* Service accounts. */
size_t staff__service_count(const struct staff *s)
{
	return s->n_entries - s->n_people;
}

/* The person listing uid, or NULL (also when a service lists it).  Points into s. */
const struct staff_person *staff__by_uid(const struct staff *s, uint32_t uid)
{
	const struct entry *e = entry_by_uid(s, uid);

	return e && !e->service ? &e->person : NULL;
}

/* The person listing login, or NULL (also when a service lists it).  Points into s. */
const struct staff_person *staff__by_login(const struct staff *s, const char *login)
{
	const struct entry *e = entry_by_key(s, &s->logins, login);

	return e && !e->service ? &e->person : NULL;
}

/* The name of the service listing uid, or NULL.  Points into s. */
const char *staff__service_by_uid(const struct staff *s, uint32_t uid)
{
	const struct entry *e = entry_by_uid(s, uid);

	return e ? e->service : NULL;
}

/* The name of the service listing login, or NULL.  Points into s. */
const char *staff__service_by_login(const struct staff *s, const char *login)
{
	const struct entry *e = entry_by_key(s, &s->logins, login);

	return e ? e->service : NULL;
}

/* The owner of the named service, or NULL.  Points into s. */
const struct staff_person *staff__service_owner(const struct staff *s, const char *service)
{
	const struct entry *e = entry_by_key(s, &s->services, service);

	return e ? e->owner : NULL;
}

/* ---- resolution ---- */

/* NSS's name for uid into out; false when there is none, NSS failed, or it would not fit. */
static bool nss_lookup(uint32_t uid, char out[STAFF_TEXT_MAX + 1])
{
	long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t cap = hint > 0 ? (size_t)hint : 1024;
	struct passwd pw, *res = NULL;
	char *buf = NULL, *grown;
	bool found = false;
	int ret;

	for (;;) {
		grown = realloc(buf, cap);
		if (!grown)
			goto cleanup;
		buf = grown;
		ret = getpwuid_r(uid, &pw, buf, cap, &res);
		if (ret != ERANGE || cap >= PW_BUF_MAX)
			break;
		cap *= 2;
	}
	if (ret || !res || !res->pw_name[0] || strlen(res->pw_name) > STAFF_TEXT_MAX)
		goto cleanup;
	strcpy(out, res->pw_name);
	found = true;
cleanup:
	free(buf);
	return found;
}

/*
 * NSS's name for uid through cache c.  The lock is not held across getpwuid_r, which may wait
 * on LDAP: two threads missing on the same uid both ask, and the later answer stays.
 */
static bool nss_login(struct nss_cache *c, uint32_t uid, char out[STAFF_TEXT_MAX + 1])
{
	char name[STAFF_TEXT_MAX + 1];
	struct nss_slot *sl = NULL;
	bool hit = false, found = false;
	char *copy;

	pthread_mutex_lock(&c->lock);
	if (!c->slots)
		c->slots = calloc(NSS_SLOTS, sizeof(*c->slots));
	if (c->slots)
		sl = &c->slots[uid_hash(uid) & (NSS_SLOTS - 1)];
	if (sl && sl->used && sl->uid == uid && util__boottime_ns() < sl->expires_ns) {
		hit = true;
		found = sl->login != NULL;
		if (found)
			strcpy(out, sl->login);
	}
	pthread_mutex_unlock(&c->lock);
	if (hit)
		return found;

	found = nss_lookup(uid, name);
	/* Without memory the answer is just not cached. */
	copy = found ? strdup(name) : NULL;
	pthread_mutex_lock(&c->lock);
	if (sl && (copy || !found)) {
		free(sl->login);
		sl->login = copy;
		sl->uid = uid;
		sl->used = true;
		sl->expires_ns = util__boottime_ns() + (found ? NSS_HIT_TTL : NSS_MISS_TTL);
		copy = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	free(copy);
	if (found)
		strcpy(out, name);
	return found;
}

/*
 * The entry owning uid (one listing it, else one listing its NSS name), or NULL; login gets the
 * name used for it as struct staff_attribution describes.  s may be NULL.
 */
static const struct entry *owner_of(const struct staff *s, struct nss_cache *c, uint32_t uid,
				    char login[STAFF_TEXT_MAX + 1])
{
	const struct entry *e = s ? entry_by_uid(s, uid) : NULL;

	login[0] = '\0';
	if (nss_login(c, uid, login)) {
		if (!e && s)
			e = entry_by_key(s, &s->logins, login);
	} else if (e && e->first_login) {
		strcpy(login, e->first_login);
	}
	return e;
}

static void attribute(struct staff_attribution *out, const struct entry *e,
		      enum staff_method person_method)
{
	if (e->service) {
		out->method = STAFF_SERVICE;
		strcpy(out->service, e->service);
	} else {
		out->method = person_method;
		out->person = &e->person;
	}
}

/* Attribute (loginuid, uid) by the rule in staff.h into out; s may be NULL.  Thread-safe. */
void staff__resolve(const struct staff *s, uint32_t loginuid, uint32_t uid,
		    struct staff_attribution *out)
{
	struct nss_cache *c = s ? s->nss : &process_nss;
	char uid_login[STAFF_TEXT_MAX + 1];
	const struct entry *e;

	memset(out, 0, sizeof(*out));
	if (loginuid != STAFF_UID_UNSET) {
		e = owner_of(s, c, loginuid, out->login);
		if (e) {
			attribute(out, e, STAFF_LOGINUID);
			return;
		}
	}
	e = owner_of(s, c, uid, uid_login);
	if (e) {
		strcpy(out->login, uid_login);
		attribute(out, e, STAFF_UID);
		return;
	}
	out->method = STAFF_UNATTRIBUTED;
	/* The person who logged in says more than the account they act as. */
	if (!out->login[0])
		strcpy(out->login, uid_login);
}

/* A method's name as records and reports print it; "unknown" for other values. */
const char *staff__method_name(enum staff_method m)
{
	switch (m) {
	case STAFF_LOGINUID:
		return "loginuid";
	case STAFF_UID:
		return "uid";
	case STAFF_SERVICE:
		return "service";
	case STAFF_UNATTRIBUTED:
		return "unattributed";
	}
	return "unknown";
}
