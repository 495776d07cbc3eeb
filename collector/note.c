// SPDX-License-Identifier: BSD-2-Clause
/*
 * Signed notes and checkpoints (docs/ledger.md).  Everything that parses
 * here is strict and returns one error for every kind of malformation: the
 * auditor's verdict must not depend on how a forger chose to be sloppy, and
 * a text accepted here must be the one Go's sumdb/note and the witnesses
 * accept.  Where C2SP leaves room (base64 padding bits, hex case, names) we
 * accept only what we would write ourselves.
 *
 * Ed25519 is libcrypto's: raw keys, a NULL digest and one-shot
 * EVP_DigestSign/EVP_DigestVerify, since OpenSSL 3.0 cannot stream pure
 * Ed25519.  Seeds only pass through stack buffers that are wiped on every
 * path; the private key itself lives in the EVP_PKEY, which libcrypto puts
 * in its secure heap when the program initialised one and wipes when freed.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "note.h"
#include "util.h"

#define ALG_ED25519  0x01
#define SEED_LEN     32
#define SIG_LEN	     64
#define KEY_B64_LEN  44 /* base64 of alg byte + 32-byte key */
#define SIG_B64_LEN  92 /* base64 of 4-byte key ID + 64-byte signature */
#define ROOT_B64_LEN 44
#define SKEY_PREFIX  "PRIVATE+KEY+"
/* "\u2014 " in UTF-8: the em dash and space that open a signature line. */
#define SIG_PREFIX     "\xe2\x80\x94 "
#define SIG_PREFIX_LEN 4

struct note_signer {
	char name[NOTE_NAME_MAX + 1];
	uint32_t id;
	uint8_t pub[NOTE_PUB_LEN];
	EVP_PKEY *pkey;
};

/* The Unicode White_Space property, which is what Go's unicode.IsSpace tests. */
static bool is_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
	       c == 0x205f || c == 0x3000;
}

/* Valid UTF-8 with no control character (below U+0020) other than '\n'. */
static bool valid_text(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c;

	for (size_t i = 0; i < n;) {
		size_t k = util__utf8_seq(p + i, n - i, &c);

		if (!k || (c < 0x20 && c != '\n'))
			return false;
		i += k;
	}
	return true;
}

/* A key name: 1..NOTE_NAME_MAX bytes of UTF-8, no '+', no space, no control character. */
static bool valid_name(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c;

	if (n == 0 || n > NOTE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n;) {
		size_t k = util__utf8_seq(p + i, n - i, &c);

		if (!k || c < 0x20 || c == '+' || is_space(c))
			return false;
		i += k;
	}
	return true;
}

/*
 * Decode canonical base64 s[0..n) that must hold exactly want bytes into out.
 * EVP_DecodeBlock counts the padding as zero bytes, so it decodes into a
 * scratch buffer that is wiped afterwards (it may hold a seed).
 * Returns 0 or -EINVAL.
 */
static int b64_decode(const char *s, size_t n, uint8_t *out, size_t want)
{
	unsigned char tmp[72];
	int ret = -EINVAL;

	if (util__b64_len(s, n) != (long)want || n / 4 * 3 > sizeof(tmp))
		goto cleanup;
	if (EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n) != (int)(n / 4 * 3))
		goto cleanup;
	memcpy(out, tmp, want);
	ret = 0;
cleanup:
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return ret;
}

/* Encode in[0..n) as base64 into out, which holds 4 * ((n + 2) / 3) + 1 bytes. */
static void b64_encode(const uint8_t *in, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* Parse exactly 8 lowercase hex digits; uppercase is refused as we never write it. */
static bool parse_hex8(const char *s, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint32_t)(c - 'a' + 10);
		else
			return false;
	}
	*out = v;
	return true;
}

