/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ledger's Merkle tree, exactly RFC 6962 / RFC 9162 §2.1 over SHA-256: leaf and node hashes,
 * the compact range the collector and the verifier keep while appending, and inclusion and
 * consistency proofs with their verification.  Nothing here allocates; the hashing context is
 * per thread, so every function may be called from any thread.
 */
#ifndef CUSTOS_MERKLE_H
#define CUSTOS_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN 32
/*
 * Room a caller gives for a proof.  An inclusion proof has at most 64 hashes.  A consistency
 * proof can need 65 only when new_size > 2^63, a size this module refuses (-EOVERFLOW) rather
 * than make every buffer one hash larger.
 */
#define MERKLE_MAX_PROOF 64

/* leaf = SHA-256(0x00 || data).  Returns 0 or -EIO. */
int merkle__hash_leaf(const void *data, size_t len, uint8_t out[MERKLE_HASH_LEN]);

/* node = SHA-256(0x01 || left || right); out may alias left or right.  Returns 0 or -EIO. */
int merkle__hash_node(const uint8_t left[MERKLE_HASH_LEN], const uint8_t right[MERKLE_HASH_LEN],
		      uint8_t out[MERKLE_HASH_LEN]);

/*
 * Compact range over leaves [0, size): hashes[0..n) are the perfect subtrees given by the set
 * bits of size, largest first, so n == popcount(size) <= 64.  A plain value: the caller owns it
 * and may copy or store it as it likes.
 */
struct merkle_range {
	uint64_t size;
	int n;
	uint8_t hashes[64][MERKLE_HASH_LEN];
};

/* Make r the empty range. */
void merkle__init(struct merkle_range *r);

/*
 * Append one leaf hash (not the record: see merkle__hash_leaf), merging at the trailing set
 * bits of size, which costs one node hash on average.  Returns 0; -EINVAL if r is
 * inconsistent (n != popcount(size)); -EOVERFLOW at size 2^64 - 1; -EIO.  On error r is
 * unchanged.
 */
int merkle__append(struct merkle_range *r, const uint8_t leaf[MERKLE_HASH_LEN]);

/*
 * The tree head MTH of r's leaves into out: SHA-256("") for size 0.  Returns 0, -EINVAL if r
 * is inconsistent, or -EIO.
 */
int merkle__root(const struct merkle_range *r, uint8_t out[MERKLE_HASH_LEN]);

/*
 * Where proofs get hashes from.  leaf(i) gives leaf hash i.  node(level, index), which may be
 * NULL, gives the hash of the perfect subtree of 2^level leaves starting at leaf
 * index << level; it is asked only for level >= 1 and only for subtrees lying wholly inside
 * the range being hashed, and returns -ENOENT to let merkle.c compute it from smaller ones.
 * Both return 0 or -errno, which is passed on to the caller unchanged.  Without node() a hash
 * over N leaves reads all N of them.
 */
struct merkle_source {
	void *ctx;
	int (*leaf)(void *ctx, uint64_t index, uint8_t out[MERKLE_HASH_LEN]);
	int (*node)(void *ctx, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_LEN]);
};

/*
 * MTH of leaves [begin, end) from src into out (SHA-256("") when begin == end).  Returns 0,
 * -EINVAL (begin > end or no src->leaf), -EIO, or an error of src.
 */
int merkle__subtree(const struct merkle_source *src, uint64_t begin, uint64_t end,
		    uint8_t out[MERKLE_HASH_LEN]);

/*
 * Number of hashes in the inclusion proof of index in a tree of size, or -EINVAL if
 * index >= size.
 */
int merkle__inclusion_proof_len(uint64_t index, uint64_t size);

/*
 * The RFC 9162 §2.1.3.1 inclusion proof (audit path) of leaf index in the tree of size leaves,
 * lowest sibling first, into proof (room for MERKLE_MAX_PROOF hashes) and its length into *n.
 * Returns 0, -EINVAL (index >= size or no src->leaf), -EIO, or an error of src; on error *n
 * is untouched and proof undefined.
 */
int merkle__inclusion_proof(const struct merkle_source *src, uint64_t index, uint64_t size,
			    uint8_t proof[][MERKLE_HASH_LEN], int *n);

/*
 * RFC 9162 §2.1.3.2: 0 if proof (n hashes) proves that leaf is leaf hash index of the tree
 * (size, root).  -EBADMSG otherwise, including index >= size and a proof of the wrong length;
 * -EIO if hashing failed.
 */
int merkle__verify_inclusion(const uint8_t leaf[MERKLE_HASH_LEN], uint64_t index, uint64_t size,
			     const uint8_t proof[][MERKLE_HASH_LEN], int n,
			     const uint8_t root[MERKLE_HASH_LEN]);

/*
 * Number of hashes in the consistency proof from old_size to new_size; -EINVAL unless
 * 0 < old_size <= new_size; -EOVERFLOW if it exceeds MERKLE_MAX_PROOF (new_size > 2^63 only).
 */
int merkle__consistency_proof_len(uint64_t old_size, uint64_t new_size);

/*
 * The RFC 9162 §2.1.4.1 consistency proof between the trees of old_size and new_size leaves
 * (0 < old_size <= new_size; equal sizes give an empty proof) into proof (room for
 * MERKLE_MAX_PROOF hashes) and its length into *n.  Returns 0, -EINVAL, -EOVERFLOW (see
 * merkle__consistency_proof_len), -EIO, or an error of src; on error *n is untouched.
 */
int merkle__consistency_proof(const struct merkle_source *src, uint64_t old_size, uint64_t new_size,
			      uint8_t proof[][MERKLE_HASH_LEN], int *n);

/*
 * RFC 9162 §2.1.4.2: 0 if proof (n hashes) proves that the tree (new_size, new_root) extends
 * the tree (old_size, old_root).  Equal sizes need an empty proof and equal roots.  -EBADMSG
 * otherwise, including old_size 0 (meaningless), old_size > new_size and a proof of the wrong
 * length; -EIO if hashing failed.
 */
int merkle__verify_consistency(uint64_t old_size, uint64_t new_size,
			       const uint8_t old_root[MERKLE_HASH_LEN],
			       const uint8_t new_root[MERKLE_HASH_LEN],
			       const uint8_t proof[][MERKLE_HASH_LEN], int n);

#endif /* CUSTOS_MERKLE_H */
