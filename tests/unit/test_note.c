// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of collector/note.c: signed notes and checkpoints.
 *
 * External vectors: the PeterNeumann and EnochRoot keys and signatures from
 * golang.org/x/mod/sumdb/note (note_test.go), RFC 8032 §7.1 TEST 1, and the
 * example checkpoint text of c2sp.org/tlog-checkpoint.  The Go vectors were
 * also checked with the openssl(1) CLI: the key ID is the first 4 bytes of
 * sha256sum of "PeterNeumann\n" 0x01 pub, and pkeyutl -verify accepts the
 * signature.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "note.h"
#include "test.h"

#define PETER_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define PETER_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define ENOCH_VKEY "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
#define GO_TEXT                                                                                    \
	"If you think cryptography is the answer to your problem,\n"                               \
	"then you don't know what your problem is.\n"
#define PETER_SIG                                                                                  \
	"\xe2\x80\x94 PeterNeumann "                                                               \
	"x08go/ZJkuBS9UG/"                                                                         \
	"SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="             \
	"\n"
#define ENOCH_SIG                                                                                  \
	"\xe2\x80\x94 EnochRoot "                                                                  \
	"rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/"                                             \
	"5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="                                         \
	"\n"
#define GO_NOTE GO_TEXT "\n" PETER_SIG

/* Open s (a C string) against known; the result of note__open. */
static int open_str(const char *s, const struct note_verifier *known, int n, int *verified)
{
	size_t text_len = 0;

	return note__open(s, strlen(s), known, n, &text_len, verified);
}

/* Replace the first occurrence of from in s by to; malloc'd result. */
static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	size_t head, n;
	char *r;

	if (!at)
		return NULL;
	head = (size_t)(at - s);
	n = strlen(s) - strlen(from) + strlen(to) + 1;
	r = malloc(n);
	if (!r)
		return NULL;
	memcpy(r, s, head);
	strcpy(r + head, to);
	strcat(r, at + strlen(from));
	return r;
}

/* Open s after replacing from by to, expecting rc. */
static bool open_replaced(const char *s, const char *from, const char *to,
			  const struct note_verifier *known, int n, int rc)
{
	char *m = replace(s, from, to);
	bool ok = m && open_str(m, known, n, NULL) == rc;

	free(m);
	return ok;
}

TEST(go_vkey_parses_and_formats_back)
{
	struct note_verifier v;
	char buf[NOTE_VKEY_SIZE];

	ASSERT_EQ(note__vkey_parse(PETER_VKEY, &v), 0);
	ASSERT_STREQ(v.name, "PeterNeumann");
	ASSERT_EQ(v.id, 0xc74f20a3u);
	ASSERT_EQ(v.pub[0], 0x1a);
	ASSERT_EQ(v.pub[31], 0xd6);
	ASSERT_EQ(note__vkey_format(&v, buf, sizeof(buf)), 0);
	ASSERT_STREQ(buf, PETER_VKEY);
	ASSERT_EQ(note__vkey_parse(ENOCH_VKEY, &v), 0);
	ASSERT_EQ(v.id, 0xaf0cfe78u);
	return true;
}

/* The key ID recomputed from name and key alone, per signed-note. */
TEST(key_id_follows_spec)
{
	struct note_verifier v, w;

	ASSERT_EQ(note__vkey_parse(PETER_VKEY, &v), 0);
	ASSERT_EQ(note__verifier_init("PeterNeumann", v.pub, &w), 0);
	ASSERT_EQ(w.id, 0xc74f20a3u);
	/* The name is hashed too: same key, other name, other ID. */
	ASSERT_EQ(note__verifier_init("PeterNeumanN", v.pub, &w), 0);
	ASSERT_TRUE(w.id != 0xc74f20a3u);
	ASSERT_EQ(note__verifier_init("a+b", v.pub, &w), -EINVAL);
	return true;
}

