# fcgate - build, test, demo, install.
#
#   make            build/fcgate and build/fcgatectl (-O2, warnings are errors)
#   make asan       the same with AddressSanitizer + UBSan, in build/asan/
#   make check-layout  the layering rules (t/layout/check.py)
#   make test       install missing test dependencies, check the layout,
#                   build both, run the suite (t/*.bats) against the normal
#                   and the asan build
#   make demo       install missing dependencies, build, run fcgate in front
#                   of PHP-FPM pools on loopback (Ctrl-C stops everything)
#   make fuzz-long  every fuzz target for FUZZ_SECONDS (600) each
#   make bench      install missing dependencies, build, measure fcgate
#                   against every installed peer (nginx, caddy, haproxy,
#                   apache2, lighttpd, h2o) on the same backends, and on
#                   WordPress (t/bench/bench.py);
#                   BENCH_ARGS="--seconds 10 --rounds 5" to change the run
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
BUILD   ?= build

WARN    = -Wall -Wextra -Werror -Wshadow -Wconversion -Wno-missing-field-initializers
OPT     ?= -O2 -g
CFLAGS  ?=
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -I. -MMD -MP $(OPT) $(CFLAGS)
LDLIBS  += -lconfuse -lpcre2-8 -lcares -luring

# One source list per layer (see README, "Layout"); each program links the
# layers it uses and nothing else.
PROTO_SRC   = $(wildcard shared/proto/*.c)
SHARED_SRC  = $(wildcard shared/*.c)
CONF_SRC    = $(wildcard shared/conf/*.c)
CTL_SRC     = $(wildcard shared/ctl/*.c)
MASTER_SRC  = $(wildcard master/*.c)
WORKER_SRC  = $(wildcard worker/*.c)
UNIT_SRC    = $(wildcard t/unit/*_test.c)
TOOL_SRC    = $(wildcard t/backend/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

PROTO_OBJ   = $(call obj,$(PROTO_SRC))
SHARED_OBJ  = $(call obj,$(SHARED_SRC))
CONF_OBJ    = $(call obj,$(CONF_SRC))
CTL_OBJ     = $(call obj,$(CTL_SRC))
MASTER_OBJ  = $(call obj,$(MASTER_SRC))
WORKER_OBJ  = $(call obj,$(WORKER_SRC))
# what every program links: the config, the shared code, the wire formats
COMMON_OBJ  = $(CONF_OBJ) $(SHARED_OBJ) $(PROTO_OBJ)
UNIT_BIN    = $(patsubst t/unit/%.c,$(BUILD)/%,$(UNIT_SRC))
TOOL_BIN    = $(patsubst t/backend/%.c,$(BUILD)/%,$(TOOL_SRC))

.PHONY: all core asan test demo bench install clean deps check-layout
# keep intermediate objects so nothing relinks needlessly
.SECONDARY:

BENCH_BIN   = $(BUILD)/fcgi_benchd $(BUILD)/fcgi_load $(BUILD)/srcaddr.so

all: core $(BENCH_BIN)
core: $(BUILD)/fcgate $(BUILD)/fcgatectl $(UNIT_BIN) $(TOOL_BIN)

$(BUILD)/fcgate: $(MASTER_OBJ) $(WORKER_OBJ) $(COMMON_OBJ)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fcgatectl: $(CTL_OBJ) $(COMMON_OBJ)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests link only what they use, from an archive of the common and
# worker objects.
$(BUILD)/libfcgate.a: $(WORKER_OBJ) $(COMMON_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/%_test: $(BUILD)/obj/t/unit/%_test.o $(BUILD)/libfcgate.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The health checker's probe is the master's, not in the archive.
$(BUILD)/health_probe_test: $(BUILD)/obj/t/unit/health_probe_test.o \
    $(call obj,master/health_probe.c) $(BUILD)/libfcgate.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The resolver's answer parser is the master's too (and needs c-ares).
$(BUILD)/resolver_parse_test: $(BUILD)/obj/t/unit/resolver_parse_test.o \
    $(call obj,master/resolver_parse.c) $(BUILD)/libfcgate.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Test backends and tools are standalone programs.
$(BUILD)/%: $(BUILD)/obj/t/backend/%.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^

# The benchmark's backend and load generator (t/bench), and the preload
# shim that gives wrk many client addresses.
$(BUILD)/fcgi_benchd $(BUILD)/fcgi_load: $(BUILD)/%: t/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $<

$(BUILD)/srcaddr.so: t/bench/srcaddr.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $< -ldl

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# (the benchmark's programs are not part of the sanitizer build).  Its
# event_engine defaults to io_uring: the suite's second pass (t/run.sh)
# runs every test on io_uring, the first on epoll.
asan:
	$(MAKE) BUILD=build/asan core \
	    OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined -DFCGATE_EVENT_ENGINE_IO_URING"

deps:
	@sh t/deps.sh

# Include rules between the layers, file and function lengths, no circle
# among worker files (t/layout/check.py says which file breaks which rule).
check-layout:
	@/usr/bin/python3 t/layout/check.py

test: deps check-layout all asan fuzz
	@bash t/run.sh

demo: deps all
	@bash etc/demo/run.sh

BENCH_ARGS ?=
bench: deps all
	@/usr/bin/python3 t/bench/bench.py $(BENCH_ARGS)

SBINDIR = $(PREFIX)/sbin
CONFDIR = /etc/fcgate
DOCDIR  = $(PREFIX)/share/doc/fcgate
SUBST   = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@CONF@|$(CONFDIR)/fcgate.conf|g' \
	-e 's|@DOCDIR@|$(DOCDIR)|g'

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(CONFDIR) $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)/etc/init.d \
	    $(DESTDIR)/etc/logrotate.d
	install -d -m 0755 $(DESTDIR)/var/log/fcgate
	install -m 0755 $(BUILD)/fcgate $(DESTDIR)$(SBINDIR)/fcgate
	install -m 0755 $(BUILD)/fcgatectl $(DESTDIR)$(PREFIX)/bin/fcgatectl
	install -m 0644 etc/fastcgi_params etc/mime.types $(DESTDIR)$(CONFDIR)/
	test -e $(DESTDIR)$(CONFDIR)/fcgate.conf || \
	    install -m 0644 etc/fcgate.conf $(DESTDIR)$(CONFDIR)/fcgate.conf
	$(SUBST) etc/fcgate.service >$(DESTDIR)$(PREFIX)/lib/systemd/system/fcgate.service
	$(SUBST) etc/init.d/fcgate >$(DESTDIR)/etc/init.d/fcgate
	chmod 0755 $(DESTDIR)/etc/init.d/fcgate
	install -m 0644 etc/logrotate.d/fcgate $(DESTDIR)/etc/logrotate.d/fcgate
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# --- fuzzing (t/fuzz) ---
# libFuzzer targets for the pure parsers, built with clang (libFuzzer is in
# Debian's libclang-rt-14-dev) straight from the sources they need, apart
# from the gcc objects above.  t/fuzz/run.sh runs them; make fuzz only
# builds build/fuzz/*_fuzz.
FUZZ_CC     = clang
FUZZ_DIR    = build/fuzz
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer -I. \
	-Wall -Wextra -Wno-missing-field-initializers
FUZZ_BIN    = $(FUZZ_DIR)/fcgi_fuzz $(FUZZ_DIR)/cgi_fuzz \
	$(FUZZ_DIR)/http_fuzz $(FUZZ_DIR)/uri_fuzz $(FUZZ_DIR)/conn_fuzz \
	$(FUZZ_DIR)/proxy_proto_fuzz $(FUZZ_DIR)/resolver_fuzz

.PHONY: fuzz fuzz-long
fuzz: $(FUZZ_BIN)

# FUZZ_SECONDS per target (600), two targets at a time.
FUZZ_SECONDS ?= 600
fuzz-long: $(FUZZ_BIN)
	@printf '%s\n' fcgi_fuzz cgi_fuzz http_fuzz uri_fuzz conn_fuzz \
	    proxy_proto_fuzz resolver_fuzz | \
	    xargs -P 2 -I{} bash t/fuzz/run.sh $(FUZZ_SECONDS) {}

# what each target links, besides its t/fuzz/<target>.c
$(FUZZ_DIR)/fcgi_fuzz: shared/proto/fcgi_record.c shared/proto/fcgi_record.h
$(FUZZ_DIR)/cgi_fuzz: shared/proto/cgi_response.c shared/proto/cgi_response.h \
	shared/proto/num.c shared/proto/num.h
$(FUZZ_DIR)/http_fuzz: shared/proto/http_request.c shared/proto/http_request.h \
	shared/proto/http_chunked.c shared/proto/http_chunked.h \
	shared/proto/num.c shared/proto/num.h
$(FUZZ_DIR)/uri_fuzz: shared/proto/uri.c shared/proto/uri.h \
	shared/proto/num.c shared/proto/num.h
$(FUZZ_DIR)/proxy_proto_fuzz: shared/proto/proxy_proto.c \
	shared/proto/proxy_proto.h shared/proto/num.c shared/proto/num.h
# the connection's state machine: a whole worker
$(FUZZ_DIR)/resolver_fuzz: master/resolver_parse.c master/resolver_parse.h
$(FUZZ_DIR)/resolver_fuzz: FUZZ_LIBS = -lcares
$(FUZZ_DIR)/conn_fuzz: $(WORKER_SRC) $(CONF_SRC) $(SHARED_SRC) $(PROTO_SRC) \
	master/segment.c master/segment.h \
	$(wildcard worker/*.h shared/*.h shared/*/*.h)
$(FUZZ_DIR)/conn_fuzz: FUZZ_LIBS = -lconfuse -lpcre2-8 -luring

$(FUZZ_BIN): $(FUZZ_DIR)/%: t/fuzz/%.c
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) $(FUZZ_LIBS)
