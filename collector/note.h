/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, and the
 * tlog-checkpoint note text (c2sp.org/tlog-checkpoint); docs/ledger.md
 *
 * Text forms, byte for byte those of Go's golang.org/x/mod/sumdb/note:
 *   key ID    SHA-256(name || "\n" || 0x01 || pub32)[0:4], big-endian
 *   verifier  "<name>+<8 lowercase hex key ID>+<base64(0x01 || pub32)>"
 *   private   "PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 || seed32)>"
 *   note      "<text ending in \n>\n" then one or more
 *             "\u2014 <name> <base64(key ID || 64-byte signature)>\n"
 * A name is 1..NOTE_NAME_MAX bytes of valid UTF-8 with no '+', no Unicode
 * white space and no control character.
 */
#ifndef CUSTOS_NOTE_H
#define CUSTOS_NOTE_H

#include <stddef.h>
#include <stdint.h>

#define NOTE_NAME_MAX 255
#define NOTE_PUB_LEN  32
#define NOTE_MAX_SIGS 100 /* C2SP asks for at least 16; Go's sumdb/note stops at 100 */
/* Buffer sizes, NUL included, for the longest name. */
#define NOTE_VKEY_SIZE	    (NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)
#define NOTE_SKEY_SIZE	    (12 + NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)
#define CHECKPOINT_ROOT_LEN 32

/* A private key and its name; opaque so the key stays inside libcrypto. */
struct note_signer;

/* A trusted public key, as pinned from a verifier key string. */
struct note_verifier {
	char name[NOTE_NAME_MAX + 1];
	uint32_t id;
	uint8_t pub[NOTE_PUB_LEN];
};

/*
 * Create a signer named name from the 32-byte RFC 8032 seed.  The seed is
 * copied into libcrypto (its secure heap when one is initialised); the caller
 * still owns and wipes its copy.  *out is freed with note__signer_free().
 * Returns 0, -EINVAL for a bad name, -ENOMEM or -EIO (libcrypto failure).
 */
int note__signer_from_seed(const char *name, const uint8_t seed[32], struct note_signer **out);

/*
 * Create a signer named name with a fresh key from RAND_priv_bytes().
 * *out is freed with note__signer_free().  Returns 0, -EINVAL for a bad
 * name, -ENOMEM or -EIO (libcrypto failure, including no entropy).
 */
int note__signer_generate(const char *name, struct note_signer **out);

/*
 * Parse a "PRIVATE+KEY+..." string.  The key ID in it must match the name
 * and the public key derived from the seed.  *out is freed with
 * note__signer_free(); the caller still owns and wipes skey.
 * Returns 0, -EINVAL if skey is malformed, -ENOMEM or -EIO.
 */
int note__signer_from_skey(const char *skey, struct note_signer **out);

/*
 * Write the signer's "PRIVATE+KEY+..." string, NUL-terminated, into buf of
 * cap bytes (NOTE_SKEY_SIZE is always enough).  buf then holds the secret:
 * the caller must OPENSSL_cleanse() it.  Returns 0, -ENOSPC if it does not
 * fit (buf is then wiped), or -EIO.
 */
int note__signer_skey(const struct note_signer *s, char *buf, size_t cap);

/* Fill *out with the public half of s.  Never fails. */
void note__signer_verifier(const struct note_signer *s, struct note_verifier *out);

/* Name of s; the string belongs to s and lives as long as it. */
const char *note__signer_name(const struct note_signer *s);

/* Free s, wiping it; the private key is wiped by libcrypto.  NULL is a no-op. */
void note__signer_free(struct note_signer *s);

/*
 * Build a verifier from a name and a raw 32-byte Ed25519 public key (as
 * carried in GENESIS and EPOCH_CLOSE records), computing its key ID.
 * Returns 0 or -EINVAL for a bad name.
 */
int note__verifier_init(const char *name, const uint8_t pub[32], struct note_verifier *out);

/*
 * Write v's verifier key string, NUL-terminated, into buf of cap bytes
 * (NOTE_VKEY_SIZE is always enough).  Returns 0, -EINVAL if v's name is
 * invalid, or -ENOSPC.
 */
int note__vkey_format(const struct note_verifier *v, char *buf, size_t cap);

/*
 * Parse a verifier key string into *out.  The key ID must be 8 lowercase hex
 * digits equal to the one computed from the name and key, the algorithm
 * byte 0x01 and the base64 canonical.  Returns 0 or -EINVAL.
 */
int note__vkey_parse(const char *s, struct note_verifier *out);

/*
 * Sign text with n >= 1 signers, in that order.  text must be non-empty,
 * end in "\n", be valid UTF-8 and hold no control character but "\n".
 * *out is a malloc'd NUL-terminated note the caller frees.
 * Returns 0, -EINVAL (bad text, n < 1), -ENOMEM or -EIO.
 */
int note__sign(const char *text, struct note_signer *const *signers, int n, char **out);

/*
 * Open the signed note note[0..len) against the n known verifiers.  The
 * parse is strict: the whole note is valid UTF-8 without control characters
 * but "\n"; the last "\n\n" ends the text; then come 1..NOTE_MAX_SIGS
 * well-formed signature lines and nothing else.  Lines by unknown keys (name
 * and key ID not both matching a known verifier) are ignored; every line by
 * a known key must verify.
 * On success *text_len is the length of the text (note[0..*text_len),
 * final "\n" included) and, if verified is not NULL, verified[i] is 1 for
 * each known[i] that signed and 0 otherwise.  Nothing points into note.
 * Returns 0; -EBADMSG if the note is malformed, a known key's signature
 * fails or no known key signed (verified[] is then all 0); -ENOMEM.
 */
int note__open(const char *note, size_t len, const struct note_verifier *known, int n,
	       size_t *text_len, int *verified);

/*
 * Write the checkpoint text "<origin>\n<size>\n<base64 root>\n" (no extension
 * lines) NUL-terminated into buf of cap bytes.  origin must be non-empty
 * valid UTF-8 without control characters.  Returns 0, -EINVAL or -ENOSPC.
 */
int checkpoint__format(const char *origin, uint64_t size, const uint8_t root[32], char *buf,
		       size_t cap);

/*
 * Parse checkpoint text text[0..len), as returned by note__open(): origin
 * line, decimal size without leading zeros (at most UINT64_MAX), canonical
 * base64 of a 32-byte root, then zero or more non-empty extension lines, all
 * "\n"-terminated.  origin is copied NUL-terminated into origin[origin_cap].
 * Returns the number of extension lines (>= 0), -EINVAL if malformed or
 * -ENOSPC if the origin does not fit; outputs are untouched on error.
 */
int checkpoint__parse(const char *text, size_t len, char *origin, size_t origin_cap, uint64_t *size,
		      uint8_t root[32]);

/*
 * The signed checkpoint notes a store holds with a log (a ledger's table, the
 * central store's, a bundle's), each with the size of the log it signs, in
 * the store's order.  Grown as they are read, so that a count a file claims
 * allocates nothing.  Zeroed is empty.
 */
struct checkpoint_list {
	uint64_t n, cap;
	struct checkpoint_held {
		uint64_t size;
		char *note;
	} * at;
};

/* Append size and a NUL-terminated copy of note[0..len).  0 or -ENOMEM. */
int checkpoint__list_add(struct checkpoint_list *l, uint64_t size, const char *note, size_t len);
void checkpoint__list_free(struct checkpoint_list *l);

#endif /* CUSTOS_NOTE_H */