/* Key ID = SHA-256(name || "\n" || 0x01 || pub)[0:4], big-endian.  Returns 0 or -ENOMEM. */
static int key_id(const char *name, size_t name_len, const uint8_t pub[NOTE_PUB_LEN], uint32_t *out)
{
	unsigned char buf[NOTE_NAME_MAX + 2 + NOTE_PUB_LEN];
	unsigned char md[EVP_MAX_MD_SIZE];

	memcpy(buf, name, name_len);
	buf[name_len] = '\n';
	buf[name_len + 1] = ALG_ED25519;
	memcpy(buf + name_len + 2, pub, NOTE_PUB_LEN);
	if (!EVP_Digest(buf, name_len + 2 + NOTE_PUB_LEN, md, NULL, EVP_sha256(), NULL))
		return -ENOMEM;
	*out = (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 | (uint32_t)md[2] << 8 | md[3];
	return 0;
}

/* New signer from a 32-byte seed; caller frees *out and wipes seed.  0, -EINVAL, -ENOMEM, -EIO. */
int note__signer_from_seed(const char *name, const uint8_t seed[32], struct note_signer **out)
{
	struct note_signer *s = NULL;
	size_t name_len = strnlen(name, NOTE_NAME_MAX + 1);
	size_t pub_len = NOTE_PUB_LEN;
	int err;

	if (!valid_name(name, name_len))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s->name, name, name_len);
	s->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, SEED_LEN);
	if (!s->pkey || !EVP_PKEY_get_raw_public_key(s->pkey, s->pub, &pub_len) ||
	    pub_len != NOTE_PUB_LEN) {
		err = -EIO;
		goto cleanup;
	}
	err = key_id(s->name, name_len, s->pub, &s->id);
	if (err)
		goto cleanup;
	*out = s;
	s = NULL;
cleanup:
	if (err)
		ERR_clear_error();
	note__signer_free(s);
	return err;
}

/* New signer with a RAND_priv_bytes() seed; caller frees *out.  0, -EINVAL, -ENOMEM, -EIO. */
int note__signer_generate(const char *name, struct note_signer **out)
{
	uint8_t seed[SEED_LEN];
	int err;

	if (!valid_name(name, strnlen(name, NOTE_NAME_MAX + 1)))
		return -EINVAL;
	if (RAND_priv_bytes(seed, sizeof(seed)) != 1) {
		ERR_clear_error();
		err = -EIO;
		goto cleanup;
	}
	err = note__signer_from_seed(name, seed, out);
cleanup:
	OPENSSL_cleanse(seed, sizeof(seed));
	return err;
}

/* Signer from "PRIVATE+KEY+...", its ID checked; caller frees *out.  0, -EINVAL, -ENOMEM, -EIO. */
int note__signer_from_skey(const char *skey, struct note_signer **out)
{
	struct note_signer *s = NULL;
	char name[NOTE_NAME_MAX + 1];
	uint8_t key[1 + SEED_LEN];
	const char *p, *plus;
	uint32_t id;
	int err = -EINVAL;

	if (strncmp(skey, SKEY_PREFIX, strlen(SKEY_PREFIX)))
		goto cleanup;
	p = skey + strlen(SKEY_PREFIX);
	plus = strchr(p, '+');
	if (!plus || !valid_name(p, (size_t)(plus - p)))
		goto cleanup;
	memcpy(name, p, (size_t)(plus - p));
	name[plus - p] = '\0';
	p = plus + 1;
	if (strnlen(p, 9) < 9 || !parse_hex8(p, &id) || p[8] != '+')
		goto cleanup;
	p += 9;
	if (strlen(p) != KEY_B64_LEN || b64_decode(p, KEY_B64_LEN, key, sizeof(key)) ||
	    key[0] != ALG_ED25519)
		goto cleanup;
	err = note__signer_from_seed(name, key + 1, &s);
	if (err)
		goto cleanup;
	/* The ID binds name and key; a mismatch means one of them was altered. */
	if (s->id != id) {
		err = -EINVAL;
		goto cleanup;
	}
	*out = s;
	s = NULL;
cleanup:
	OPENSSL_cleanse(key, sizeof(key));
	note__signer_free(s);
	return err;
}

/* Format the private key string into buf, which the caller wipes.  0, -ENOSPC (buf wiped), -EIO. */
int note__signer_skey(const struct note_signer *s, char *buf, size_t cap)
{
	uint8_t key[1 + SEED_LEN];
	char b64[KEY_B64_LEN + 1];
	size_t seed_len = SEED_LEN;
	int err = 0, n;

	key[0] = ALG_ED25519;
	if (!EVP_PKEY_get_raw_private_key(s->pkey, key + 1, &seed_len) || seed_len != SEED_LEN) {
		ERR_clear_error();
		err = -EIO;
		goto cleanup;
	}
	b64_encode(key, sizeof(key), b64);
	n = snprintf(buf, cap, SKEY_PREFIX "%s+%08" PRIx32 "+%s", s->name, s->id, b64);
	if (n < 0 || (size_t)n >= cap) {
		/* snprintf may have left part of the seed's base64 behind. */
		OPENSSL_cleanse(buf, cap);
		err = -ENOSPC;
	}
cleanup:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(b64, sizeof(b64));
	return err;
}

