// SPDX-License-Identifier: BSD-2-Clause
/*
 * The kernel and the collector compile include/custos/abi.h separately; a
 * layout that drifts between them must fail the build, not corrupt events.
 * These sizes and offsets are the ABI of the CUSTOS_ABI_VERSION below.
 */
#include <stddef.h>

#include "custos/abi.h"

_Static_assert(CUSTOS_ABI_VERSION == 8, "update the layout checks with the ABI version");
_Static_assert(sizeof(struct custos_root) == 16 + 2 * CUSTOS_ROOT_MAX, "custos_root");
_Static_assert(sizeof(struct custos_event_hdr) == 24, "custos_event_hdr");
_Static_assert(sizeof(struct custos_task_ids) == 80, "custos_task_ids");
_Static_assert(sizeof(struct custos_file_ref) == 32, "custos_file_ref");
_Static_assert(offsetof(struct custos_open_event, path) == 160, "custos_open_event");
_Static_assert(sizeof(struct custos_open_event) == 160 + CUSTOS_PATH_MAX, "custos_open_event");
_Static_assert(offsetof(struct custos_read_event, path) == 208, "custos_read_event");
_Static_assert(sizeof(struct custos_read_event) == 208 + CUSTOS_PATH_MAX, "custos_read_event");
_Static_assert(offsetof(struct custos_link_event, path) == 168, "custos_link_event");
_Static_assert(sizeof(struct custos_link_event) == 168 + 2 * CUSTOS_PATH_MAX, "custos_link_event");
_Static_assert(offsetof(struct custos_exec_event, args) == 112, "custos_exec_event");
_Static_assert(offsetof(struct custos_exec_event, path) == 400, "custos_exec_event");
_Static_assert(sizeof(struct custos_fork_event) == 64, "custos_fork_event");
_Static_assert(sizeof(struct custos_exit_event) == 40, "custos_exit_event");
_Static_assert(sizeof(struct custos_inode_key) == 16, "custos_inode_key");
_Static_assert(sizeof(struct custos_protected) == 8, "custos_protected");
_Static_assert(sizeof(struct custos_stats) == 8 * (CUSTOS_STAT_MAX + 1), "custos_stats");
/* Records are 8-byte aligned in the ring; the path is the only tail. */
_Static_assert(offsetof(struct custos_open_event, path) % 8 == 0, "path alignment");
_Static_assert(offsetof(struct custos_read_event, path) % 8 == 0, "path alignment");
_Static_assert(offsetof(struct custos_link_event, path) % 8 == 0, "path alignment");
