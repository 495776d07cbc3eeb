// SPDX-License-Identifier: BSD-2-Clause
/*
 * Inclusion and consistency proofs (docs/ledger.md).  The prover reads
 * the database like the verifier does, read-only and trusting nothing: it
 * checks each proof against the stored checkpoint's root before printing it,
 * so a database that contradicts its own checkpoints gives an error here
 * rather than a proof that fails in the auditor's hands.  The checker needs
 * only the trust file: the checkpoint notes must carry the pinned log key's
 * signature, and everything else follows from the hashes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "log.h"
#include "merkle.h"
#include "note.h"
#include "proof.h"
#include "record.h"
#include "store.h"
#include "util.h"

#define PROOF_MAGIC "custos-proof 1"
/* U+2014 EM DASH and a space open every signature line of a signed note. */
#define SIG_PREFIX     "\xe2\x80\x94 "
#define SIG_PREFIX_LEN 4
/* A 64 KiB record in base64 and two notes of 100 signatures need about 160 KiB. */
#define PROOF_FILE_MAX (1024 * 1024)
#define HASH_B64_SIZE  45 /* 44 characters and the NUL */

/*
 * Where a signed checkpoint note that starts at s[0..n) ends: its text runs
 * to the first blank line (a checkpoint's text holds none) and the note then
 * takes every line that opens like a signature.  The text length, final "\n"
 * included, goes to *text_len.  Returns 0 if there is no blank line or the
 * last signature line is unterminated.  The prover and the checker both
 * delimit notes with this, so a note printed verbatim is read back whole.
 */
static size_t note_span(const char *s, size_t n, size_t *text_len)
{
	const char *blank = memmem(s, n, "\n\n", 2), *end = s + n, *p, *nl;

	if (!blank)
		return 0;
	*text_len = (size_t)(blank + 1 - s);
	p = blank + 2;
	while (end - p >= SIG_PREFIX_LEN && !memcmp(p, SIG_PREFIX, SIG_PREFIX_LEN)) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return 0;
		p = nl + 1;
	}
	return (size_t)(p - s);
}

/* ---- building a proof from the database ---------------------------------- */

struct prover {
	const char *path;
	struct store_reader *rd;
	sqlite3 *db; /* its connection: the checkpoints table */
	struct store_records *rec;
	bool logged; /* the leaf source has reported its error */
	uint8_t buf[RECORD_MAX];
};

/* Read-only and defensive, as custos verify opens the database. */
static int prover_open(struct prover *p)
{
	int rc, err = store__open_reader(p->path, &p->rd);

	if (err)
		return err;
	/* One read transaction: custosd may append meanwhile, and the checkpoints
	 * and records must come from one snapshot. */
	p->db = store__sqlite(p->rd);
	rc = sqlite3_exec(p->db, "BEGIN", NULL, NULL, NULL);
	if (rc == SQLITE_OK && !(p->rec = store__records_open(p->rd)))
		return -EIO;
	if (rc != SQLITE_OK) {
		log_warnx("failed to open database %s: %s", p->path,
			  p->db ? sqlite3_errmsg(p->db) : sqlite3_errstr(rc));
		return -EIO;
	}
	return 0;
}

static void prover_free(struct prover *p)
{
	if (!p)
		return;
	store__records_close(p->rec);
	/* Closing ends the read transaction; nothing was written. */
	store__reader_close(p->rd);
	free(p);
}

/* A prover on db, in its read transaction, or NULL and *err after saying
 * why; what names the proof for the message. */
static struct prover *prover_new(const char *db, const char *what, int *err)
{
	struct prover *p = calloc(1, sizeof(*p));

	if (!p) {
		log_warnx("failed to prove %s: out of memory", what);
		*err = -ENOMEM;
		return NULL;
	}
	p->path = db;
	*err = prover_open(p);
	if (*err) {
		prover_free(p);
		return NULL;
	}
	return p;
}

/*
 * The stored checkpoint of *size (0: the newest) into a malloc'd *note, and
 * its size into *size.  A missing one is a bad argument, not an I/O error.
 */