/* Copy the public half of s into *out. */
void note__signer_verifier(const struct note_signer *s, struct note_verifier *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->name, s->name, sizeof(out->name));
	out->id = s->id;
	memcpy(out->pub, s->pub, sizeof(out->pub));
}

/* The signer's name, owned by s. */
const char *note__signer_name(const struct note_signer *s)
{
	return s->name;
}

/* Free and wipe s; NULL is a no-op. */
void note__signer_free(struct note_signer *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->pkey);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

/* Verifier from a name and raw public key, with its computed ID.  0, -EINVAL or -ENOMEM. */
int note__verifier_init(const char *name, const uint8_t pub[32], struct note_verifier *out)
{
	size_t name_len = strnlen(name, NOTE_NAME_MAX + 1);
	struct note_verifier v = { 0 };
	int err;

	if (!valid_name(name, name_len))
		return -EINVAL;
	memcpy(v.name, name, name_len);
	memcpy(v.pub, pub, NOTE_PUB_LEN);
	err = key_id(v.name, name_len, v.pub, &v.id);
	if (!err)
		*out = v;
	return err;
}

/* Format v as "<name>+<id>+<key>" into buf.  0, -EINVAL or -ENOSPC. */
int note__vkey_format(const struct note_verifier *v, char *buf, size_t cap)
{
	uint8_t key[1 + NOTE_PUB_LEN];
	char b64[KEY_B64_LEN + 1];
	int n;

	if (!valid_name(v->name, strnlen(v->name, sizeof(v->name))))
		return -EINVAL;
	key[0] = ALG_ED25519;
	memcpy(key + 1, v->pub, NOTE_PUB_LEN);
	b64_encode(key, sizeof(key), b64);
	n = snprintf(buf, cap, "%s+%08" PRIx32 "+%s", v->name, v->id, b64);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return 0;
}

/* Parse a verifier key string strictly into *out, untouched on error.  0 or -EINVAL. */
int note__vkey_parse(const char *s, struct note_verifier *out)
{
	struct note_verifier v = { 0 };
	uint8_t key[1 + NOTE_PUB_LEN];
	const char *plus = strchr(s, '+'), *p;
	uint32_t id;

	/* The name ends at the first '+'; the base64 after the second may hold more. */
	if (!plus || !valid_name(s, (size_t)(plus - s)))
		return -EINVAL;
	memcpy(v.name, s, (size_t)(plus - s));
	p = plus + 1;
	if (strnlen(p, 9) < 9 || !parse_hex8(p, &v.id) || p[8] != '+')
		return -EINVAL;
	p += 9;
	if (strlen(p) != KEY_B64_LEN || b64_decode(p, KEY_B64_LEN, key, sizeof(key)) ||
	    key[0] != ALG_ED25519)
		return -EINVAL;
	memcpy(v.pub, key + 1, NOTE_PUB_LEN);
	if (key_id(v.name, (size_t)(plus - s), v.pub, &id) || id != v.id)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Sign msg[0..len) with s into sig.  Returns 0 or -EIO. */
static int sign_raw(const struct note_signer *s, const char *msg, size_t len, uint8_t sig[SIG_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t sig_len = SIG_LEN;
	int err = -EIO;

	if (!ctx || EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->pkey) != 1)
		goto cleanup;
	if (EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)msg, len) != 1 ||
	    sig_len != SIG_LEN)
		goto cleanup;
	err = 0;
cleanup:
	if (err)
		ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	return err;
}

/*
 * Verify sig over msg[0..len) with pub.  Returns 1 if it verifies, 0 if not,
 * -ENOMEM if libcrypto could not set up the check.  Errors are cleared from
 * libcrypto's queue: a bad signature is an answer here, not a fault.
 */
static int verify_raw(const uint8_t pub[NOTE_PUB_LEN], const char *msg, size_t len,
		      const uint8_t sig[SIG_LEN])
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, NOTE_PUB_LEN);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ret = -ENOMEM;

	if (!pkey || !ctx || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1)
		goto cleanup;
	ret = EVP_DigestVerify(ctx, sig, SIG_LEN, (const unsigned char *)msg, len) == 1;
cleanup:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return ret;
}

/* Sign text with each signer in turn; *out is malloc'd, caller frees.  0, -EINVAL, -ENOMEM, -EIO.
 */