TEST(go_skey_matches_go_vkey)
{
	struct note_signer *s = NULL;
	struct note_verifier v, want;
	char buf[NOTE_SKEY_SIZE];
	bool ok = false;

	ASSERT_EQ(note__vkey_parse(PETER_VKEY, &want), 0);
	ASSERT_EQ(note__signer_from_skey(PETER_SKEY, &s), 0);
	note__signer_verifier(s, &v);
	if (strcmp(v.name, want.name) || v.id != want.id || memcmp(v.pub, want.pub, 32))
		goto out;
	if (note__signer_skey(s, buf, sizeof(buf)) || strcmp(buf, PETER_SKEY))
		goto out;
	/* Too small a buffer fails and leaves no part of the secret behind. */
	if (note__signer_skey(s, buf, 40) != -ENOSPC || buf[0] != '\0' || buf[39] != '\0')
		goto out;
	ok = true;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	note__signer_free(s);
	return ok;
}

/* RFC 8032 §7.1 TEST 1: secret key -> public key. */
TEST(rfc8032_seed_gives_public_key)
{
	static const uint8_t seed[32] = {
		0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
		0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
		0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
	};
	static const uint8_t pub[32] = {
		0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
		0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
		0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
	};
	struct note_signer *s = NULL;
	struct note_verifier v;

	ASSERT_EQ(note__signer_from_seed("rfc8032", seed, &s), 0);
	note__signer_verifier(s, &v);
	note__signer_free(s);
	ASSERT_TRUE(!memcmp(v.pub, pub, 32));
	return true;
}

/* Ed25519 is deterministic, so Go's example note must come out byte for byte. */
TEST(go_note_signs_identically)
{
	struct note_signer *s = NULL;
	char *note = NULL;
	bool ok;

	ASSERT_EQ(note__signer_from_skey(PETER_SKEY, &s), 0);
	ok = note__sign(GO_TEXT, &s, 1, &note) == 0 && !strcmp(note, GO_NOTE);
	free(note);
	note__signer_free(s);
	ASSERT_TRUE(ok);
	return true;
}

TEST(go_note_opens)
{
	struct note_verifier k[2];
	size_t text_len = 0;
	int verified[2] = { 0, 0 };

	ASSERT_EQ(note__vkey_parse(PETER_VKEY, &k[0]), 0);
	ASSERT_EQ(note__vkey_parse(ENOCH_VKEY, &k[1]), 0);
	ASSERT_EQ(note__open(GO_NOTE, strlen(GO_NOTE), k, 1, &text_len, verified), 0);
	ASSERT_EQ(text_len, strlen(GO_TEXT));
	ASSERT_EQ(verified[0], 1);
	/* Both of Go's signatures, with both keys known, then with one. */
	ASSERT_EQ(
		note__open(GO_NOTE ENOCH_SIG, strlen(GO_NOTE ENOCH_SIG), k, 2, &text_len, verified),
		0);
	ASSERT_EQ(verified[0] + verified[1], 2);
	ASSERT_EQ(open_str(GO_NOTE ENOCH_SIG, &k[1], 1, verified), 0);
	ASSERT_EQ(verified[0], 1);
	/* Unknown keys only: nothing verified. */
	ASSERT_EQ(open_str(GO_NOTE ENOCH_SIG, NULL, 0, NULL), -EBADMSG);
	ASSERT_EQ(open_str(GO_TEXT "\n" ENOCH_SIG, k, 1, verified), -EBADMSG);
	ASSERT_EQ(verified[0], 0);
	/* Repeated lines and an unknown line with a different signature are fine. */
	ASSERT_EQ(open_str(GO_NOTE PETER_SIG ENOCH_SIG ENOCH_SIG, k, 1, NULL), 0);
	ASSERT_TRUE(open_replaced(GO_NOTE ENOCH_SIG, "5n2t", "5nABCD2t", k, 1, 0));
	/* The order of signature lines carries no meaning. */
	ASSERT_EQ(open_str(GO_TEXT "\n" ENOCH_SIG PETER_SIG, k, 2, NULL), 0);
	return true;
}

