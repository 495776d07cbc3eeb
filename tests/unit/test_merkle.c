// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of collector/merkle.c.  Three sources of truth: the RFC 6962 8-leaf test tree as
 * published by transparency-dev/merkle (testonly/constants.go, proof/verify_test.go); a slow
 * reference written straight from the RFC's recursive definitions of MTH, PATH and SUBPROOF,
 * hashing with one-shot EVP_Digest so it shares nothing with merkle.c; and tampering, which
 * must always be refused.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/evp.h>

#include "merkle.h"
#include "test.h"

#define H	   MERKLE_HASH_LEN
#define MAX_LEAVES 320
#define MAX_ROOTS  80
#define MAX_TRACE  (MERKLE_MAX_PROOF + 2)

/* The RFC 6962 reference leaves, their level-0..3 node hashes and the roots of sizes 0..8. */
static const char *const rfc_leaves[8] = {
	"",
	"00",
	"10",
	"2021",
	"3031",
	"40414243",
	"5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};
static const char *const rfc_nodes[4][8] = {
	{
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
		"07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		"4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
		"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
		"46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
	},
	{
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	},
	{
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
	},
	{
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	},
};
static const char *const rfc_roots[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* Published proofs for that tree; index is 0-based here (the Go vectors count from 1). */
struct known_proof {
	uint64_t a, b; /* inclusion: index, size; consistency: old_size, new_size */
	int n;
	const char *hashes[3];
};

static const struct known_proof known_inclusion[] = {
	{ 0, 1, 0, { NULL } },
	{ 0,
	  8,
	  3,
	  { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
	{ 5,
	  8,
	  3,
	  { "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
	{ 2, 3, 1, { "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" } },
	{ 1,
	  5,
	  3,
	  { "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
};

static const struct known_proof known_consistency[] = {
	{ 1, 1, 0, { NULL } },
	{ 1,
	  8,
	  3,
	  { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
	{ 6,
	  8,
	  3,
	  { "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
	{ 2,
	  5,
	  2,
	  { "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
	{ 6,
	  7,
	  3,
	  { "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
};

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = strlen(s) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return n;
}

static bool hash_is(const uint8_t h[H], const char *hex)
{
	uint8_t want[H];

	return unhex(hex, want) == H && !memcmp(h, want, H);
}

/* ---- The reference: RFC 6962 §2.1 read literally, hashing with one-shot EVP_Digest. ---- */

static void ref_sha256(const uint8_t *p, size_t len, uint8_t out[H])
{
	if (!EVP_Digest(p, len, out, NULL, EVP_sha256(), NULL))
		abort();
}

static void ref_leaf(const uint8_t *data, size_t len, uint8_t out[H])
{
	uint8_t buf[1 + 64];

	buf[0] = 0;
	memcpy(buf + 1, data, len);
	ref_sha256(buf, 1 + len, out);
}

static void ref_node(const uint8_t l[H], const uint8_t r[H], uint8_t out[H])
{
	uint8_t buf[1 + 2 * H];

	buf[0] = 1;
	memcpy(buf + 1, l, H);
	memcpy(buf + 1 + H, r, H);
	ref_sha256(buf, sizeof(buf), out);
}

/* "The largest power of two smaller than n", found by counting up. */
static uint64_t ref_k(uint64_t n)
{
	uint64_t k = 1;

	while (k * 2 < n)
		k *= 2;
	return k;
}

static uint8_t g_leaves[MAX_LEAVES][H];	  /* leaf hashes of the test log */
static uint8_t g_roots[MAX_ROOTS + 1][H]; /* reference MTH of its first n leaves */

/* MTH(D[lo:hi]) of the test log. */
static void ref_mth(uint64_t lo, uint64_t hi, uint8_t out[H])
{
	uint8_t l[H], r[H];
	uint64_t k;

	if (hi == lo) {
		ref_sha256(NULL, 0, out);
		return;
	}
	if (hi - lo == 1) {
		memcpy(out, g_leaves[lo], H);
		return;
	}
	k = ref_k(hi - lo);
	ref_mth(lo, lo + k, l);
	ref_mth(lo + k, hi, r);
	ref_node(l, r, out);
}

/*
 * PATH(m, D[lo:hi]) appended to out (when not NULL), and its shape to trace: 'R' where the
 * sibling is on the right, 'L' on the left, lowest first.  Two (index, size) pairs with the same
 * trace are verified by the very same computation, so they accept the same proofs.
 */
static void ref_path(uint64_t m, uint64_t lo, uint64_t hi, uint8_t (*out)[H], int *n, char *trace)
{
	uint64_t k;

	if (hi - lo <= 1)
		return;
	k = ref_k(hi - lo);
	if (m < k) {
		ref_path(m, lo, lo + k, out, n, trace);
		if (out)
			ref_mth(lo + k, hi, out[*n]);
		trace[(*n)++] = 'R';
	} else {
		ref_path(m - k, lo + k, hi, out, n, trace);
		if (out)
			ref_mth(lo, lo + k, out[*n]);
		trace[(*n)++] = 'L';
	}
	trace[*n] = '\0';
}

/* SUBPROOF(m, D[lo:hi], b) likewise; the trace starts with 'T' (terminal hash) or 'S' (seed). */
static void ref_subproof(uint64_t m, uint64_t lo, uint64_t hi, bool b, uint8_t (*out)[H], int *n,
			 char *trace, int *t)
{
	uint64_t k;

	if (m == hi - lo) {
		if (!b && out)
			ref_mth(lo, hi, out[*n]);
		*n += !b;
		trace[(*t)++] = b ? 'S' : 'T';
		trace[*t] = '\0';
		return;
	}
	k = ref_k(hi - lo);
	if (m <= k) {
		ref_subproof(m, lo, lo + k, b, out, n, trace, t);
		if (out)
			ref_mth(lo + k, hi, out[*n]);
		trace[(*t)++] = 'R';
	} else {
		ref_subproof(m - k, lo + k, hi, false, out, n, trace, t);
		if (out)
			ref_mth(lo, lo + k, out[*n]);
		trace[(*t)++] = 'L';
	}
	(*n)++;
	trace[*t] = '\0';
}

/* PROOF(m, D[n]); equal sizes are their own shape "=" (empty proof, equal roots). */
static void ref_consistency(uint64_t m, uint64_t n, uint8_t (*out)[H], int *len, char *trace)
{
	int t = 0;

	*len = 0;
	if (m == n) {
		strcpy(trace, "=");
		return;
	}
	ref_subproof(m, 0, n, true, out, len, trace, &t);
}

static void ref_inclusion(uint64_t index, uint64_t size, uint8_t (*out)[H], int *len, char *trace)
{
	*len = 0;
	trace[0] = '\0';
	ref_path(index, 0, size, out, len, trace);
}

/* ---- The test log and the sources merkle.c reads it through. ---- */

static void setup(void)
{
	static bool done;
	uint8_t data[16];

	if (done)
		return;
	for (int i = 0; i < MAX_LEAVES; i++) {
		size_t len;

		if (i < 8) {
			len = unhex(rfc_leaves[i], data);
		} else {
			len = 8;
			for (int b = 0; b < 8; b++)
				data[b] = (uint8_t)(0x5a ^ (i >> (8 * (b % 2))) ^ (b * 37));
		}
		ref_leaf(data, len, g_leaves[i]);
	}
	for (int s = 0; s <= MAX_ROOTS; s++)
		ref_mth(0, s, g_roots[s]);
	done = true;
}

struct test_src {
	uint64_t size;	 /* leaves [0, size) exist */
	unsigned levels; /* bit L set: node() serves level L; others get -ENOENT */
	int leaf_err;	 /* returned by leaf() instead of a hash when non-zero */
	int node_err;	 /* likewise for node() */
	unsigned long leaf_reads, node_reads; /* successful calls */
	bool outside;			      /* merkle.c asked for something outside [0, size) */
};

static int src_leaf(void *ctx, uint64_t index, uint8_t out[H])
{
	struct test_src *t = ctx;

	if (index >= t->size) {
		t->outside = true;
		return -ERANGE;
	}
	if (t->leaf_err)
		return t->leaf_err;
	t->leaf_reads++;
	memcpy(out, g_leaves[index], H);
	return 0;
}

static int src_node(void *ctx, unsigned level, uint64_t index, uint8_t out[H])
{
	struct test_src *t = ctx;

	if (level == 0 || level >= 64 || index >= (t->size >> level)) {
		t->outside = true;
		return -ERANGE;
	}
	if (t->node_err)
		return t->node_err;
	if (!(t->levels & (1u << level)))
		return -ENOENT;
	t->node_reads++;
	ref_mth(index << level, (index + 1) << level, out);
	return 0;
}

static struct merkle_source make_src(struct test_src *t, uint64_t size, bool with_node)
{
	struct merkle_source src = { t, src_leaf, with_node ? src_node : NULL };

	memset(t, 0, sizeof(*t));
	t->size = size;
	t->levels = ~0u;
	return src;
}

/* A log of 2^64 - 1 identical leaves: level L of it is uniform[L], so any size is cheap. */
static uint8_t uniform[64][H];

static void setup_uniform(void)
{
	ref_leaf((const uint8_t *)"x", 1, uniform[0]);
	for (int l = 1; l < 64; l++)
		ref_node(uniform[l - 1], uniform[l - 1], uniform[l]);
}

static int uniform_leaf(void *ctx, uint64_t index, uint8_t out[H])
{
	memcpy(out, uniform[0], H);
	return 0;
}

static int uniform_node(void *ctx, unsigned level, uint64_t index, uint8_t out[H])
{
	if (level == 0 || level >= 64 || index >= (UINT64_MAX >> level))
		return -ERANGE;
	memcpy(out, uniform[level], H);
	return 0;
}

static const struct merkle_source uniform_src = { NULL, uniform_leaf, uniform_node };

static int ceil_log2(uint64_t n)
{
	return n <= 1 ? 0 : 64 - __builtin_clzll(n - 1);
}

/* ---- Tests. ---- */

TEST(hashes_match_rfc6962_vectors)
{
	uint8_t data[16], level[8][H], h[H];
	size_t len;

	setup();
	for (int i = 0; i < 8; i++) {
		len = unhex(rfc_leaves[i], data);
		ASSERT_EQ(merkle__hash_leaf(data, len, level[i]), 0);
		ASSERT_TRUE(hash_is(level[i], rfc_nodes[0][i]));
	}
	for (int l = 1, width = 4; l < 4; l++, width /= 2) {
		for (int i = 0; i < width; i++) {
			ASSERT_EQ(merkle__hash_node(level[2 * i], level[2 * i + 1], level[i]), 0);
			ASSERT_TRUE(hash_is(level[i], rfc_nodes[l][i]));
		}
	}
	/* The output may alias either input. */
	unhex(rfc_nodes[0][0], h);
	ASSERT_EQ(merkle__hash_node(h, g_leaves[1], h), 0);
	ASSERT_TRUE(hash_is(h, rfc_nodes[1][0]));
	unhex(rfc_nodes[0][1], h);
	ASSERT_EQ(merkle__hash_node(g_leaves[0], h, h), 0);
	ASSERT_TRUE(hash_is(h, rfc_nodes[1][0]));
	return true;
}

TEST(leaf_hash_of_long_record)
{
	static uint8_t data[5000];
	uint8_t *buf = malloc(sizeof(data) + 1), h[H], want[H];

	setup();
	ASSERT_TRUE(buf);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	buf[0] = 0;
	memcpy(buf + 1, data, sizeof(data));
	/* Both sides of the inline-buffer limit and well past it. */
	for (size_t len = 500; len <= sizeof(data); len += len < 520 ? 1 : 1000) {
		ref_sha256(buf, len + 1, want);
		if (merkle__hash_leaf(data, len, h) || memcmp(h, want, H)) {
			free(buf);
			ASSERT_TRUE(!"leaf hash of a long record");
		}
	}
	free(buf);
	return true;
}

TEST(roots_of_rfc6962_tree)
{
	struct merkle_range r;
	struct test_src t;
	struct merkle_source src = make_src(&t, 8, false);
	uint8_t h[H];

	setup();
	merkle__init(&r);
	ASSERT_EQ(merkle__root(&r, h), 0);
	ASSERT_TRUE(hash_is(h, rfc_roots[0]));
	ASSERT_EQ(merkle__subtree(&src, 0, 0, h), 0);
	ASSERT_TRUE(hash_is(h, rfc_roots[0]));
	for (int s = 1; s <= 8; s++) {
		ASSERT_EQ(merkle__append(&r, g_leaves[s - 1]), 0);
		ASSERT_EQ(r.size, s);
		ASSERT_EQ(r.n, __builtin_popcount(s));
		ASSERT_EQ(merkle__root(&r, h), 0);
		ASSERT_TRUE(hash_is(h, rfc_roots[s]));
		ASSERT_EQ(merkle__subtree(&src, 0, s, h), 0);
		ASSERT_TRUE(hash_is(h, rfc_roots[s]));
	}
	/* Base64 "XcnaeacG..." is 5dc9da79a706...: the ledger's size-8 vector. */
	ASSERT_TRUE(hash_is(h, rfc_nodes[3][0]));
	/* Size 7 keeps the subtrees [0,4), [4,6), [6,7), as transparency-dev's CompactTrees. */
	merkle__init(&r);
	for (int s = 0; s < 7; s++)
		ASSERT_EQ(merkle__append(&r, g_leaves[s]), 0);
	ASSERT_EQ(r.n, 3);
	ASSERT_TRUE(hash_is(r.hashes[0], rfc_nodes[2][0]));
	ASSERT_TRUE(hash_is(r.hashes[1], rfc_nodes[1][2]));
	ASSERT_TRUE(hash_is(r.hashes[2], rfc_nodes[0][6]));
	return true;
}

TEST(known_inclusion_proofs)
{
	static const uint8_t some[H] = { 0xab, 0xac, 0xab, 0xa0, [31] = 0x56 };
	uint8_t proof[MERKLE_MAX_PROOF][H], bad[MERKLE_MAX_PROOF + 1][H], empty[H];
	struct test_src t;
	int n;

	setup();
	ref_sha256(NULL, 0, empty);
	for (size_t v = 0; v < sizeof(known_inclusion) / sizeof(known_inclusion[0]); v++) {
		const struct known_proof *kp = &known_inclusion[v];
		struct merkle_source src = make_src(&t, kp->b, false);
		uint64_t i = kp->a, s = kp->b;
		const uint8_t *leaf = g_leaves[i], *root = g_roots[s];

		ASSERT_EQ(merkle__inclusion_proof(&src, i, s, proof, &n), 0);
		ASSERT_EQ(n, kp->n);
		ASSERT_EQ(merkle__inclusion_proof_len(i, s), kp->n);
		for (int j = 0; j < n; j++)
			ASSERT_TRUE(hash_is(proof[j], kp->hashes[j]));
		ASSERT_EQ(merkle__verify_inclusion(leaf, i, s, proof, n, root), 0);

		/* The probes of transparency-dev's corruptInclusionProof. */
		ASSERT_EQ(merkle__verify_inclusion(leaf, i - 1, s, proof, n, root), -EBADMSG);
		ASSERT_EQ(merkle__verify_inclusion(leaf, i + 1, s, proof, n, root), -EBADMSG);
		ASSERT_EQ(merkle__verify_inclusion(leaf, i ^ 2, s, proof, n, root), -EBADMSG);
		ASSERT_EQ(merkle__verify_inclusion(leaf, i, s * 2, proof, n, root), -EBADMSG);
		ASSERT_EQ(merkle__verify_inclusion(leaf, i, s / 2, proof, n, root), -EBADMSG);
		ASSERT_EQ(merkle__verify_inclusion(some, i, s, proof, n, root), -EBADMSG);
		ASSERT_EQ(merkle__verify_inclusion(leaf, i, s, proof, n, empty), -EBADMSG);
		ASSERT_EQ(merkle__verify_inclusion(leaf, i, s, proof, n, some), -EBADMSG);
		memcpy(bad, proof, sizeof(proof));
		memcpy(bad[n], root, H);
		ASSERT_EQ(merkle__verify_inclusion(leaf, i, s, bad, n + 1, root), -EBADMSG);
		memcpy(bad[0], root, H);
		memcpy(bad[1], proof, n * H);
		ASSERT_EQ(merkle__verify_inclusion(leaf, i, s, bad, n + 1, root), -EBADMSG);
		for (int j = 0; j < n; j++) {
			memcpy(bad, proof, n * H);
			bad[j][0] ^= 8;
			ASSERT_EQ(merkle__verify_inclusion(leaf, i, s, bad, n, root), -EBADMSG);
		}
		if (n > 0)
			ASSERT_EQ(merkle__verify_inclusion(leaf, i, s, proof, n - 1, root),
				  -EBADMSG);
		if (n > 1) {
			memcpy(bad[0], proof[0], H);
			memcpy(bad[1], some, H);
			memcpy(bad[2], proof[1], (n - 1) * H);
			ASSERT_EQ(merkle__verify_inclusion(leaf, i, s, bad, n + 1, root), -EBADMSG);
		}
	}
	/* TestVerifyInclusion's degenerate probes. */
	ASSERT_EQ(merkle__verify_inclusion(some, 0, 0, proof, 0, empty), -EBADMSG);
	ASSERT_EQ(merkle__verify_inclusion(some, 1, 0, proof, 0, some), -EBADMSG);
	ASSERT_EQ(merkle__verify_inclusion(some, 2, 1, proof, 0, some), -EBADMSG);
	ASSERT_EQ(merkle__verify_inclusion(some, 0, 1, proof, 0, empty), -EBADMSG);
	ASSERT_EQ(merkle__verify_inclusion(some, 0, 1, proof, 0, some), 0);
	return true;
}

TEST(known_consistency_proofs)
{
	static const uint8_t some[H] = { 0xab, 0xac, 0xab, 0xa0, [31] = 0x56 };
	uint8_t proof[MERKLE_MAX_PROOF][H], bad[MERKLE_MAX_PROOF + 1][H];
	struct test_src t;
	int n;

	setup();
	for (size_t v = 0; v < sizeof(known_consistency) / sizeof(known_consistency[0]); v++) {
		const struct known_proof *kp = &known_consistency[v];
		struct merkle_source src = make_src(&t, kp->b, false);
		uint64_t m = kp->a, s = kp->b;
		const uint8_t *r1 = g_roots[m], *r2 = g_roots[s];

		ASSERT_EQ(merkle__consistency_proof(&src, m, s, proof, &n), 0);
		ASSERT_EQ(n, kp->n);
		ASSERT_EQ(merkle__consistency_proof_len(m, s), kp->n);
		for (int j = 0; j < n; j++)
			ASSERT_TRUE(hash_is(proof[j], kp->hashes[j]));
		ASSERT_EQ(merkle__verify_consistency(m, s, r1, r2, proof, n), 0);
		if (n == 0)
			continue;

		/* The probes of transparency-dev's corruptConsistencyProof. */
		ASSERT_EQ(merkle__verify_consistency(m - 1, s, r1, r2, proof, n), -EBADMSG);
		ASSERT_EQ(merkle__verify_consistency(m + 1, s, r1, r2, proof, n), -EBADMSG);
		ASSERT_EQ(merkle__verify_consistency(m ^ 2, s, r1, r2, proof, n), -EBADMSG);
		ASSERT_EQ(merkle__verify_consistency(m, s * 2, r1, r2, proof, n), -EBADMSG);
		ASSERT_EQ(merkle__verify_consistency(m, s / 2, r1, r2, proof, n), -EBADMSG);
		ASSERT_EQ(merkle__verify_consistency(m, s, some, r2, proof, n), -EBADMSG);
		ASSERT_EQ(merkle__verify_consistency(m, s, r1, some, proof, n), -EBADMSG);
		ASSERT_EQ(merkle__verify_consistency(m, s, r2, r1, proof, n), -EBADMSG);
		ASSERT_EQ(merkle__verify_consistency(m, s, r1, r2, proof, 0), -EBADMSG);
		ASSERT_EQ(merkle__verify_consistency(m, s, r1, r2, proof, n - 1), -EBADMSG);
		const uint8_t *extra[] = { r1, r2, proof[0] };
		for (int e = 0; e < 3; e++) {
			memcpy(bad, proof, n * H);
			memcpy(bad[n], extra[e], H);
			ASSERT_EQ(merkle__verify_consistency(m, s, r1, r2, bad, n + 1), -EBADMSG);
			memcpy(bad[0], extra[e], H);
			memcpy(bad[1], proof, n * H);
			ASSERT_EQ(merkle__verify_consistency(m, s, r1, r2, bad, n + 1), -EBADMSG);
		}
		for (int j = 0; j < n; j++) {
			memcpy(bad, proof, n * H);
			bad[j][0] ^= 16;
			ASSERT_EQ(merkle__verify_consistency(m, s, r1, r2, bad, n), -EBADMSG);
		}
	}
	/* TestVerifyConsistency's edge cases, with size 0 refused as the ledger requires. */
	ASSERT_EQ(merkle__verify_consistency(1, 1, g_roots[1], g_roots[2], proof, 0), -EBADMSG);
	ASSERT_EQ(merkle__verify_consistency(1, 1, some, some, proof, 0), 0);
	ASSERT_EQ(merkle__verify_consistency(1, 1, some, some, proof, 1), -EBADMSG);
	ASSERT_EQ(merkle__verify_consistency(1, 0, some, some, proof, 0), -EBADMSG);
	ASSERT_EQ(merkle__verify_consistency(2, 1, g_roots[2], g_roots[1], proof, 0), -EBADMSG);
	ASSERT_EQ(merkle__verify_consistency(1, 2, g_roots[1], g_roots[2], proof, 0), -EBADMSG);
	ASSERT_EQ(merkle__verify_consistency(0, 0, g_roots[0], g_roots[0], proof, 0), -EBADMSG);
	ASSERT_EQ(merkle__verify_consistency(0, 1, g_roots[0], g_roots[1], proof, 0), -EBADMSG);
	ASSERT_EQ(merkle__verify_consistency(0, 1, g_roots[0], g_roots[1], proof, 1), -EBADMSG);
	return true;
}

TEST(compact_range_equals_subtree_0_to_300)
{
	struct merkle_range r;
	struct test_src t, tn;
	struct merkle_source src = make_src(&t, 300, false);
	struct merkle_source srcn = make_src(&tn, 300, true);
	uint8_t a[H], b[H], c[H];

	setup();
	merkle__init(&r);
	for (uint64_t s = 0; s <= 300; s++) {
		if (s > 0)
			ASSERT_EQ(merkle__append(&r, g_leaves[s - 1]), 0);
		ASSERT_EQ(r.size, s);
		ASSERT_EQ(merkle__root(&r, a), 0);
		ASSERT_EQ(merkle__subtree(&src, 0, s, b), 0);
		ASSERT_EQ(merkle__subtree(&srcn, 0, s, c), 0);
		ASSERT_TRUE(!memcmp(a, b, H));
		ASSERT_TRUE(!memcmp(a, c, H));
		if (s <= MAX_ROOTS)
			ASSERT_TRUE(!memcmp(a, g_roots[s], H));
	}
	/* Ranges not starting at 0 are MTH of that slice; check some unaligned ones. */
	for (uint64_t lo = 0; lo < 40; lo += 3) {
		for (uint64_t hi = lo; hi < 80; hi += 5) {
			ref_mth(lo, hi, a);
			ASSERT_EQ(merkle__subtree(&src, lo, hi, b), 0);
			ASSERT_EQ(merkle__subtree(&srcn, lo, hi, c), 0);
			ASSERT_TRUE(!memcmp(a, b, H));
			ASSERT_TRUE(!memcmp(a, c, H));
		}
	}
	ASSERT_TRUE(!t.outside && !tn.outside);
	return true;
}

TEST(proofs_equal_reference_1_to_64)
{
	uint8_t got[MERKLE_MAX_PROOF][H], want[MERKLE_MAX_PROOF][H];
	char trace[MAX_TRACE];
	struct test_src t;
	int n, wn;

	setup();
	for (uint64_t s = 1; s <= 64; s++) {
		struct merkle_source src = make_src(&t, s, false);

		for (uint64_t i = 0; i < s; i++) {
			ref_inclusion(i, s, want, &wn, trace);
			ASSERT_EQ(merkle__inclusion_proof(&src, i, s, got, &n), 0);
			ASSERT_EQ(n, wn);
			ASSERT_EQ(merkle__inclusion_proof_len(i, s), wn);
			ASSERT_TRUE(!memcmp(got, want, (size_t)n * H));
		}
		for (uint64_t m = 1; m <= s; m++) {
			ref_consistency(m, s, want, &wn, trace);
			ASSERT_EQ(merkle__consistency_proof(&src, m, s, got, &n), 0);
			ASSERT_EQ(n, wn);
			ASSERT_EQ(merkle__consistency_proof_len(m, s), wn);
			ASSERT_TRUE(!memcmp(got, want, (size_t)n * H));
		}
		ASSERT_TRUE(!t.outside);
	}
	return true;
}

/* Flip bits of every proof hash: all 256 in small trees, one per byte beyond. */
static bool flips_refused(uint8_t (*proof)[H], int n, uint64_t size, bool inclusion, uint64_t a,
			  const uint8_t *x, const uint8_t *root)
{
	for (int j = 0; j < n; j++) {
		for (int bit = 0; bit < 8 * H; bit++) {
			int rc;

			if (size > 16 && bit % 8 != (bit / 8 + j) % 8)
				continue;
			proof[j][bit / 8] ^= 1 << (bit % 8);
			if (inclusion)
				rc = merkle__verify_inclusion(x, a, size, proof, n, root);
			else
				rc = merkle__verify_consistency(a, size, x, root, proof, n);
			proof[j][bit / 8] ^= 1 << (bit % 8);
			if (rc != -EBADMSG) {
				fprintf(stderr,
					"  flip of bit %d of hash %d accepted (%" PRIu64
					", %" PRIu64 ")\n",
					bit, j, a, size);
				return false;
			}
		}
	}
	return true;
}

TEST(inclusion_proofs_verify_and_tampering_fails)
{
	static const uint8_t zero[H];
	uint8_t proof[MERKLE_MAX_PROOF + 1][H], bad[MERKLE_MAX_PROOF + 1][H];
	struct test_src t;
	int n;

	setup();
	for (uint64_t s = 1; s <= 70; s++) {
		struct merkle_source src = make_src(&t, s, true);
		const uint8_t *root = g_roots[s];

		for (uint64_t i = 0; i < s; i++) {
			const uint8_t *leaf = g_leaves[i];

			ASSERT_EQ(merkle__inclusion_proof(&src, i, s, proof, &n), 0);
			ASSERT_EQ(merkle__verify_inclusion(leaf, i, s, proof, n, root), 0);
			ASSERT_TRUE(flips_refused(proof, n, s, true, i, leaf, root));
			if (n > 0) {
				ASSERT_EQ(merkle__verify_inclusion(leaf, i, s, proof, n - 1, root),
					  -EBADMSG);
				ASSERT_EQ(merkle__verify_inclusion(leaf, i, s, proof + 1, n - 1,
								   root),
					  -EBADMSG);
			}
			const uint8_t *extra[] = { zero, root, leaf };
			for (int e = 0; e < 3; e++) {
				memcpy(proof[n], extra[e], H);
				ASSERT_EQ(merkle__verify_inclusion(leaf, i, s, proof, n + 1, root),
					  -EBADMSG);
				memcpy(bad[0], extra[e], H);
				memcpy(bad[1], proof, (size_t)n * H);
				ASSERT_EQ(merkle__verify_inclusion(leaf, i, s, bad, n + 1, root),
					  -EBADMSG);
			}
			if (n > 1) {
				memcpy(bad, proof, (size_t)n * H);
				memcpy(bad[0], proof[1], H);
				memcpy(bad[1], proof[0], H);
				ASSERT_EQ(merkle__verify_inclusion(leaf, i, s, bad, n, root),
					  -EBADMSG);
			}
			if (s > 1)
				ASSERT_EQ(merkle__verify_inclusion(g_leaves[(i + 1) % s], i, s,
								   proof, n, root),
					  -EBADMSG);
			ASSERT_EQ(merkle__verify_inclusion(leaf, i, s, proof, n, g_roots[s + 1]),
				  -EBADMSG);
			ASSERT_EQ(merkle__verify_inclusion(leaf, i, s, proof, -1, root), -EBADMSG);
		}
		ASSERT_TRUE(!t.outside);
	}
	return true;
}

TEST(consistency_proofs_verify_and_tampering_fails)
{
	static const uint8_t zero[H];
	uint8_t proof[MERKLE_MAX_PROOF + 1][H], bad[MERKLE_MAX_PROOF + 1][H];
	struct test_src t;
	int n;

	setup();
	for (uint64_t s = 1; s <= 70; s++) {
		struct merkle_source src = make_src(&t, s, true);
		const uint8_t *r2 = g_roots[s];

		for (uint64_t m = 1; m <= s; m++) {
			const uint8_t *r1 = g_roots[m];

			ASSERT_EQ(merkle__consistency_proof(&src, m, s, proof, &n), 0);
			ASSERT_EQ(merkle__verify_consistency(m, s, r1, r2, proof, n), 0);
			ASSERT_TRUE(flips_refused(proof, n, s, false, m, r1, r2));
			if (m == s) {
				ASSERT_EQ(n, 0);
				memcpy(proof[0], r1, H);
				ASSERT_EQ(merkle__verify_consistency(m, s, r1, r2, proof, 1),
					  -EBADMSG);
				ASSERT_EQ(merkle__verify_consistency(m, s, r1, g_roots[s - 1],
								     proof, 0),
					  -EBADMSG);
				continue;
			}
			ASSERT_EQ(merkle__verify_consistency(m, s, r1, r2, proof, n - 1), -EBADMSG);
			ASSERT_EQ(merkle__verify_consistency(m, s, r1, r2, proof + 1, n - 1),
				  -EBADMSG);
			const uint8_t *extra[] = { zero, r1, r2, proof[0] };
			for (int e = 0; e < 4; e++) {
				memcpy(bad, proof, (size_t)n * H);
				memcpy(bad[n], extra[e], H);
				ASSERT_EQ(merkle__verify_consistency(m, s, r1, r2, bad, n + 1),
					  -EBADMSG);
				memcpy(bad[0], extra[e], H);
				memcpy(bad[1], proof, (size_t)n * H);
				ASSERT_EQ(merkle__verify_consistency(m, s, r1, r2, bad, n + 1),
					  -EBADMSG);
			}
			if (n > 1) {
				memcpy(bad, proof, (size_t)n * H);
				memcpy(bad[0], proof[1], H);
				memcpy(bad[1], proof[0], H);
				ASSERT_EQ(merkle__verify_consistency(m, s, r1, r2, bad, n),
					  -EBADMSG);
			}
			ASSERT_EQ(merkle__verify_consistency(m, s, r2, r1, proof, n), -EBADMSG);
			ASSERT_EQ(merkle__verify_consistency(m, s, g_roots[m - 1], r2, proof, n),
				  -EBADMSG);
			ASSERT_EQ(merkle__verify_consistency(m, s, r1, g_roots[s + 1], proof, n),
				  -EBADMSG);
			ASSERT_EQ(merkle__verify_consistency(0, s, g_roots[0], r2, proof, n),
				  -EBADMSG);
		}
		ASSERT_TRUE(!t.outside);
	}
	return true;
}

/*
 * A proof says nothing about the tree size by itself (that is the checkpoint's job), so a
 * different (index, size) is accepted exactly when the verifier then does the very same
 * computation, i.e. when the reference shapes agree; every other one must fail.  Against the
 * real roots of the claimed size, only the real proof of that claim may pass.
 */
TEST(inclusion_with_wrong_index_or_size)
{
	static char shape[33][33][MAX_TRACE];
	uint8_t proof[MERKLE_MAX_PROOF][H], other[MERKLE_MAX_PROOF][H];
	struct test_src t;
	int n, on, len;

	setup();
	for (uint64_t s = 1; s <= 32; s++)
		for (uint64_t i = 0; i < s; i++)
			ref_inclusion(i, s, NULL, &len, shape[s][i]);
	for (uint64_t s = 1; s <= 24; s++) {
		struct merkle_source src = make_src(&t, MAX_LEAVES, false);

		for (uint64_t i = 0; i < s; i++) {
			ASSERT_EQ(merkle__inclusion_proof(&src, i, s, proof, &n), 0);
			for (uint64_t s2 = 0; s2 <= 32; s2++) {
				for (uint64_t i2 = 0; i2 <= s2 + 1; i2++) {
					bool same = i2 < s2 && !strcmp(shape[s2][i2], shape[s][i]);
					bool real;
					int rc;

					rc = merkle__verify_inclusion(g_leaves[i], i2, s2, proof, n,
								      g_roots[s]);
					ASSERT_EQ(rc, same ? 0 : -EBADMSG);
					if (i2 >= s2)
						continue;
					ASSERT_EQ(merkle__inclusion_proof(&src, i2, s2, other, &on),
						  0);
					real = on == n && !memcmp(other, proof, (size_t)n * H);
					rc = merkle__verify_inclusion(g_leaves[i2], i2, s2, proof,
								      n, g_roots[s2]);
					ASSERT_EQ(rc, real ? 0 : -EBADMSG);
				}
			}
		}
	}
	return true;
}

TEST(consistency_with_wrong_sizes)
{
	static char shape[33][33][MAX_TRACE];
	uint8_t proof[MERKLE_MAX_PROOF][H], other[MERKLE_MAX_PROOF][H];
	struct test_src t;
	struct merkle_source src = make_src(&t, MAX_LEAVES, false);
	int n, on, len;

	setup();
	for (uint64_t s = 1; s <= 32; s++)
		for (uint64_t m = 1; m <= s; m++)
			ref_consistency(m, s, NULL, &len, shape[s][m]);
	for (uint64_t s = 1; s <= 24; s++) {
		for (uint64_t m = 1; m <= s; m++) {
			ASSERT_EQ(merkle__consistency_proof(&src, m, s, proof, &n), 0);
			for (uint64_t s2 = 0; s2 <= 32; s2++) {
				for (uint64_t m2 = 0; m2 <= s2 + 1; m2++) {
					bool valid = m2 >= 1 && m2 <= s2;
					bool same = valid && !strcmp(shape[s2][m2], shape[s][m]);
					bool real;
					int rc;

					/* Equal sizes also need equal roots. */
					if (same && m == s)
						same = !memcmp(g_roots[m], g_roots[s], H);
					rc = merkle__verify_consistency(m2, s2, g_roots[m],
									g_roots[s], proof, n);
					ASSERT_EQ(rc, same ? 0 : -EBADMSG);
					if (!valid)
						continue;
					ASSERT_EQ(
						merkle__consistency_proof(&src, m2, s2, other, &on),
						0);
					real = on == n && !memcmp(other, proof, (size_t)n * H);
					rc = merkle__verify_consistency(m2, s2, g_roots[m2],
									g_roots[s2], proof, n);
					ASSERT_EQ(rc, real ? 0 : -EBADMSG);
				}
			}
		}
	}
	return true;
}

TEST(proof_lengths_within_rfc_bounds)
{
	static const uint64_t big[] = {
		1000,
		1023,
		1024,
		1025,
		1ULL << 32,
		(1ULL << 32) + 1,
		(1ULL << 63) - 1,
		1ULL << 63,
		UINT64_MAX - 1,
		UINT64_MAX,
	};

	setup();
	for (uint64_t s = 1; s <= 300; s++) {
		for (uint64_t i = 0; i < s; i++) {
			int len = merkle__inclusion_proof_len(i, s);

			ASSERT_TRUE(len >= 0 && len <= ceil_log2(s));
			if ((s & (s - 1)) == 0)
				ASSERT_EQ(len, ceil_log2(s));
		}
		for (uint64_t m = 1; m <= s; m++) {
			int len = merkle__consistency_proof_len(m, s);

			ASSERT_TRUE(len >= 0 && len <= ceil_log2(s) + 1);
			ASSERT_TRUE(m == s || len >= 1);
		}
	}
	for (size_t b = 0; b < sizeof(big) / sizeof(big[0]); b++) {
		uint64_t s = big[b];
		const uint64_t idx[] = { 0, 1, s / 3, s / 2, s - 2, s - 1 };

		for (size_t j = 0; j < sizeof(idx) / sizeof(idx[0]); j++) {
			int il = merkle__inclusion_proof_len(idx[j], s);
			int cl = merkle__consistency_proof_len(idx[j] + 1, s);

			ASSERT_TRUE(il >= 0 && il <= ceil_log2(s));
			ASSERT_TRUE((cl >= 0 && cl <= ceil_log2(s) + 1) ||
				    (cl == -EOVERFLOW && s > 1ULL << 63));
		}
	}
	ASSERT_EQ(merkle__inclusion_proof_len(0, (1ULL << 63) + 1), 64);
	ASSERT_EQ(merkle__consistency_proof_len(3, (1ULL << 63) + 1), -EOVERFLOW);
	ASSERT_EQ(merkle__inclusion_proof_len(5, 5), -EINVAL);
	ASSERT_EQ(merkle__consistency_proof_len(0, 5), -EINVAL);
	ASSERT_EQ(merkle__consistency_proof_len(6, 5), -EINVAL);
	return true;
}

TEST(huge_trees_from_stored_nodes)
{
	static const uint64_t sizes[] = {
		(1ULL << 40) + 3, (1ULL << 62) + 12345, 1ULL << 63, (1ULL << 63) + 1, UINT64_MAX,
	};
	uint8_t proof[MERKLE_MAX_PROOF][H], root[H], old[H], h[H];
	struct merkle_range r;
	int n;

	setup();
	setup_uniform();
	for (size_t b = 0; b < sizeof(sizes) / sizeof(sizes[0]); b++) {
		uint64_t s = sizes[b];
		const uint64_t idx[] = { 0, 1, s / 3, s - 2, s - 1 };

		ASSERT_EQ(merkle__subtree(&uniform_src, 0, s, root), 0);
		for (size_t j = 0; j < sizeof(idx) / sizeof(idx[0]); j++) {
			uint64_t i = idx[j];
			int rc;

			ASSERT_EQ(merkle__inclusion_proof(&uniform_src, i, s, proof, &n), 0);
			ASSERT_EQ(n, merkle__inclusion_proof_len(i, s));
			ASSERT_EQ(merkle__verify_inclusion(uniform[0], i, s, proof, n, root), 0);
			proof[n / 2][7] ^= 4;
			ASSERT_EQ(merkle__verify_inclusion(uniform[0], i, s, proof, n, root),
				  n ? -EBADMSG : 0);

			rc = merkle__consistency_proof(&uniform_src, i + 1, s, proof, &n);
			if (merkle__consistency_proof_len(i + 1, s) == -EOVERFLOW) {
				ASSERT_EQ(rc, -EOVERFLOW);
				continue;
			}
			ASSERT_EQ(rc, 0);
			ASSERT_EQ(merkle__subtree(&uniform_src, 0, i + 1, old), 0);
			ASSERT_EQ(merkle__verify_consistency(i + 1, s, old, root, proof, n), 0);
			if (n) {
				proof[n - 1][31] ^= 1;
				ASSERT_EQ(merkle__verify_consistency(i + 1, s, old, root, proof, n),
					  -EBADMSG);
			}
		}
	}
	/* A leaf at depth 64 has a full-length proof. */
	ASSERT_EQ(merkle__inclusion_proof(&uniform_src, 0, (1ULL << 63) + 1, proof, &n), 0);
	ASSERT_EQ(n, MERKLE_MAX_PROOF);

	/* A compact range of 2^64 - 2 leaves takes one more and then refuses. */
	r.size = UINT64_MAX - 1;
	r.n = 63;
	for (int j = 0; j < 63; j++)
		memcpy(r.hashes[j], uniform[63 - j], H);
	ASSERT_EQ(merkle__root(&r, h), 0);
	ASSERT_EQ(merkle__subtree(&uniform_src, 0, UINT64_MAX - 1, root), 0);
	ASSERT_TRUE(!memcmp(h, root, H));
	ASSERT_EQ(merkle__append(&r, uniform[0]), 0);
	ASSERT_EQ(r.size, UINT64_MAX);
	ASSERT_EQ(r.n, 64);
	ASSERT_EQ(merkle__root(&r, h), 0);
	ASSERT_EQ(merkle__subtree(&uniform_src, 0, UINT64_MAX, root), 0);
	ASSERT_TRUE(!memcmp(h, root, H));
	ASSERT_EQ(merkle__append(&r, uniform[0]), -EOVERFLOW);
	ASSERT_EQ(r.size, UINT64_MAX);
	ASSERT_EQ(r.n, 64);
	return true;
}

TEST(stored_nodes_are_used_and_errors_pass_through)
{
	uint8_t a[MERKLE_MAX_PROOF][H], b[MERKLE_MAX_PROOF][H], h[H];
	struct test_src t, tn;
	struct merkle_source src = make_src(&t, 300, false);
	struct merkle_source srcn = make_src(&tn, 300, true);
	int n, nn;

	setup();
	/* With every level stored, a proof reads O(log n) hashes instead of the whole log. */
	ASSERT_EQ(merkle__inclusion_proof(&src, 5, 300, a, &n), 0);
	ASSERT_EQ(merkle__inclusion_proof(&srcn, 5, 300, b, &nn), 0);
	ASSERT_EQ(n, nn);
	ASSERT_TRUE(!memcmp(a, b, (size_t)n * H));
	ASSERT_EQ(t.leaf_reads, 299);
	ASSERT_TRUE(tn.leaf_reads + tn.node_reads <= 2 * 9);

	/* Only some levels stored (as with tiles): same proofs, from a mix of both. */
	for (unsigned levels = 0; levels < 32; levels += 5) {
		for (uint64_t m = 1; m <= 300; m += 37) {
			srcn = make_src(&tn, 300, true);
			tn.levels = levels << 1;
			ASSERT_EQ(merkle__consistency_proof(&src, m, 300, a, &n), 0);
			ASSERT_EQ(merkle__consistency_proof(&srcn, m, 300, b, &nn), 0);
			ASSERT_EQ(n, nn);
			ASSERT_TRUE(!memcmp(a, b, (size_t)n * H));
			ASSERT_TRUE(!tn.outside);
		}
	}

	srcn = make_src(&tn, 300, true);
	tn.node_err = -EIO;
	ASSERT_EQ(merkle__inclusion_proof(&srcn, 5, 300, b, &nn), -EIO);
	ASSERT_EQ(merkle__subtree(&srcn, 0, 256, h), -EIO);
	srcn = make_src(&tn, 300, true);
	tn.leaf_err = -ENOSPC;
	ASSERT_EQ(merkle__consistency_proof(&srcn, 7, 300, b, &nn), -ENOSPC);
	tn.leaf_err = 5; /* a positive return still reads as an error */
	ASSERT_EQ(merkle__subtree(&srcn, 0, 3, h), -EIO);
	nn = 99;
	ASSERT_EQ(merkle__inclusion_proof(&srcn, 5, 300, b, &nn), -EIO);
	ASSERT_EQ(nn, 99);
	return true;
}

TEST(invalid_arguments)
{
	uint8_t p[MERKLE_MAX_PROOF][H], h[H];
	struct merkle_source none = { NULL, NULL, NULL };
	struct merkle_range r;
	struct test_src t;
	struct merkle_source src = make_src(&t, 10, false);
	int n = 42;

	setup();
	ASSERT_EQ(merkle__inclusion_proof(&src, 10, 10, p, &n), -EINVAL);
	ASSERT_EQ(merkle__inclusion_proof(&src, 0, 0, p, &n), -EINVAL);
	ASSERT_EQ(merkle__inclusion_proof(&none, 0, 1, p, &n), -EINVAL);
	ASSERT_EQ(merkle__consistency_proof(&src, 0, 5, p, &n), -EINVAL);
	ASSERT_EQ(merkle__consistency_proof(&src, 6, 5, p, &n), -EINVAL);
	ASSERT_EQ(merkle__consistency_proof(&none, 1, 5, p, &n), -EINVAL);
	ASSERT_EQ(merkle__subtree(&src, 5, 4, h), -EINVAL);
	ASSERT_EQ(merkle__subtree(NULL, 0, 4, h), -EINVAL);
	ASSERT_EQ(n, 42);
	ASSERT_EQ(merkle__consistency_proof(&src, 4, 4, p, &n), 0);
	ASSERT_EQ(n, 0);

	merkle__init(&r);
	r.n = 1; /* a damaged range must not be indexed */
	ASSERT_EQ(merkle__append(&r, g_leaves[0]), -EINVAL);
	ASSERT_EQ(merkle__root(&r, h), -EINVAL);
	r.size = 3;
	ASSERT_EQ(merkle__append(&r, g_leaves[0]), -EINVAL);
	return true;
}

/* Each thread appends the 300-leaf log and checks its root; returns NULL on success. */
static void *append_in_thread(void *arg)
{
	const uint8_t *want = arg;
	struct merkle_range r;
	uint8_t h[H];

	for (int round = 0; round < 50; round++) {
		merkle__init(&r);
		for (int i = 0; i < 300; i++)
			if (merkle__append(&r, g_leaves[i]))
				return "append failed";
		if (merkle__root(&r, h) || memcmp(h, want, H))
			return "wrong root";
	}
	return NULL;
}

TEST(hashing_from_several_threads)
{
	pthread_t th[4];
	uint8_t want[H];
	void *res;
	bool ok = true;

	setup();
	ref_mth(0, 300, want);
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, append_in_thread, want), 0);
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(pthread_join(th[i], &res), 0);
		ok &= res == NULL;
	}
	ASSERT_TRUE(ok);
	return true;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Prints rates for the ledger's budget (§4.11); asserts only that nothing failed. */
TEST(throughput)
{
	enum { N = 1 << 20 };
	uint8_t rec[120], leaf[H] = { 0 }, root[H], proof[MERKLE_MAX_PROOF][H];
	struct merkle_range r;
	double t0, append_s, replay_s, verify_s;
	int n, verifies = 0;

	setup();
	memset(rec, 0x42, sizeof(rec));
	merkle__init(&r);
	t0 = now_s();
	for (uint32_t i = 0; i < N; i++) {
		leaf[0] = (uint8_t)i;
		ASSERT_EQ(merkle__append(&r, leaf), 0);
	}
	append_s = now_s() - t0;

	merkle__init(&r);
	t0 = now_s();
	for (uint32_t i = 0; i < N; i++) {
		memcpy(rec, &i, sizeof(i));
		ASSERT_EQ(merkle__hash_leaf(rec, sizeof(rec), leaf), 0);
		ASSERT_EQ(merkle__append(&r, leaf), 0);
	}
	replay_s = now_s() - t0;

	setup_uniform();
	ASSERT_EQ(merkle__subtree(&uniform_src, 0, 1000003, root), 0);
	ASSERT_EQ(merkle__inclusion_proof(&uniform_src, 777, 1000003, proof, &n), 0);
	t0 = now_s();
	for (; verifies < 100000; verifies++)
		ASSERT_EQ(merkle__verify_inclusion(uniform[0], 777, 1000003, proof, n, root), 0);
	verify_s = now_s() - t0;

	printf("  %.2f M appends/s (leaf hash given), %.2f M records/s (120 B leaf hash + "
	       "append), %.0f k inclusion verifies/s (%d hashes)\n",
	       N / append_s / 1e6, N / replay_s / 1e6, verifies / verify_s / 1e3, n);
	return true;
}

RUN_TESTS(T(hashes_match_rfc6962_vectors), T(leaf_hash_of_long_record), T(roots_of_rfc6962_tree),
	  T(known_inclusion_proofs), T(known_consistency_proofs),
	  T(compact_range_equals_subtree_0_to_300), T(proofs_equal_reference_1_to_64),
	  T(inclusion_proofs_verify_and_tampering_fails),
	  T(consistency_proofs_verify_and_tampering_fails), T(inclusion_with_wrong_index_or_size),
	  T(consistency_with_wrong_sizes), T(proof_lengths_within_rfc_bounds),
	  T(huge_trees_from_stored_nodes), T(stored_nodes_are_used_and_errors_pass_through),
	  T(invalid_arguments), T(hashing_from_several_threads), T(throughput))