int note__sign(const char *text, struct note_signer *const *signers, int n, char **out)
{
	size_t text_len = strlen(text), cap, off;
	char *note = NULL;
	int err = -EINVAL;

	if (n < 1 || text_len == 0 || text[text_len - 1] != '\n' || !valid_text(text, text_len))
		goto cleanup;
	cap = text_len + 1 + 1;
	for (int i = 0; i < n; i++)
		cap += SIG_PREFIX_LEN + strlen(signers[i]->name) + 1 + SIG_B64_LEN + 1;
	note = malloc(cap);
	if (!note) {
		err = -ENOMEM;
		goto cleanup;
	}
	memcpy(note, text, text_len);
	off = text_len;
	note[off++] = '\n';
	for (int i = 0; i < n; i++) {
		const struct note_signer *s = signers[i];
		uint8_t blob[4 + SIG_LEN];
		size_t name_len = strlen(s->name);

		blob[0] = (uint8_t)(s->id >> 24);
		blob[1] = (uint8_t)(s->id >> 16);
		blob[2] = (uint8_t)(s->id >> 8);
		blob[3] = (uint8_t)s->id;
		err = sign_raw(s, text, text_len, blob + 4);
		if (err)
			goto cleanup;
		memcpy(note + off, SIG_PREFIX, SIG_PREFIX_LEN);
		off += SIG_PREFIX_LEN;
		memcpy(note + off, s->name, name_len);
		off += name_len;
		note[off++] = ' ';
		b64_encode(blob, sizeof(blob), note + off);
		off += SIG_B64_LEN;
		note[off++] = '\n';
	}
	note[off] = '\0';
	*out = note;
	note = NULL;
	err = 0;
cleanup:
	free(note);
	return err;
}

/* known[i] has this name and key ID. */
static bool verifier_matches(const struct note_verifier *v, const char *name, size_t name_len,
			     uint32_t id)
{
	return v->id == id && strnlen(v->name, sizeof(v->name)) == name_len &&
	       !memcmp(v->name, name, name_len);
}

/*
 * Strictly parse and verify a note against known keys; see note.h for the rules.
 * Returns 0 with *text_len set, -EBADMSG (verified[] all 0) or -ENOMEM.
 */
/*
 * One signature line [p, nl) of a note whose text is note[0, text_len): the
 * key's name and ID, and for each known key of that name and ID its
 * signature, which must hold (verified[i] and *any set).  0, -EBADMSG, or
 * another -errno from the signature check.
 */
static int check_line(const char *p, const char *nl, const char *note, size_t text_len,
		      const struct note_verifier *known, int n, int *verified, bool *any)
{
	const char *name, *sp, *b64;
	uint8_t blob[4 + SIG_LEN];
	size_t name_len, sig_b64_len;
	uint32_t id;
	long dec;

	if (nl - p < SIG_PREFIX_LEN || memcmp(p, SIG_PREFIX, SIG_PREFIX_LEN))
		return -EBADMSG;
	name = p + SIG_PREFIX_LEN;
	sp = memchr(name, ' ', (size_t)(nl - name));
	if (!sp)
		return -EBADMSG;
	name_len = (size_t)(sp - name);
	b64 = sp + 1;
	sig_b64_len = (size_t)(nl - b64);
	dec = util__b64_len(b64, sig_b64_len);
	/* A key ID and at least one byte of signature, as in Go's sumdb/note. */
	if (!valid_name(name, name_len) || dec < 5)
		return -EBADMSG;
	/* The first 8 characters are 6 whole bytes: the key ID and then some. */
	if (b64_decode(b64, 8, blob, dec == 5 ? 5 : 6))
		return -EBADMSG;
	id = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
	for (int i = 0; i < n; i++) {
		int ok;

		if (!verifier_matches(&known[i], name, name_len, id))
			continue;
		/*
		 * Every line by a known key is checked, repeats included, and so
		 * is every known entry with this name and ID: a colliding pinned
		 * key cannot make a forged line be skipped.
		 */
		if (dec != 4 + SIG_LEN || b64_decode(b64, sig_b64_len, blob, sizeof(blob)))
			return -EBADMSG;
		ok = verify_raw(known[i].pub, note, text_len, blob + 4);
		if (ok <= 0)
			return ok < 0 ? ok : -EBADMSG;
		if (verified)
			verified[i] = 1;
		*any = true;
	}
	return 0;
}