static int load_checkpoint(struct prover *p, uint64_t *size, char **note)
{
	const char *sql = *size ? "SELECT size, note FROM checkpoint WHERE size = ?"
				: "SELECT size, note FROM checkpoint ORDER BY size DESC LIMIT 1";
	sqlite3_stmt *q = NULL;
	const char *text;
	int rc, err = 0;

	if (*size > INT64_MAX) {
		log_warnx("failed to find checkpoint %" PRIu64 ": no size is that large", *size);
		return -EINVAL;
	}
	if (sqlite3_prepare_v2(p->db, sql, -1, &q, NULL) != SQLITE_OK) {
		log_warnx("failed to read the checkpoints of %s: %s", p->path,
			  sqlite3_errmsg(p->db));
		return -EIO;
	}
	sqlite3_bind_int64(q, 1, (int64_t)*size);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		text = (const char *)sqlite3_column_text(q, 1);
		*size = (uint64_t)sqlite3_column_int64(q, 0);
		*note = strdup(text ? text : "");
		if (!*note) {
			log_warnx("failed to read checkpoint %" PRIu64 ": out of memory", *size);
			err = -ENOMEM;
		}
	} else if (rc == SQLITE_DONE) {
		if (*size)
			log_warnx("failed to find checkpoint %" PRIu64 ": %s has no checkpoint of "
				  "that size",
				  *size, p->path);
		else
			log_warnx("failed to find a checkpoint: %s has none yet", p->path);
		err = -EINVAL;
	} else {
		log_warnx("failed to read the checkpoints of %s: %s", p->path,
			  sqlite3_errmsg(p->db));
		err = -EIO;
	}
	sqlite3_finalize(q);
	return err;
}

/*
 * The root a stored note signs.  Signatures are not checked: the prover has
 * no keys, and the auditor checks them.  But a row that is not a checkpoint of
 * its own size, or that the checker would delimit differently, would only
 * make a proof that cannot be read back.
 */
static int stored_root(const char *note, uint64_t size, uint8_t root[MERKLE_HASH_LEN])
{
	char origin[NOTE_NAME_MAX + 1];
	size_t len = strlen(note), text_len = 0;
	uint64_t s = 0;

	if (note_span(note, len, &text_len) != len ||
	    checkpoint__parse(note, text_len, origin, sizeof(origin), &s, root) < 0 || s != size) {
		log_warnx("failed to read checkpoint %" PRIu64 ": the stored note is not a "
			  "checkpoint of that size (run custos verify)",
			  size);
		return -EBADMSG;
	}
	return 0;
}

/* Record seq, re-encoded from its row into p->buf.  Returns its length or -errno. */
static int read_record(struct prover *p, uint64_t seq)
{
	struct record r;
	int err = store__records_get(p->rec, seq, &r), len = -1;

	if (err == -ENOENT) {
		log_warnx("failed to read record %" PRIu64 ": it is missing (run custos verify)",
			  seq);
		return -EBADMSG;
	}
	if (err == -EIO)
		return err;
	if (err || (len = record__encode(&r, p->buf, sizeof(p->buf))) < 0) {
		log_warnx("failed to read record %" PRIu64 ": the stored row is not a well-formed "
			  "record (run custos verify)",
			  seq);
		return -EBADMSG;
	}
	return len;
}

/* merkle_source.leaf: leaf i from record i. */
static int source_leaf(void *ctx, uint64_t index, uint8_t out[MERKLE_HASH_LEN])
{
	struct prover *p = ctx;
	int len = read_record(p, index);

	if (len < 0) {
		p->logged = true;
		return len;
	}
	return merkle__hash_leaf(p->buf, (size_t)len, out);
}

/* Report a failure of merkle__*_proof unless the leaf source did already. */
static int proof_error(const struct prover *p, int err)
{
	if (!p->logged)
		log_warnx("failed to compute the proof: %s", strerror(-err));
	return err;
}

static void print_hashes(FILE *out, const uint8_t hashes[][MERKLE_HASH_LEN], int n)
{
	char b64[HASH_B64_SIZE];

	for (int i = 0; i < n; i++) {
		EVP_EncodeBlock((unsigned char *)b64, hashes[i], MERKLE_HASH_LEN);
		fprintf(out, "hash %s\n", b64);
	}
}

static int finish_output(FILE *out)
{
	if (fflush(out) || ferror(out)) {
		log_warn("failed to write the proof");
		return -EIO;
	}
	return 0;
}

/*
 * The audit path of seq covers every leaf of the tree of size, and the store
 * keeps no tiles yet: each leaf is re-read from its row, so a
 * proof costs one pass over the first size records.
 */
