// SPDX-License-Identifier: BSD-2-Clause
/*
 * RFC 6962 / RFC 9162 §2.1 Merkle tree.  The tree over D[0:n) splits at k, the largest power of
 * two strictly less than n; every subtree therefore starts at a multiple of its left half, and
 * the perfect subtrees met by a proof are aligned, which is what lets a store serve them whole
 * (merkle_source.node).  Proofs are built walking down from the root and are emitted lowest
 * sibling first, as the RFCs order them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/evp.h>

#include "merkle.h"

#define LEAF_PREFIX 0x00
#define NODE_PREFIX 0x01
/*
 * Hashing a record from one stack buffer saves an EVP_DigestUpdate (about 10 ns).  Access
 * records carry the process's lineage, arguments and attribution: 548 bytes in the synthetic
 * run, more with longer paths; other records are smaller.
 */
#define LEAF_INLINE_MAX 1024

/*
 * OpenSSL 3 does an implicit, locked fetch on every init with EVP_sha256(); an explicitly
 * fetched EVP_MD avoids it, and a context re-initialised with the same EVP_MD keeps its provider
 * state instead of allocating a new one.  That overhead is as large as hashing 65 bytes.  One
 * context per thread keeps callers free of locking; the key's destructor frees it when a thread
 * exits.
 */
static EVP_MD *sha256_md;
static pthread_key_t ctx_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static __thread EVP_MD_CTX *thread_ctx;