/* Go's malformed-note table, plus the signature Go corrupts by insertion. */
TEST(go_bad_notes_rejected)
{
	static const char *const bad[] = {
		GO_TEXT,
		GO_TEXT "\n",
		GO_TEXT
		"\n"
		"\xe2\x80\x94 PeterNeumann "
		"x08go/ZJkuBS9UG/"
		"SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
		"\x01" GO_NOTE,
		"\xff" GO_NOTE,
		GO_TEXT
		"\n"
		"\xe2\x80\x94 Bad Name "
		"x08go/ZJkuBS9UG/"
		"SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
		GO_NOTE "Unexpected line.\n",
	};
	struct note_verifier k;

	ASSERT_EQ(note__vkey_parse(PETER_VKEY, &k), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (open_str(bad[i], &k, 1, NULL) != -EBADMSG) {
			fprintf(stderr, "  bad note %zu accepted\n", i);
			return false;
		}
	}
	ASSERT_TRUE(open_replaced(GO_NOTE, "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8p",
				  "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pABCD", &k, 1, -EBADMSG));
	return true;
}

TEST(signature_count_limit)
{
	size_t one = strlen(PETER_SIG), head = strlen(GO_TEXT) + 1;
	char *m = malloc(head + 101 * one + 1);
	struct note_verifier k;
	bool ok;

	ASSERT_TRUE(m != NULL);
	ASSERT_EQ(note__vkey_parse(PETER_VKEY, &k), 0);
	memcpy(m, GO_TEXT "\n", head);
	for (int i = 0; i < 101; i++)
		memcpy(m + head + (size_t)i * one, PETER_SIG, one);
	m[head + 101 * one] = '\0';
	ok = open_str(m, &k, 1, NULL) == -EBADMSG;
	m[head + 100 * one] = '\0';
	ok = ok && open_str(m, &k, 1, NULL) == 0;
	free(m);
	ASSERT_TRUE(ok);
	return true;
}

TEST(tampering_rejected)
{
	struct note_verifier k[2];

	ASSERT_EQ(note__vkey_parse(PETER_VKEY, &k[0]), 0);
	ASSERT_EQ(note__vkey_parse(ENOCH_VKEY, &k[1]), 0);
	/* One byte of text; one character of signature (still canonical). */
	ASSERT_TRUE(open_replaced(GO_NOTE, "cryptography", "cryptographY", k, 1, -EBADMSG));
	ASSERT_TRUE(open_replaced(GO_NOTE, "ZJku", "ZJkv", k, 1, -EBADMSG));
	/* The key ID inside the signature: the line becomes an unknown key's. */
	ASSERT_TRUE(open_replaced(GO_NOTE, "x08g", "xxxx", k, 1, -EBADMSG));
	/* Text lines swapped. */
	ASSERT_EQ(open_str("then you don't know what your problem is.\n"
			   "If you think cryptography is the answer to your problem,\n\n" PETER_SIG,
			   k, 1, NULL),
		  -EBADMSG);
	/* Trailing junk, missing blank line, extra blank line, CR. */
	ASSERT_EQ(open_str(GO_NOTE "x", k, 1, NULL), -EBADMSG);
	ASSERT_EQ(open_str(GO_NOTE "\n", k, 1, NULL), -EBADMSG);
	ASSERT_EQ(open_str(GO_TEXT PETER_SIG, k, 1, NULL), -EBADMSG);
	ASSERT_EQ(open_str(GO_TEXT "\n\n" PETER_SIG, k, 1, NULL), -EBADMSG);
	ASSERT_TRUE(open_replaced(GO_NOTE, "\n\n", "\r\n\n", k, 1, -EBADMSG));
	/* Hyphen or en dash instead of the em dash; two spaces. */
	ASSERT_TRUE(open_replaced(GO_NOTE, "\xe2\x80\x94 ", "- ", k, 1, -EBADMSG));
	ASSERT_TRUE(open_replaced(GO_NOTE, "\xe2\x80\x94 ", "\xe2\x80\x93 ", k, 1, -EBADMSG));
	ASSERT_TRUE(open_replaced(GO_NOTE, "Neumann ", "Neumann  ", k, 1, -EBADMSG));
	/* A good signature next to a bad one by the same or another known key. */
	ASSERT_TRUE(open_replaced(GO_NOTE PETER_SIG, "ZJku", "ZJkv", k, 1, -EBADMSG));
	ASSERT_TRUE(open_replaced(GO_NOTE ENOCH_SIG, "mZa0", "mZa1", k, 2, -EBADMSG));
	/* Non-canonical base64: nonzero bits under the padding, bad padding. */
	ASSERT_TRUE(open_replaced(GO_NOTE, "JnAM=", "JnAN=", k, 1, -EBADMSG));
	ASSERT_TRUE(open_replaced(GO_NOTE, "JnAM=", "JnA==", k, 1, -EBADMSG));
	ASSERT_TRUE(open_replaced(GO_NOTE, "JnAM=", "JnAM", k, 1, -EBADMSG));
	ASSERT_TRUE(open_replaced(GO_NOTE, "JnAM=", "Jn=M=", k, 1, -EBADMSG));
	/* ... even on a line by an unknown key, as it is malformed, not unknown. */
	ASSERT_TRUE(open_replaced(GO_NOTE ENOCH_SIG, "+QQ=", "+QR=", k, 1, -EBADMSG));
	/* Invalid UTF-8 in the text: overlong '/', a surrogate. */
	ASSERT_TRUE(open_replaced(GO_NOTE, "answer", "\xc0\xaf", k, 1, -EBADMSG));
	ASSERT_TRUE(open_replaced(GO_NOTE, "answer", "\xed\xa0\x80", k, 1, -EBADMSG));
	return true;
}

