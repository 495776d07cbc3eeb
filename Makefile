# custos: one non-recursive Makefile; every output goes to build/.
# `make V=1` shows the commands.

OUTPUT := build
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
VMLINUX_H ?= $(OUTPUT)/vmlinux.h
# x86-64 only: the programs read its syscall numbers and registers, and
# those of its 32-bit ABIs (bpf/syscall.bpf.h, hooks.bpf.c).
ifneq ($(shell uname -m),x86_64)
$(error custos builds on x86-64 only: its BPF programs read x86's syscall ABIs)
endif
ARCH := x86

PKGS := libbpf libelf zlib sqlite3 libcrypto jansson yaml-0.1
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# libpq is custos' alone (the fleet's central store): custosd does not link it.
PQ_CFLAGS = $(shell pkg-config --cflags libpq 2>/dev/null)
PQ_LIBS = $(shell pkg-config --libs libpq 2>/dev/null)

CFLAGS ?= -g -O2
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Werror=undef -Wno-unused-parameter \
	  -D_GNU_SOURCE -Iinclude -Icollector -I$(OUTPUT) $(PKG_CFLAGS)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -Iinclude -Ibpf -I$(dir $(VMLINUX_H))

ifeq ($(V),1)
	Q =
	msg =
else
	Q = @
	msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_HDRS := $(wildcard bpf/*.bpf.h) $(wildcard include/custos/*.h)

# Modules both programs link; then each program's own (its main first).
# The unit tests and tools link every module that needs no BPF skeleton.
# The auditor's modules that speak to the fleet's PostgreSQL.
PQ_MODULES := fleetcmd fleet pg ship central follow
SHARED := log opts merkle record store store_layout store_read store_select util note jsonrec views
DAEMON := custosd options decode synthetic host loader losses consumer ledger abi_check export inodes \
	  proctab staff mounts rules opens
AUDITOR := custos query verify readahead trust proof report bundle source $(PQ_MODULES)
SHARED_OBJS := $(patsubst %,$(OUTPUT)/collector/%.o,$(SHARED))
DAEMON_OBJS := $(patsubst %,$(OUTPUT)/collector/%.o,$(DAEMON))
AUDITOR_OBJS := $(patsubst %,$(OUTPUT)/collector/%.o,$(AUDITOR))
COMMON_OBJS := $(SHARED_OBJS) $(patsubst %,$(OUTPUT)/collector/%.o,proctab staff mounts rules \
	opens bundle)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
E2E_BINS := $(OUTPUT)/tests/workload $(OUTPUT)/tests/ledgertool $(OUTPUT)/tests/compat32 \
	    $(OUTPUT)/tests/compatx32

.PHONY: all deps run test test-vm check bench fuzz fuzz-build format format-check clean install
.DELETE_ON_ERROR:
.SECONDARY:

all: $(OUTPUT)/custosd $(OUTPUT)/custos

deps:
	$(Q)scripts/deps.sh

$(VMLINUX_H): | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(VMLINUX_H) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/custos.bpf.o: $(BPF_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(OUTPUT)/custos.skel.h: $(OUTPUT)/custos.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name custos_bpf > $@

$(OUTPUT)/collector/%.o: collector/%.c $(wildcard collector/*.h) $(wildcard include/custos/*.h) | $(OUTPUT)/collector
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/collector/loader.o: $(OUTPUT)/custos.skel.h

$(OUTPUT)/custosd: $(DAEMON_OBJS) $(SHARED_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(PKG_LIBS) -o $@

$(OUTPUT)/custos: $(AUDITOR_OBJS) $(SHARED_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(PKG_LIBS) $(PQ_LIBS) -o $@

# The central schema, embedded in custos as a C string.
$(OUTPUT)/fleet_sql.h: sql/fleet.sql | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q){ echo 'static const char fleet_sql[] = {'; od -An -v -tx1 $< | \
		sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1, /g'; echo '0 };'; } > $@

$(OUTPUT)/collector/fleet.o: $(OUTPUT)/fleet_sql.h
$(patsubst %,$(OUTPUT)/collector/%.o,$(PQ_MODULES)): CFLAGS += $(PQ_CFLAGS)

$(OUTPUT)/tests/test_%: tests/unit/test_%.c tests/test.h tests/records.h $(COMMON_OBJS) $(OUTPUT)/collector/query.o | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(COMMON_OBJS) $(OUTPUT)/collector/query.o $(PKG_LIBS) -o $@

# The exporter is custosd's; its test compares with query's output.
$(OUTPUT)/tests/test_export: tests/unit/test_export.c tests/test.h tests/records.h $(COMMON_OBJS) $(OUTPUT)/collector/query.o $(OUTPUT)/collector/export.o | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(COMMON_OBJS) $(OUTPUT)/collector/query.o $(OUTPUT)/collector/export.o $(PKG_LIBS) -o $@

# The start walk of the trees is custosd's.
$(OUTPUT)/tests/test_inodes: tests/unit/test_inodes.c tests/test.h $(COMMON_OBJS) $(OUTPUT)/collector/inodes.o | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(COMMON_OBJS) $(OUTPUT)/collector/inodes.o $(PKG_LIBS) -o $@

# The decoder's tests link what it calls (the ledger's and the loader's
# calls are not reached by them).
DECODE_OBJS := $(patsubst %,$(OUTPUT)/collector/%.o,decode ledger loader inodes abi_check export)
$(OUTPUT)/tests/test_decode: tests/unit/test_decode.c tests/test.h $(COMMON_OBJS) $(DECODE_OBJS) | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(COMMON_OBJS) $(DECODE_OBJS) $(PKG_LIBS) -o $@

# The report's tests also run custos report itself.
$(OUTPUT)/tests/test_report: tests/unit/test_report.c tests/test.h tests/records.h $(COMMON_OBJS) $(OUTPUT)/collector/report.o | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(COMMON_OBJS) $(OUTPUT)/collector/report.o $(PKG_LIBS) -o $@

$(OUTPUT)/tests/ledgertool: tests/e2e/ledgertool.c $(COMMON_OBJS) $(OUTPUT)/collector/ledger.o | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(PKG_LIBS) -o $@

# Static, so that a test can run it inside a root of its own (a container).
$(OUTPUT)/tests/workload: tests/e2e/workload.c | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) -static $< -luring -o $@

# The same reads made by a 32-bit program, of each 32-bit ABI (gcc-multilib).
$(OUTPUT)/tests/compat32: tests/e2e/compat.c | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) -m32 -static $< -o $@

$(OUTPUT)/tests/compatx32: tests/e2e/compat.c | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) -mx32 -static $< -o $@

$(OUTPUT)/tests/benchload: tests/bench/benchload.c | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

# make bench's floor: empty programs where custos attaches its own.
$(OUTPUT)/tests/floor.bpf.o: tests/bench/floor.bpf.c $(BPF_HDRS) $(VMLINUX_H) | $(OUTPUT)/tests
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/tests/floor.skel.h: $(OUTPUT)/tests/floor.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name floor_bpf > $@

$(OUTPUT)/tests/floor: tests/bench/floor.c $(OUTPUT)/tests/floor.skel.h | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) -I$(OUTPUT)/tests $< $(PKG_LIBS) -o $@

# make bench's floors of the collector's and the verifier's work per record.
$(OUTPUT)/tests/floors: tests/bench/floors.c $(COMMON_OBJS) | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) $< $(COMMON_OBJS) $(PKG_LIBS) -o $@

$(OUTPUT) $(OUTPUT)/bpf $(OUTPUT)/collector $(OUTPUT)/tests:
	$(Q)mkdir -p $@

# The two commands of the README.  Both install what is missing first.
run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

test:
	$(Q)scripts/deps.sh test
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BINS) $(E2E_BINS)
	$(Q)tests/run.sh

# The kernel-facing suites on Debian 12's 6.1 in qemu, with each backend.
test-vm:
	$(Q)scripts/deps.sh vm
	$(Q)$(MAKE) --no-print-directory all $(E2E_BINS)
	$(Q)scripts/vmtest.sh

check: all $(UNIT_BINS) $(E2E_BINS)
	$(Q)tests/run.sh

# make fuzz: every libFuzzer target (tests/fuzz/fuzz_*.c: one per parser of
# outside input) for FUZZ_SECONDS each (60) from its seeds in
# tests/fuzz/corpus, the parsers built by clang with the fuzzer's coverage
# and the address and undefined-behaviour sanitizers.
FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	      -fno-sanitize-recover=all -std=gnu11 -D_GNU_SOURCE -Iinclude -Icollector \
	      -I$(OUTPUT) $(PKG_CFLAGS)
FUZZ_MODULES := $(SHARED) proctab staff mounts rules opens bundle export trust proof
FUZZ_OBJS := $(patsubst %,$(OUTPUT)/fuzz/%.o,$(FUZZ_MODULES))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

$(OUTPUT)/fuzz:
	$(Q)mkdir -p $@

$(OUTPUT)/fuzz/%.o: collector/%.c collector/*.h include/custos/*.h | $(OUTPUT)/fuzz
	$(call msg,FUZZCC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJS)
	$(call msg,FUZZ,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJS) $(PKG_LIBS) -o $@

fuzz-build: $(FUZZ_BINS)

fuzz:
	$(Q)scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)scripts/fuzz.sh $(FUZZ_BINS)

# What custos costs against a bare run and auditd (root; installs auditd).
bench:
	$(Q)scripts/deps.sh bench
	$(Q)$(MAKE) --no-print-directory all $(OUTPUT)/tests/benchload $(OUTPUT)/tests/floor \
		$(OUTPUT)/tests/floors $(OUTPUT)/tests/ledgertool
	$(Q)scripts/bench.sh

format:
	$(Q)clang-format -i bpf/*.c bpf/*.h collector/*.c collector/*.h include/custos/*.h tests/*.h tests/*/*.c tests/fuzz/*.h

format-check:
	$(Q)clang-format --dry-run -Werror bpf/*.c bpf/*.h collector/*.c collector/*.h include/custos/*.h tests/*.h tests/*/*.c tests/fuzz/*.h

install: all
	$(Q)install -D -m 0755 $(OUTPUT)/custosd $(DESTDIR)/usr/sbin/custosd
	$(Q)install -D -m 0755 $(OUTPUT)/custos $(DESTDIR)/usr/bin/custos

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)