int proof__inclusion(const char *db, uint64_t seq, uint64_t size, FILE *out)
{
	uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN], leaf[MERKLE_HASH_LEN],
		root[MERKLE_HASH_LEN];
	struct merkle_source src = { .leaf = source_leaf };
	char *note = NULL, *rec = NULL;
	struct prover *p;
	int n = 0, len, err;

	p = prover_new(db, "inclusion", &err);
	if (!p)
		return err;
	src.ctx = p;
	err = load_checkpoint(p, &size, &note);
	if (err)
		goto cleanup;
	if (seq >= size) {
		log_warnx("failed to prove inclusion of seq %" PRIu64 ": the checkpoint of size "
			  "%" PRIu64 " covers seq 0-%" PRIu64 " only",
			  seq, size, size - 1);
		err = -EINVAL;
		goto cleanup;
	}
	err = stored_root(note, size, root);
	if (err)
		goto cleanup;
	len = read_record(p, seq);
	if (len < 0) {
		err = len;
		goto cleanup;
	}
	/* Copied out now: the proof reuses p->buf for every leaf it reads. */
	rec = malloc(4 * ((size_t)len + 2) / 3 + 1);
	if (!rec) {
		log_warnx("failed to prove inclusion: out of memory");
		err = -ENOMEM;
		goto cleanup;
	}
	EVP_EncodeBlock((unsigned char *)rec, p->buf, len);
	err = merkle__hash_leaf(p->buf, (size_t)len, leaf);
	if (!err)
		err = merkle__inclusion_proof(&src, seq, size, proof, &n);
	if (err) {
		err = proof_error(p, err);
		goto cleanup;
	}
	err = merkle__verify_inclusion(leaf, seq, size, proof, n, root);
	if (err) {
		log_warnx("failed to prove inclusion of seq %" PRIu64 ": the records do not give "
			  "the root of checkpoint %" PRIu64
			  ", the database was altered (run custos "
			  "verify)",
			  seq, size);
		err = -EBADMSG;
		goto cleanup;
	}
	fprintf(out,
		PROOF_MAGIC "\ntype inclusion\nindex %" PRIu64 "\nsize %" PRIu64 "\nrecord %s\n",
		seq, size, rec);
	print_hashes(out, proof, n);
	fprintf(out, "checkpoint\n%s", note);
	err = finish_output(out);
cleanup:
	free(rec);
	free(note);
	prover_free(p);
	return err;
}

/* As proof__inclusion: one pass over the first new_size records. */
int proof__consistency(const char *db, uint64_t old_size, uint64_t new_size, FILE *out)
{
	uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN], old_root[MERKLE_HASH_LEN],
		new_root[MERKLE_HASH_LEN];
	struct merkle_source src = { .leaf = source_leaf };
	char *old_note = NULL, *new_note = NULL;
	struct prover *p;
	int n = 0, err;

	if (!old_size) {
		/* RFC 9162 has no proof from the empty tree: every tree extends it. */
		log_warnx("failed to prove consistency: the old size must be at least 1");
		return -EINVAL;
	}
	p = prover_new(db, "consistency", &err);
	if (!p)
		return err;
	src.ctx = p;
	err = load_checkpoint(p, &new_size, &new_note);
	if (err)
		goto cleanup;
	if (old_size > new_size) {
		log_warnx("failed to prove consistency: the old size %" PRIu64
			  " is larger than the new size %" PRIu64,
			  old_size, new_size);
		err = -EINVAL;
		goto cleanup;
	}
	err = load_checkpoint(p, &old_size, &old_note);
	if (!err)
		err = stored_root(old_note, old_size, old_root);
	if (!err)
		err = stored_root(new_note, new_size, new_root);
	if (err)
		goto cleanup;
	err = merkle__consistency_proof(&src, old_size, new_size, proof, &n);
	if (err) {
		err = proof_error(p, err);
		goto cleanup;
	}
	err = merkle__verify_consistency(old_size, new_size, old_root, new_root, proof, n);
	if (err) {
		log_warnx("failed to prove consistency of checkpoints %" PRIu64 " and %" PRIu64
			  ": the records do not give their roots, the database was altered (run "
			  "custos verify)",
			  old_size, new_size);
		err = -EBADMSG;
		goto cleanup;
	}
	fprintf(out, PROOF_MAGIC "\ntype consistency\nold %" PRIu64 "\nnew %" PRIu64 "\n", old_size,
		new_size);
	print_hashes(out, proof, n);
	fprintf(out, "checkpoint\n%scheckpoint\n%s", old_note, new_note);
	err = finish_output(out);
cleanup:
	free(old_note);
	free(new_note);
	prover_free(p);
	return err;
}

/* ---- checking a proof with the trust file -------------------------------- */

