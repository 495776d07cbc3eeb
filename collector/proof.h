/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Offline proofs (docs/ledger.md): an inclusion proof shows that one record is
 * in the log a signed checkpoint commits to, a consistency proof that a later
 * checkpoint extends an earlier one.  Each is a self-contained text file that
 * an auditor checks with nothing but the trust file: no database, no host.
 *
 *   custos-proof 1
 *   type inclusion                 type consistency
 *   index N                        old M1
 *   size M                         new M2
 *   record <base64 record bytes>   hash <base64>  (one per proof hash)
 *   hash <base64>  (...)           checkpoint
 *   checkpoint                     <signed note of size M1>
 *   <signed note of size M>        checkpoint
 *                                  <signed note of size M2>
 *
 * Every line ends in "\n"; the hashes are in RFC 9162 order; the notes are the
 * checkpoint rows verbatim and end where their last signature line ends.
 */
#ifndef CUSTOS_PROOF_H
#define CUSTOS_PROOF_H

#include <stdint.h>
#include <stdio.h>

#include "verify.h"

/*
 * Write the inclusion proof of record seq in the stored checkpoint of size
 * (0: the newest) to out, only once it is complete and checked against that
 * checkpoint's root.  Returns 0; -EINVAL for bad arguments (no checkpoint of
 * that size, seq >= size); -EBADMSG when the database contradicts its own
 * checkpoint (a record missing or malformed, or a root that does not match);
 * -EIO or -ENOMEM.  The reason was logged.
 */
int proof__inclusion(const char *db, uint64_t seq, uint64_t size, FILE *out);

/*
 * Write the consistency proof between the stored checkpoints of old_size and
 * new_size (0: the newest) to out, as proof__inclusion does.  Needs
 * 0 < old_size <= new_size.  Same returns as proof__inclusion.
 */
int proof__consistency(const char *db, uint64_t old_size, uint64_t new_size, FILE *out);

/*
 * Check the proof file at path against the trust t, printing the verdict (and
 * for an inclusion proof one line about the record) to out.  Returns
 * VERIFY_OK when it holds, VERIFY_TAMPER when it does not (a signature, root
 * or record that fails), or VERIFY_ERROR when the file cannot be read or is
 * not a well-formed proof (the reason was logged).
 */
int proof__verify(const struct trust *t, const char *path, FILE *out);

#endif /* CUSTOS_PROOF_H */