/* Two pinned keys sharing name and ID: a line matching both must verify under both. */
TEST(colliding_known_keys_rejected)
{
	struct note_verifier k[2];

	ASSERT_EQ(note__vkey_parse(PETER_VKEY, &k[0]), 0);
	k[1] = k[0];
	k[1].pub[0] ^= 1;
	ASSERT_EQ(open_str(GO_NOTE, k, 2, NULL), -EBADMSG);
	k[1] = k[0];
	ASSERT_EQ(open_str(GO_NOTE, k, 2, NULL), 0);
	return true;
}

TEST(vkey_manglings_rejected)
{
	char b[sizeof(PETER_VKEY)], sub[sizeof(PETER_VKEY)];
	size_t n = strlen(PETER_VKEY);
	struct note_verifier v;

	memcpy(b, PETER_VKEY, sizeof(b));
	for (size_t i = 0; i <= n; i++) {
		for (size_t j = i + 1; j <= n; j++) {
			if (i == 0 && j == n)
				continue;
			memcpy(sub, b + i, j - i);
			sub[j - i] = '\0';
			if (note__vkey_parse(sub, &v) != -EINVAL) {
				fprintf(stderr, "  accepted \"%s\"\n", sub);
				return false;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		b[i]++;
		if (note__vkey_parse(b, &v) != -EINVAL) {
			fprintf(stderr, "  accepted \"%s\"\n", b);
			return false;
		}
		b[i]--;
	}
	/* Go's: wrong key length and unknown algorithm, each with a matching ID. */
	ASSERT_EQ(note__vkey_parse("PeterNeumann+cc469956+"
				   "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
				   &v),
		  -EINVAL);
	ASSERT_EQ(note__vkey_parse("PeterNeumann+173116ae+"
				   "ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
				   &v),
		  -EINVAL);
	ASSERT_EQ(note__vkey_parse("PeterNeumann+C74F20A3+"
				   "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
				   &v),
		  -EINVAL);
	return true;
}

TEST(skey_manglings_rejected)
{
	char b[sizeof(PETER_SKEY)], sub[sizeof(PETER_SKEY)];
	size_t n = strlen(PETER_SKEY);
	struct note_signer *s = NULL;

	memcpy(b, PETER_SKEY, sizeof(b));
	for (size_t i = 0; i <= n; i++) {
		for (size_t j = i + 1; j <= n; j++) {
			if (i == 0 && j == n)
				continue;
			memcpy(sub, b + i, j - i);
			sub[j - i] = '\0';
			if (note__signer_from_skey(sub, &s) != -EINVAL) {
				fprintf(stderr, "  accepted \"%s\"\n", sub);
				note__signer_free(s);
				return false;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		b[i]++;
		if (note__signer_from_skey(b, &s) != -EINVAL) {
			fprintf(stderr, "  accepted \"%s\"\n", b);
			note__signer_free(s);
			return false;
		}
		b[i]--;
	}
	OPENSSL_cleanse(b, sizeof(b));
	OPENSSL_cleanse(sub, sizeof(sub));
	return true;
}

TEST(bad_names_rejected)
{
	static const char *const bad[] = {
		"",
		"a+b",
		"a b",
		"a\tb",
		"a\nb",
		"\x01",
		"a\xc2\xa0"
		"b",
		"a\xe3\x80\x80",
		"\xc0\xaf",
		"\xed\xa0\x80",
		"\xf4\x90\x80\x80",
		"\xff",
	};
	struct note_signer *s = (struct note_signer *)1;
	struct note_verifier v;
	char name[NOTE_NAME_MAX + 2];
	uint8_t pub[32] = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (note__signer_generate(bad[i], &s) != -EINVAL ||
		    note__verifier_init(bad[i], pub, &v) != -EINVAL) {
			fprintf(stderr, "  name %zu accepted\n", i);
			return false;
		}
	}
	ASSERT_TRUE(s == (struct note_signer *)1);
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ASSERT_EQ(note__verifier_init(name, pub, &v), -EINVAL);
	name[NOTE_NAME_MAX] = '\0';
	ASSERT_EQ(note__verifier_init(name, pub, &v), 0);
	/* UTF-8 and URL-like names are fine. */
	ASSERT_EQ(note__verifier_init("audit.example.org/host42/fs", pub, &v), 0);
	ASSERT_EQ(note__verifier_init("h\xc3\xb4te\xf0\x9f\x94\x91", pub, &v), 0);
	return true;
}

TEST(generated_keys_round_trip)
{
	struct note_signer *a = NULL, *b = NULL;
	struct note_verifier va, vb, vp;
	char skey[NOTE_SKEY_SIZE], vkey[NOTE_VKEY_SIZE];
	bool ok = false;

	if (note__signer_generate("audit.example.org/host42", &a) ||
	    note__signer_skey(a, skey, sizeof(skey)) || note__signer_from_skey(skey, &b))
		goto out;
	note__signer_verifier(a, &va);
	note__signer_verifier(b, &vb);
	if (memcmp(&va, &vb, sizeof(va)) || strcmp(note__signer_name(b), va.name))
		goto out;
	if (note__vkey_format(&va, vkey, sizeof(vkey)) || note__vkey_parse(vkey, &vp) ||
	    memcmp(&va, &vp, sizeof(va)))
		goto out;
	if (strncmp(skey, "PRIVATE+KEY+audit.example.org/host42+", 37) ||
	    strncmp(vkey, "audit.example.org/host42+", 25))
		goto out;
	if (note__vkey_format(&va, vkey, 20) != -ENOSPC)
		goto out;
	ok = true;
out:
	OPENSSL_cleanse(skey, sizeof(skey));
	note__signer_free(a);
	note__signer_free(b);
	note__signer_free(NULL);
	return ok;
}

TEST(sign_and_open_two_signers)
{
	static const char text[] = "line one\n\nline three after a blank line\n";
	struct note_signer *s[2] = { NULL, NULL };
	struct note_verifier k[3];
	int verified[3] = { 0, 0, 0 };
	size_t text_len = 0;
	char *note = NULL;
	bool ok = false;

	if (note__signer_generate("log.example/a", &s[0]) ||
	    note__signer_generate("log.example/a/fs", &s[1]) || note__vkey_parse(PETER_VKEY, &k[0]))
		goto out;
	note__signer_verifier(s[1], &k[1]);
	note__signer_verifier(s[0], &k[2]);
	if (note__sign(text, s, 2, &note) ||
	    note__open(note, strlen(note), k, 3, &text_len, verified) || text_len != strlen(text) ||
	    memcmp(note, text, text_len))
		goto out;
	if (verified[0] != 0 || verified[1] != 1 || verified[2] != 1)
		goto out;
	/* One known key is enough; the other line is then an unknown key's. */
	if (note__open(note, strlen(note), &k[1], 1, &text_len, verified) || verified[0] != 1)
		goto out;
	/* The length given is what counts: a cut note is malformed. */
	if (note__open(note, strlen(note) - 1, k, 3, &text_len, verified) != -EBADMSG ||
	    verified[1] != 0 || verified[2] != 0)
		goto out;
	ok = true;
out:
	free(note);
	note__signer_free(s[0]);
	note__signer_free(s[1]);
	return ok;
}

TEST(sign_rejects_bad_text)
{
	struct note_signer *s = NULL;
	char *note = NULL;
	bool ok;

	ASSERT_EQ(note__signer_from_skey(PETER_SKEY, &s), 0);
	ok = note__sign("", &s, 1, &note) == -EINVAL &&
	     note__sign("abc", &s, 1, &note) == -EINVAL &&
	     note__sign("a\tb\n", &s, 1, &note) == -EINVAL &&
	     note__sign("a\r\n", &s, 1, &note) == -EINVAL &&
	     note__sign("\xc0\xaf\n", &s, 1, &note) == -EINVAL &&
	     note__sign(GO_TEXT, &s, 0, &note) == -EINVAL && note == NULL;
	/* A text of one empty line, or ending in one, still opens to itself. */
	ok = ok && note__sign("\n", &s, 1, &note) == 0 && !strncmp(note, "\n\n\xe2\x80\x94 ", 5);
	free(note);
	note = NULL;
	ok = ok && note__sign("a\n\n", &s, 1, &note) == 0;
	if (ok) {
		struct note_verifier k;
		size_t text_len = 0;

		note__signer_verifier(s, &k);
		ok = note__open(note, strlen(note), &k, 1, &text_len, NULL) == 0 && text_len == 3;
	}
	free(note);
	note__signer_free(s);
	ASSERT_TRUE(ok);
	return true;
}

TEST(checkpoint_round_trip)
{
	uint8_t root[32], got[32];
	char buf[256], origin[64];
	uint64_t size = 0;

	for (int i = 0; i < 32; i++)
		root[i] = (uint8_t)(i * 7 + 1);
	ASSERT_EQ(checkpoint__format("audit.example.org/host42", 1234567, root, buf, sizeof(buf)),
		  0);
	ASSERT_TRUE(!strncmp(buf, "audit.example.org/host42\n1234567\n", 33));
	ASSERT_EQ(strlen(buf), 33 + 44 + 1);
	ASSERT_EQ(checkpoint__parse(buf, strlen(buf), origin, sizeof(origin), &size, got), 0);
	ASSERT_STREQ(origin, "audit.example.org/host42");
	ASSERT_EQ(size, 1234567);
	ASSERT_TRUE(!memcmp(root, got, 32));
	ASSERT_EQ(checkpoint__format("o", 0, root, buf, sizeof(buf)), 0);
	ASSERT_EQ(checkpoint__parse(buf, strlen(buf), origin, sizeof(origin), &size, got), 0);
	ASSERT_EQ(size, 0);
	ASSERT_EQ(checkpoint__format("o", UINT64_MAX, root, buf, sizeof(buf)), 0);
	ASSERT_EQ(checkpoint__parse(buf, strlen(buf), origin, sizeof(origin), &size, got), 0);
	ASSERT_TRUE(size == UINT64_MAX);
	ASSERT_EQ(checkpoint__format("o", 1, root, buf, 10), -ENOSPC);
	ASSERT_EQ(checkpoint__format("", 1, root, buf, sizeof(buf)), -EINVAL);
	ASSERT_EQ(checkpoint__format("a\nb", 1, root, buf, sizeof(buf)), -EINVAL);
	return true;
}

/* The example in c2sp.org/tlog-checkpoint, with extension lines added. */
TEST(checkpoint_c2sp_example_and_extensions)
{
	static const char cp[] = "example.com/behind-the-sofa\n20852163\n"
				 "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	static const char ext[] = "example.com/behind-the-sofa\n20852163\n"
				  "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nfirst\nsecond\n";
	char origin[64], small[8];
	uint64_t size = 0;
	uint8_t root[32];

	ASSERT_EQ(checkpoint__parse(cp, strlen(cp), origin, sizeof(origin), &size, root), 0);
	ASSERT_STREQ(origin, "example.com/behind-the-sofa");
	ASSERT_EQ(size, 20852163);
	ASSERT_EQ(root[0], 0x0a);
	ASSERT_EQ(root[31], 0x62);
	ASSERT_EQ(checkpoint__parse(ext, strlen(ext), origin, sizeof(origin), &size, root), 2);
	ASSERT_EQ(checkpoint__parse(cp, strlen(cp), small, sizeof(small), &size, root), -ENOSPC);
	return true;
}

TEST(checkpoint_rejections)
{
	static const char *const bad[] = {
		"",
		"o\n1\n",
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
		"\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"o\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"o\n00\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"o\n\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"o\n+1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"o\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"o\n 1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"o\n18446744073709551616\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"o\n99999999999999999999\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2=\n",
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2IAAAA\n",
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next\n\nmore\n",
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\r\n",
		"o\xff\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
	};
	char origin[64] = "untouched";
	uint64_t size = 42;
	uint8_t root[32] = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (checkpoint__parse(bad[i], strlen(bad[i]), origin, sizeof(origin), &size,
				      root) != -EINVAL) {
			fprintf(stderr, "  checkpoint %zu accepted\n", i);
			return false;
		}
	}
	ASSERT_STREQ(origin, "untouched");
	ASSERT_EQ(size, 42);
	ASSERT_EQ(root[0], 0);
	/* The largest size that fits is accepted; it is the same width as the overflow. */
	static const char max[] = "o\n18446744073709551615\n"
				  "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	ASSERT_EQ(checkpoint__parse(max, strlen(max), origin, sizeof(origin), &size, root), 0);
	ASSERT_TRUE(size == UINT64_MAX);
	return true;
}

/* The shape of docs/ledger.md: one checkpoint signed by LK and FK_e. */
TEST(signed_checkpoint_end_to_end)
{
	struct note_signer *s[2] = { NULL, NULL };
	struct note_verifier k[2];
	char cp[256], origin[64];
	uint8_t root[32] = { 1, 2, 3 }, got[32];
	int verified[2] = { 0, 0 };
	size_t text_len = 0;
	uint64_t size = 0;
	char *note = NULL;
	bool ok = false;

	if (note__signer_generate("audit.example.org/host42", &s[0]) ||
	    note__signer_generate("audit.example.org/host42/fs", &s[1]))
		goto out;
	note__signer_verifier(s[0], &k[0]);
	note__signer_verifier(s[1], &k[1]);
	if (checkpoint__format("audit.example.org/host42", 8, root, cp, sizeof(cp)) ||
	    note__sign(cp, s, 2, &note) ||
	    note__open(note, strlen(note), k, 2, &text_len, verified) || !verified[0] ||
	    !verified[1])
		goto out;
	if (checkpoint__parse(note, text_len, origin, sizeof(origin), &size, got) != 0 ||
	    strcmp(origin, "audit.example.org/host42") || size != 8 || memcmp(root, got, 32))
		goto out;
	ok = true;
out:
	free(note);
	note__signer_free(s[0]);
	note__signer_free(s[1]);
	return ok;
}

/* A store's checkpoints: kept in order, each note copied to its length. */
TEST(checkpoint_list_keeps_each)
{
	struct checkpoint_list l = { 0 };
	char note[16];

	for (uint64_t i = 0; i < 100; i++) {
		int n = snprintf(note, sizeof(note), "note %" PRIu64 "xx", i);

		ASSERT_EQ(checkpoint__list_add(&l, i * 3, note, (size_t)n - 2), 0);
	}
	ASSERT_EQ(l.n, 100);
	ASSERT_EQ(l.at[0].size, 0);
	ASSERT_EQ(l.at[99].size, 297);
	ASSERT_STREQ(l.at[42].note, "note 42");
	checkpoint__list_free(&l);
	ASSERT_EQ(l.n, 0);
	ASSERT_TRUE(l.at == NULL);
	return true;
}

RUN_TESTS(T(go_vkey_parses_and_formats_back), T(key_id_follows_spec), T(go_skey_matches_go_vkey),
	  T(rfc8032_seed_gives_public_key), T(go_note_signs_identically), T(go_note_opens),
	  T(go_bad_notes_rejected), T(signature_count_limit), T(tampering_rejected),
	  T(colliding_known_keys_rejected), T(vkey_manglings_rejected), T(skey_manglings_rejected),
	  T(bad_names_rejected), T(generated_keys_round_trip), T(sign_and_open_two_signers),
	  T(sign_rejects_bad_text), T(checkpoint_round_trip),
	  T(checkpoint_c2sp_example_and_extensions), T(checkpoint_rejections),
	  T(signed_checkpoint_end_to_end), T(checkpoint_list_keeps_each))