/* What a proof file says, before any of it is checked. */
struct proof {
	bool consistency;
	uint64_t a, b; /* index and size, or old and new size */
	uint8_t *record;
	size_t record_len;
	uint8_t hashes[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
	int n;
	const char *note[2]; /* point into the file's buffer */
	size_t note_len[2];
};

struct cursor {
	const char *path;
	const char *p, *end;
	int line; /* lines consumed */
};

/* Log why the file is not a proof, at the line after the cursor. */
static int malformed(const struct cursor *c, const char *why)
{
	log_warnx("failed to read proof %s: line %d: %s", c->path, c->line + 1, why);
	return -EINVAL;
}

/* Take the next line, without its "\n", if it starts with key. */
static bool take_line(struct cursor *c, const char *key, const char **s, size_t *n)
{
	const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	size_t k = strlen(key);

	if (!nl || (size_t)(nl - c->p) < k || memcmp(c->p, key, k))
		return false;
	*s = c->p + k;
	*n = (size_t)(nl - *s);
	c->p = nl + 1;
	c->line++;
	return true;
}

/* Take the next line if it is exactly want. */
static bool take_exact(struct cursor *c, const char *want)
{
	struct cursor save = *c;
	const char *s;
	size_t n;

	if (take_line(c, want, &s, &n) && n == 0)
		return true;
	*c = save;
	return false;
}

static int take_number(struct cursor *c, const char *key, uint64_t *out)
{
	struct cursor save = *c;
	char why[64];
	const char *s;
	size_t n;

	snprintf(why, sizeof(why), "expected \"%sNUMBER\"", key);
	if (take_line(c, key, &s, &n) && util__parse_decimal(s, n, out))
		return 0;
	*c = save;
	return malformed(c, why);
}

/* Decode s[0..n) into a malloc'd *out only if it is canonical base64 (one
 * proof, one spelling).  Returns the decoded length, or -1. */
static long b64_decode(const char *s, size_t n, uint8_t **out)
{
	long len = util__b64_len(s, n);
	uint8_t *buf;

	if (len < 0)
		return -1;
	buf = malloc(n / 4 * 3);
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	if (!buf || EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n) != (int)(n / 4 * 3)) {
		free(buf);
		return -1;
	}
	*out = buf;
	return len;
}

/* "checkpoint", then a signed note, into pr->note[i]. */
static int take_note(struct cursor *c, struct proof *pr, int i)
{
	size_t text_len, len;

	if (!take_exact(c, "checkpoint"))
		return malformed(c, "expected \"checkpoint\"");
	len = note_span(c->p, (size_t)(c->end - c->p), &text_len);
	if (!len)
		return malformed(c, "expected a signed checkpoint note");
	pr->note[i] = c->p;
	pr->note_len[i] = len;
	for (size_t k = 0; k < len; k++)
		c->line += c->p[k] == '\n';
	c->p += len;
	return 0;
}

/* Parse the whole file buf[0..len) into pr; every line in its place, once. */
static int parse_proof(const char *path, const char *buf, size_t len, struct proof *pr)
{
	struct cursor c = { .path = path, .p = buf, .end = buf + len };
	uint8_t *hash = NULL;
	const char *s;
	size_t n;
	long dec;
	int want, err;

	if (memchr(buf, '\0', len)) {
		log_warnx("failed to read proof %s: it holds a NUL byte", path);
		return -EINVAL;
	}
	if (!take_exact(&c, PROOF_MAGIC))
		return malformed(&c, "expected \"" PROOF_MAGIC "\"");
	if (take_exact(&c, "type consistency"))
		pr->consistency = true;
	else if (!take_exact(&c, "type inclusion"))
		return malformed(&c, "expected \"type inclusion\" or \"type consistency\"");
	err = take_number(&c, pr->consistency ? "old " : "index ", &pr->a);
	if (!err)
		err = take_number(&c, pr->consistency ? "new " : "size ", &pr->b);
	if (err)
		return err;
	want = pr->consistency ? merkle__consistency_proof_len(pr->a, pr->b)
			       : merkle__inclusion_proof_len(pr->a, pr->b);
	if (want < 0) {
		log_warnx("failed to read proof %s: line %d: %s", path, c.line,
			  pr->consistency ? "the sizes must be 0 < old <= new <= 2^63"
					  : "the index must be below the size");
		return -EINVAL;
	}
	if (!pr->consistency) {
		struct cursor save = c;

		if (!take_line(&c, "record ", &s, &n) || n > 4 * ((RECORD_MAX + 2) / 3) ||
		    (dec = b64_decode(s, n, &pr->record)) < 0) {
			c = save;
			return malformed(&c, "expected \"record BASE64\" of at most 65535 bytes");
		}
		pr->record_len = (size_t)dec;
	}
	for (;;) {
		struct cursor save = c;

		if (!take_line(&c, "hash ", &s, &n))
			break;
		if (pr->n == MERKLE_MAX_PROOF) {
			c = save;
			return malformed(&c, "too many hash lines");
		}
		dec = b64_decode(s, n, &hash);
		if (dec == MERKLE_HASH_LEN)
			memcpy(pr->hashes[pr->n], hash, MERKLE_HASH_LEN);
		free(hash);
		hash = NULL;
		if (dec != MERKLE_HASH_LEN) {
			c = save;
			return malformed(&c, "expected \"hash BASE64\" of 32 bytes");
		}
		pr->n++;
	}
	if (pr->n != want) {
		log_warnx("failed to read proof %s: it has %d hash lines where the proof of its "
			  "sizes has %d",
			  path, pr->n, want);
		return -EINVAL;
	}
	err = take_note(&c, pr, 0);
	if (!err && pr->consistency)
		err = take_note(&c, pr, 1);
	if (err)
		return err;
	if (c.p != c.end)
		return malformed(&c, "unexpected text after the last checkpoint");
	return 0;
}

