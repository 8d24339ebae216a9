# VFM — Velocity Filter Machine.  See README.md.
#
#   make            library, tools, single header (build/)
#   make test       every test in three builds: normal, ASan+UBSan, switch dispatch
#   make check      tests of one build (BUILD=..., VARIANT=normal|asan|switch)
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean
#
# WERROR=-Werror turns warnings into errors (CI sets it).

CC      ?= cc
AR      ?= ar
PREFIX  ?= /usr/local
BUILD   ?= build
VARIANT ?= normal
WERROR  ?=

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wvla -Wpointer-arith -Wundef
OPT_normal := -O2
OPT_switch := -O2 -DVFM_SWITCH_DISPATCH
SAN        := -fsanitize=address,undefined
OPT_asan   := -O1 -fno-omit-frame-pointer $(SAN) -fno-sanitize-recover=all
OPT := $(OPT_$(VARIANT))
CFLAGS  ?= -g
ALL_CFLAGS := -std=gnu11 $(OPT) $(CFLAGS) $(WARN) $(WERROR) -Iinclude -Ivm -MMD -MP
LDFLAGS_VARIANT := $(if $(filter asan,$(VARIANT)),$(SAN)) -lpthread
PCAP_LIBS := -lpcap

LIB_SRCS  := $(wildcard vm/*.c) $(wildcard verifier/*.c)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB       := $(BUILD)/libvfm.a
SINGLE    := $(BUILD)/vfm_single.h

TOOL_NAMES := vfm-asm vfm-dis vfm-verify vfm-test vfm-gen
TOOLS      := $(TOOL_NAMES:%=$(BUILD)/bin/%)
TOOL_COMMON_SRCS := tools/pktgen.c tools/pcapio.c tools/cli.c
TOOL_COMMON_OBJS := $(TOOL_COMMON_SRCS:%.c=$(BUILD)/obj/%.o)

TEST_SRCS := $(filter-out tests/test_support.c tests/test_single_header.c,$(wildcard tests/test_*.c))
TESTS     := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
TEST_SUPPORT_OBJS := $(BUILD)/obj/tests/test_support.o $(TOOL_COMMON_OBJS)

.PHONY: all lib tools single test check install clean demo
all: lib tools single

lib: $(LIB)
tools: $(TOOLS)
single: $(SINGLE)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/obj/tools/%.o $(TOOL_COMMON_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDFLAGS_VARIANT) $(PCAP_LIBS)

# The single-header distribution is generated from the real sources.
$(SINGLE): tools/amalgamate.sh include/vfm.h $(wildcard vm/*.h vm/*.def) $(LIB_SRCS)
	@mkdir -p $(dir $@)
	sh tools/amalgamate.sh $(LIB_SRCS) > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TEST_SUPPORT_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDFLAGS_VARIANT) -lcmocka $(PCAP_LIBS)

# A program built against the single header alone (no libvfm.a).
$(BUILD)/tests/test_single_header: tests/test_single_header.c $(SINGLE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(BUILD) $< -o $@ $(LDFLAGS_VARIANT) -lcmocka

# Tests run from the repository root (they read examples/ and corpus/).
check: all $(TESTS) $(BUILD)/tests/test_single_header
	@set -e; for t in $(TESTS) $(BUILD)/tests/test_single_header; do \
		echo "== $$t"; VFM_BIN=$(BUILD)/bin $$t; done

test:
	$(MAKE) check BUILD=build VARIANT=normal
	$(MAKE) check BUILD=build/asan VARIANT=asan
	$(MAKE) check BUILD=build/switch VARIANT=switch

# The main job: the seed's quick-start filter over a generated capture.
DEMO_PACKETS ?= 200000
demo: all
	$(BUILD)/bin/vfm-gen -n $(DEMO_PACKETS) -s 1 -o $(BUILD)/demo.pcap
	$(BUILD)/bin/vfm-asm examples/quickstart.vfm -o $(BUILD)/quickstart.bin
	$(BUILD)/bin/vfm-test $(BUILD)/quickstart.bin $(BUILD)/demo.pcap

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/vfm.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(SINGLE) $(DESTDIR)$(PREFIX)/include/vfm_single.h

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