static void free_ctx(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

static void fetch_md(void)
{
	EVP_MD *md = EVP_MD_fetch(NULL, "SHA2-256", NULL);

	if (!md)
		return;
	if (pthread_key_create(&ctx_key, free_ctx)) {
		EVP_MD_free(md);
		return;
	}
	sha256_md = md;
}

/* This thread's SHA-256 context, created on first use; NULL if OpenSSL failed. */
static EVP_MD_CTX *hash_ctx(void)
{
	EVP_MD_CTX *ctx;

	if (thread_ctx)
		return thread_ctx;
	if (pthread_once(&md_once, fetch_md) || !sha256_md)
		return NULL;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return NULL;
	if (pthread_setspecific(ctx_key, ctx)) {
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	thread_ctx = ctx;
	return ctx;
}

/* SHA-256(a || b) into out; b may be NULL when blen is 0. */
static int sha256(const void *a, size_t alen, const void *b, size_t blen,
		  uint8_t out[MERKLE_HASH_LEN])
{
	EVP_MD_CTX *ctx = hash_ctx();

	if (!ctx || !EVP_DigestInit_ex(ctx, sha256_md, NULL) || !EVP_DigestUpdate(ctx, a, alen) ||
	    (blen && !EVP_DigestUpdate(ctx, b, blen)) || !EVP_DigestFinal_ex(ctx, out, NULL))
		return -EIO;
	return 0;
}

/* leaf = SHA-256(0x00 || data).  Returns 0 or -EIO. */
int merkle__hash_leaf(const void *data, size_t len, uint8_t out[MERKLE_HASH_LEN])
{
	static const uint8_t prefix = LEAF_PREFIX;
	uint8_t buf[1 + LEAF_INLINE_MAX];

	if (len > LEAF_INLINE_MAX)
		return sha256(&prefix, 1, data, len, out);
	buf[0] = LEAF_PREFIX;
	if (len)
		memcpy(buf + 1, data, len);
	return sha256(buf, 1 + len, NULL, 0, out);
}

/* node = SHA-256(0x01 || left || right); out may alias either input.  Returns 0 or -EIO. */
int merkle__hash_node(const uint8_t left[MERKLE_HASH_LEN], const uint8_t right[MERKLE_HASH_LEN],
		      uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t buf[1 + 2 * MERKLE_HASH_LEN];

	buf[0] = NODE_PREFIX;
	memcpy(buf + 1, left, MERKLE_HASH_LEN);
	memcpy(buf + 1 + MERKLE_HASH_LEN, right, MERKLE_HASH_LEN);
	return sha256(buf, sizeof(buf), NULL, 0, out);
}

/* The MTH of the empty tree, SHA-256 of nothing. */
static int hash_empty(uint8_t out[MERKLE_HASH_LEN])
{
	return sha256(NULL, 0, NULL, 0, out);
}

/* Largest power of two strictly less than n, for n >= 2 (RFC 6962 §2.1's k). */
static uint64_t split(uint64_t n)
{
	return 1ULL << (63 - __builtin_clzll(n - 1));
}

static bool is_pow2(uint64_t n)
{
	return n && !(n & (n - 1));
}

/* Make r the empty range. */
void merkle__init(struct merkle_range *r)
{
	r->size = 0;
	r->n = 0;
}

/*
 * Append a leaf hash to r.  The new leaf is a perfect subtree of height 0; each trailing set
 * bit of size is one of the same height to its left, so they merge like a binary carry.
 * Returns 0, -EINVAL, -EOVERFLOW or -EIO; r changes only on success.
 */
int merkle__append(struct merkle_range *r, const uint8_t leaf[MERKLE_HASH_LEN])
{
	uint8_t h[MERKLE_HASH_LEN];
	uint64_t carry = r->size;
	int n = r->n, err;

	if (n != __builtin_popcountll(r->size))
		return -EINVAL;
	if (r->size == UINT64_MAX)
		return -EOVERFLOW;
	memcpy(h, leaf, MERKLE_HASH_LEN);
	for (; carry & 1; carry >>= 1) {
		err = merkle__hash_node(r->hashes[--n], h, h);
		if (err)
			return err;
	}
	memcpy(r->hashes[n], h, MERKLE_HASH_LEN);
	r->n = n + 1;
	r->size++;
	return 0;
}

/*
 * MTH of r into out.  The subtrees are the left children down the right edge of the tree, so
 * the root folds them right to left.  Returns 0, -EINVAL or -EIO.
 */
int merkle__root(const struct merkle_range *r, uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t h[MERKLE_HASH_LEN];
	int err;

	if (r->n != __builtin_popcountll(r->size))
		return -EINVAL;
	if (r->n == 0)
		return hash_empty(out);
	memcpy(h, r->hashes[r->n - 1], MERKLE_HASH_LEN);
	for (int i = r->n - 2; i >= 0; i--) {
		err = merkle__hash_node(r->hashes[i], h, h);
		if (err)
			return err;
	}
	memcpy(out, h, MERKLE_HASH_LEN);
	return 0;
}

/* Keep a source's result to the 0/-errno convention even if it returns a positive value. */
static int source_err(int err)
{
	return err > 0 ? -EIO : err;
}

/* Hash of the perfect subtree of 2^level leaves at index << level: stored, or from its halves. */
static int perfect_hash(const struct merkle_source *src, unsigned level, uint64_t index,
			uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t left[MERKLE_HASH_LEN];
	int err;

	if (level == 0)
		return source_err(src->leaf(src->ctx, index, out));
	if (src->node) {
		err = src->node(src->ctx, level, index, out);
		if (err != -ENOENT)
			return source_err(err);
	}
	err = perfect_hash(src, level - 1, 2 * index, left);
	if (!err)
		err = perfect_hash(src, level - 1, 2 * index + 1, out);
	if (!err)
		err = merkle__hash_node(left, out, out);
	return err;
}

/* MTH of leaves [begin, end), begin < end, splitting as RFC 6962 §2.1 does. */
static int range_hash(const struct merkle_source *src, uint64_t begin, uint64_t end,
		      uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t left[MERKLE_HASH_LEN];
	uint64_t n = end - begin, k;
	int err;

	if (is_pow2(n) && !(begin & (n - 1))) {
		unsigned level = __builtin_ctzll(n);

		return perfect_hash(src, level, begin >> level, out);
	}
	k = split(n);
	err = range_hash(src, begin, begin + k, left);
	if (!err)
		err = range_hash(src, begin + k, end, out);
	if (!err)
		err = merkle__hash_node(left, out, out);
	return err;
}

/*
 * MTH of leaves [begin, end) from src into out.  Returns 0, -EINVAL, -EIO or src's error; out
 * is undefined on error.
 */
int merkle__subtree(const struct merkle_source *src, uint64_t begin, uint64_t end,
		    uint8_t out[MERKLE_HASH_LEN])
{
	if (!src || !src->leaf || begin > end)
		return -EINVAL;
	if (begin == end)
		return hash_empty(out);
	return range_hash(src, begin, end, out);
}

/*
 * Length of index's audit path in a tree of size: below the level where index and the last
 * leaf part ways every level has a sibling (the tree is perfect there); above it, only the
 * levels where index is a right child do.  Returns the length or -EINVAL.
 */
int merkle__inclusion_proof_len(uint64_t index, uint64_t size)
{
	uint64_t diverge;
	int inner;

	if (index >= size)
		return -EINVAL;
	diverge = index ^ (size - 1);
	inner = diverge ? 64 - __builtin_clzll(diverge) : 0;
	return inner + __builtin_popcountll(inner < 64 ? index >> inner : 0);
}

/*
 * Inclusion proof of index in the tree of size, lowest sibling first.  Returns 0, -EINVAL,
 * -EIO or src's error; proof and *n are the caller's, *n is set only on success.
 */
int merkle__inclusion_proof(const struct merkle_source *src, uint64_t index, uint64_t size,
			    uint8_t proof[][MERKLE_HASH_LEN], int *n)
{
	uint8_t path[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
	uint64_t lo = 0, hi = size, k;
	int len = 0, err;

	if (!src || !src->leaf || index >= size)
		return -EINVAL;
	/* Top down: PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) or PATH(m - k, D[k:n]) :
	 * MTH(D[0:k]). */
	while (hi - lo > 1) {
		k = split(hi - lo);
		if (index < lo + k) {
			err = range_hash(src, lo + k, hi, path[len]);
			hi = lo + k;
		} else {
			err = range_hash(src, lo, lo + k, path[len]);
			lo += k;
		}
		if (err)
			return err;
		len++;
	}
	for (int i = 0; i < len; i++)
		memcpy(proof[i], path[len - 1 - i], MERKLE_HASH_LEN);
	*n = len;
	return 0;
}

/*
 * RFC 9162 §2.1.3.2.  fn is the node the running hash stands for and sn the last node of its
 * level.  A last node with an even index has no sibling and moves up unchanged, so the levels
 * until it becomes a right child are skipped.  The length is checked first, so a padded or
 * truncated proof is refused without hashing.
 */
int merkle__verify_inclusion(const uint8_t leaf[MERKLE_HASH_LEN], uint64_t index, uint64_t size,
			     const uint8_t proof[][MERKLE_HASH_LEN], int n,
			     const uint8_t root[MERKLE_HASH_LEN])
{
	uint8_t r[MERKLE_HASH_LEN];
	uint64_t fn = index, sn;
	int err;

	if (index >= size || n != merkle__inclusion_proof_len(index, size))
		return -EBADMSG;
	sn = size - 1;
	memcpy(r, leaf, MERKLE_HASH_LEN);
	for (int i = 0; i < n; i++) {
		if (sn == 0)
			return -EBADMSG;
		if ((fn & 1) || fn == sn) {
			err = merkle__hash_node(proof[i], r, r);
			while (!(fn & 1) && fn) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			err = merkle__hash_node(r, proof[i], r);
		}
		if (err)
			return err;
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || memcmp(r, root, MERKLE_HASH_LEN))
		return -EBADMSG;
	return 0;
}

/*
 * Length of the consistency proof: one sibling per level walked down from the root until the
 * old tree is a whole subtree, plus that subtree's hash unless it lies on the left edge (the
 * verifier then has it as old_root).  Returns the length, -EINVAL or -EOVERFLOW.
 */
int merkle__consistency_proof_len(uint64_t old_size, uint64_t new_size)
{
	uint64_t m = old_size, n = new_size, k;
	bool left_edge = true;
	int len = 0;

	if (old_size == 0 || old_size > new_size)
		return -EINVAL;
	while (m != n) {
		k = split(n);
		if (m <= k) {
			n = k;
		} else {
			m -= k;
			n -= k;
			left_edge = false;
		}
		len++;
	}
	len += !left_edge;
	return len > MERKLE_MAX_PROOF ? -EOVERFLOW : len;
}

/*
 * Consistency proof between old_size and new_size, SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1
 * unrolled: siblings are found top down and emitted bottom up after the old subtree's own hash
 * (absent when b is still true).  Returns 0, -EINVAL, -EOVERFLOW, -EIO or src's error.
 */
int merkle__consistency_proof(const struct merkle_source *src, uint64_t old_size, uint64_t new_size,
			      uint8_t proof[][MERKLE_HASH_LEN], int *n)
{
	uint8_t sib[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
	uint64_t lo = 0, hi = new_size, m = old_size, k;
	int len, nsib = 0, out = 0, err;

	if (!src || !src->leaf)
		return -EINVAL;
	len = merkle__consistency_proof_len(old_size, new_size);
	if (len < 0)
		return len;
	while (m != hi - lo) {
		k = split(hi - lo);
		if (m <= k) {
			err = range_hash(src, lo + k, hi, sib[nsib]);
			hi = lo + k;
		} else {
			err = range_hash(src, lo, lo + k, sib[nsib]);
			lo += k;
			m -= k;
		}
		if (err)
			return err;
		nsib++;
	}
	/* lo > 0 exactly when the walk turned right at least once, i.e. b became false. */
	if (lo) {
		err = range_hash(src, lo, hi, proof[out++]);
		if (err)
			return err;
	}
	while (nsib)
		memcpy(proof[out++], sib[--nsib], MERKLE_HASH_LEN);
	*n = out;
	return 0;
}

/*
 * RFC 9162 §2.1.4.2.  fr rebuilds the old root from the hashes to the left of the old tree's
 * edge, sr the new root from all of them.  When old_size is a power of two the old tree is a
 * left-edge subtree, its hash is not in the proof, and old_root seeds both.
 */
int merkle__verify_consistency(uint64_t old_size, uint64_t new_size,
			       const uint8_t old_root[MERKLE_HASH_LEN],
			       const uint8_t new_root[MERKLE_HASH_LEN],
			       const uint8_t proof[][MERKLE_HASH_LEN], int n)
{
	uint8_t fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
	uint64_t fn, sn;
	int i = 0, err;

	if (old_size == 0 || old_size > new_size)
		return -EBADMSG;
	if (old_size == new_size)
		return n == 0 && !memcmp(old_root, new_root, MERKLE_HASH_LEN) ? 0 : -EBADMSG;
	if (n < 1 || n != merkle__consistency_proof_len(old_size, new_size))
		return -EBADMSG;
	if (is_pow2(old_size)) {
		memcpy(fr, old_root, MERKLE_HASH_LEN);
	} else {
		memcpy(fr, proof[0], MERKLE_HASH_LEN);
		i = 1;
	}
	memcpy(sr, fr, MERKLE_HASH_LEN);
	fn = old_size - 1;
	sn = new_size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < n; i++) {
		if (sn == 0)
			return -EBADMSG;
		if ((fn & 1) || fn == sn) {
			err = merkle__hash_node(proof[i], fr, fr);
			if (!err)
				err = merkle__hash_node(proof[i], sr, sr);
			while (!(fn & 1) && fn) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			err = merkle__hash_node(sr, proof[i], sr);
		}
		if (err)
			return err;
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || memcmp(fr, old_root, MERKLE_HASH_LEN) ||
	    memcmp(sr, new_root, MERKLE_HASH_LEN))
		return -EBADMSG;
	return 0;
}