/* The whole file, NUL-terminated, in a malloc'd *buf: a proof is small, a larger file is not one.
 */
/*
 * Open note i with the pinned log key and read it as t's checkpoint of size.
 * Returns VERIFY_OK with its root, VERIFY_TAMPER after saying why, or
 * VERIFY_ERROR.
 */
static int open_checkpoint(const struct trust *t, const struct proof *pr, int i, uint64_t size,
			   uint8_t root[MERKLE_HASH_LEN], FILE *out)
{
	char origin[NOTE_NAME_MAX + 1];
	size_t text_len = 0;
	uint64_t s = 0;
	int verified = 0, err;

	err = note__open(pr->note[i], pr->note_len[i], &t->log_key, 1, &text_len, &verified);
	if (err == -ENOMEM) {
		log_warnx("failed to check checkpoint %" PRIu64 ": out of memory", size);
		return VERIFY_ERROR;
	}
	if (err || !verified) {
		fprintf(out,
			"proof FAILED: checkpoint %" PRIu64 " is not signed by the log key of %s\n",
			size, t->origin);
		return VERIFY_TAMPER;
	}
	if (checkpoint__parse(pr->note[i], text_len, origin, sizeof(origin), &s, root) < 0 ||
	    strcmp(origin, t->origin)) {
		fprintf(out,
			"proof FAILED: the note signed by the log key is not a checkpoint of %s\n",
			t->origin);
		return VERIFY_TAMPER;
	}
	if (s != size) {
		fprintf(out,
			"proof FAILED: the checkpoint is of size %" PRIu64 ", not %" PRIu64 "\n", s,
			size);
		return VERIFY_TAMPER;
	}
	return VERIFY_OK;
}

/*
 * p[0..n) for a terminal, in a new string the caller frees: printable ASCII
 * stays, everything else (controls, '\\', any byte >= 0x80) becomes \xNN.
 * Cruder than custos query's table, which keeps valid UTF-8, but a proof's
 * verdict line must not let a crafted path rewrite the terminal.
 */
static char *escape(const uint8_t *p, size_t n)
{
	char *buf = malloc(n * 4 + 1), *o = buf;

	if (!buf)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			*o++ = (char)p[i];
		else
			o += sprintf(o, "\\x%02x", p[i]);
	}
	*o = '\0';
	return buf;
}

/*
 * One line about r: which file was opened or read by whom and when, or for
 * other records their kind, time and details.
 */