int note__open(const char *note, size_t len, const struct note_verifier *known, int n,
	       size_t *text_len, int *verified)
{
	const char *p, *nl, *end = note + len;
	size_t split = 0, nsigs = 0;
	bool found = false, any = false;
	int err = -EBADMSG;

	if (verified)
		memset(verified, 0, sizeof(*verified) * (size_t)(n > 0 ? n : 0));
	if (len < 2 || note[len - 1] != '\n' || !valid_text(note, len))
		goto cleanup;
	/* The text may hold blank lines; only the last one separates the signatures. */
	for (size_t i = len - 1; i-- > 0;) {
		if (note[i] == '\n' && note[i + 1] == '\n') {
			split = i;
			found = true;
			break;
		}
	}
	if (!found)
		goto cleanup;
	for (p = note + split + 2; p < end; p = nl + 1) {
		/* The note ends in a newline, so every line has one. */
		nl = memchr(p, '\n', (size_t)(end - p));
		if (++nsigs > NOTE_MAX_SIGS)
			goto cleanup;
		err = check_line(p, nl, note, split + 1, known, n, verified, &any);
		if (err)
			goto cleanup;
		err = -EBADMSG;
	}
	if (!any)
		goto cleanup;
	*text_len = split + 1;
	err = 0;
cleanup:
	if (err && verified)
		memset(verified, 0, sizeof(*verified) * (size_t)(n > 0 ? n : 0));
	return err;
}

/* Write the three checkpoint lines into buf.  0, -EINVAL or -ENOSPC. */
int checkpoint__format(const char *origin, uint64_t size, const uint8_t root[32], char *buf,
		       size_t cap)
{
	size_t origin_len = strlen(origin);
	char b64[ROOT_B64_LEN + 1];
	int n;

	if (origin_len == 0 || memchr(origin, '\n', origin_len) || !valid_text(origin, origin_len))
		return -EINVAL;
	b64_encode(root, CHECKPOINT_ROOT_LEN, b64);
	n = snprintf(buf, cap, "%s\n%" PRIu64 "\n%s\n", origin, size, b64);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return 0;
}

/* Parse checkpoint text; returns its extension line count, -EINVAL or -ENOSPC. */
int checkpoint__parse(const char *text, size_t len, char *origin, size_t origin_cap, uint64_t *size,
		      uint8_t root[32])
{
	const char *end = text + len, *line[3], *p = text;
	size_t line_len[3];
	uint8_t r[CHECKPOINT_ROOT_LEN];
	uint64_t sz;
	int ext = 0;

	if (len == 0 || text[len - 1] != '\n' || !valid_text(text, len))
		return -EINVAL;
	for (int i = 0; i < 3; i++) {
		const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;

		if (!nl)
			return -EINVAL;
		line[i] = p;
		line_len[i] = (size_t)(nl - p);
		p = nl + 1;
	}
	if (line_len[0] == 0 || !util__parse_decimal(line[1], line_len[1], &sz) ||
	    line_len[2] != ROOT_B64_LEN || b64_decode(line[2], line_len[2], r, sizeof(r)))
		return -EINVAL;
	/* Opaque extension lines: each non-empty, so a blank line cannot hide among them. */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == p || ext == INT_MAX)
			return -EINVAL;
		ext++;
		p = nl + 1;
	}
	if (line_len[0] >= origin_cap)
		return -ENOSPC;
	memcpy(origin, line[0], line_len[0]);
	origin[line_len[0]] = '\0';
	*size = sz;
	memcpy(root, r, sizeof(r));
	return ext;
}

int checkpoint__list_add(struct checkpoint_list *l, uint64_t size, const char *note, size_t len)
{
	struct checkpoint_held *at = l->at;
	char *copy = malloc(len + 1);

	if (copy && l->n == l->cap) {
		at = realloc(l->at, (l->cap * 2 + 16) * sizeof(*at));
		if (at) {
			l->at = at;
			l->cap = l->cap * 2 + 16;
		}
	}
	if (!copy || !at) {
		free(copy);
		return -ENOMEM;
	}
	memcpy(copy, note, len);
	copy[len] = '\0';
	l->at[l->n++] = (struct checkpoint_held){ size, copy };
	return 0;
}

void checkpoint__list_free(struct checkpoint_list *l)
{
	for (uint64_t i = 0; i < l->n; i++)
		free(l->at[i].note);
	free(l->at);
	*l = (struct checkpoint_list){ 0 };
}
