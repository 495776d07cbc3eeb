/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A record as a JSON object: the custos form, with the keys and encodings
 * of `custos query --format json`, and OCSF 1.3 events for exports.  The
 * byte encoders are the ones query uses for its rows, so both agree on how
 * raw path bytes become JSON.
 */
#ifndef CUSTOS_JSONREC_H
#define CUSTOS_JSONREC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define OCSF_VERSION "1.3.0"

/* Each returns a new reference, or NULL when out of memory. */

/* The bytes as a JSON string; a byte that is not part of valid UTF-8, and
 * NUL, becomes U+FFFD. */
json_t *jsonrec__text(const uint8_t *p, size_t n);

/* Base64 of the bytes when jsonrec__text could not keep them exactly, else
 * null. */
json_t *jsonrec__b64(const uint8_t *p, size_t n);

/* NUL-separated arguments as an array of strings. */
json_t *jsonrec__args(const uint8_t *p, size_t n);

/* enum custos_read_path bits as an array of syscall names. */
json_t *jsonrec__read_paths(uint64_t bits);

/* enum custos_abi bits as "x86_64", "i386", "x32", joined with ","
 * (record__abi_names); null for 0. */
json_t *jsonrec__abi(uint32_t abi);

/* The bytes in lowercase hex (null when longer than 64). */
json_t *jsonrec__hex(const uint8_t *p, size_t n);

/* The object custos query prints for r, on the host named host (NULL: null). */
json_t *jsonrec__custos(const struct record *r, const char *host);

/*
 * r as an OCSF event: an access (a link and a rename too: their new name is
 * file_result) is File System Activity (1001), an alert a
 * Detection Finding (2004), start, stop, loss and gap Event Log Activity
 * (1008).  NULL with errno EINVAL for other types, ENOMEM.
 */
json_t *jsonrec__ocsf(const struct record *r, const char *host, const char *version);

/* The time a record is shown with: an access's own time, else when it was written. */
int64_t jsonrec__time_ns(const struct record *r);

#endif /* CUSTOS_JSONREC_H */