static int describe(FILE *out, const struct record *r)
{
	const struct rec_access *a = &r->access;
	char when[TIME_STR_LEN], *detail = NULL, *safe;

	if (r->type == REC_FILE_ACCESS) {
		util__format_time((int64_t)a->event_ns, when);
		safe = escape(a->path.p, a->path.len);
	} else {
		util__format_time((int64_t)r->t_real_ns, when);
		/* NULL for the types without details: then the line has none. */
		detail = record__detail(r);
		safe = escape((const uint8_t *)(detail ? detail : ""), detail ? strlen(detail) : 0);
	}
	if (!safe) {
		log_warnx("failed to describe record %" PRIu64 ": out of memory", r->seq);
		free(detail);
		return -ENOMEM;
	}
	fprintf(out, "seq %" PRIu64 ": %s ", r->seq, record__action(r));
	if (r->type == REC_FILE_ACCESS) {
		fprintf(out, "%s by pid %" PRIu32 " uid %" PRIu32 " at %s", safe, a->pid, a->uid,
			when);
		if (a->result < 0)
			fprintf(out, " (failed: %s)", strerror((int)-(int64_t)a->result));
	} else {
		fprintf(out, "at %s", when);
		if (*safe)
			fprintf(out, " (%s)", safe);
	}
	fputc('\n', out);
	free(detail);
	free(safe);
	return 0;
}

static int check_inclusion(const struct trust *t, const struct proof *pr, FILE *out)
{
	uint8_t root[MERKLE_HASH_LEN], leaf[MERKLE_HASH_LEN];
	struct record r;
	int status, err;

	status = open_checkpoint(t, pr, 0, pr->b, root, out);
	if (status != VERIFY_OK)
		return status;
	if (record__decode(&r, pr->record, pr->record_len)) {
		fprintf(out, "proof FAILED: the record is not a well-formed custos record\n");
		return VERIFY_TAMPER;
	}
	if (r.seq != pr->a) {
		fprintf(out, "proof FAILED: the record is seq %" PRIu64 ", not %" PRIu64 "\n",
			r.seq, pr->a);
		return VERIFY_TAMPER;
	}
	err = merkle__hash_leaf(pr->record, pr->record_len, leaf);
	if (!err)
		err = merkle__verify_inclusion(leaf, pr->a, pr->b, pr->hashes, pr->n, root);
	if (err == -EIO) {
		log_warnx("failed to check the proof: cannot hash");
		return VERIFY_ERROR;
	}
	if (err) {
		fprintf(out,
			"proof FAILED: the record and the hashes do not give the root of "
			"checkpoint "
			"%" PRIu64 "\n",
			pr->b);
		return VERIFY_TAMPER;
	}
	if (describe(out, &r))
		return VERIFY_ERROR;
	fprintf(out,
		"proof verified: seq %" PRIu64 " is in the log %s of %" PRIu64
		" records, as its log key signed\n",
		pr->a, t->origin, pr->b);
	return VERIFY_OK;
}

static int check_consistency(const struct trust *t, const struct proof *pr, FILE *out)
{
	uint8_t old_root[MERKLE_HASH_LEN], new_root[MERKLE_HASH_LEN];
	int status, err;

	status = open_checkpoint(t, pr, 0, pr->a, old_root, out);
	if (status == VERIFY_OK)
		status = open_checkpoint(t, pr, 1, pr->b, new_root, out);
	if (status != VERIFY_OK)
		return status;
	err = merkle__verify_consistency(pr->a, pr->b, old_root, new_root, pr->hashes, pr->n);
	if (err == -EIO) {
		log_warnx("failed to check the proof: cannot hash");
		return VERIFY_ERROR;
	}
	if (err) {
		fprintf(out,
			"proof FAILED: checkpoint %" PRIu64 " does not extend checkpoint %" PRIu64
			"\n",
			pr->b, pr->a);
		return VERIFY_TAMPER;
	}
	fprintf(out,
		"proof verified: the log %s of %" PRIu64 " records extends its first %" PRIu64
		" records, as its log key signed\n",
		t->origin, pr->b, pr->a);
	return VERIFY_OK;
}

/* Parse everything before checking anything, so a verdict is only given on a whole proof. */
int proof__verify(const struct trust *t, const char *path, FILE *out)
{
	struct proof *pr = calloc(1, sizeof(*pr));
	int status = VERIFY_ERROR, err;
	char *buf = NULL;
	size_t len = 0;

	if (!pr) {
		log_warnx("failed to check proof %s: out of memory", path);
		return VERIFY_ERROR;
	}
	err = util__read_file(path, PROOF_FILE_MAX, &buf, &len);
	if (err) {
		log_warnx("failed to read proof %s: %s", path, strerror(-err));
		goto cleanup;
	}
	if (parse_proof(path, buf, len, pr))
		goto cleanup;
	status = pr->consistency ? check_consistency(t, pr, out) : check_inclusion(t, pr, out);
	if (fflush(out) || ferror(out)) {
		log_warn("failed to write the verdict");
		status = VERIFY_ERROR;
	}
cleanup:
	free(pr->record);
	free(pr);
	free(buf);
	return status;
}
