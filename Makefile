# gather: build, test, run and install.
#
#   make                 build build/gather (warning-free at -Wall -Wextra -Werror, C11)
#   make test            install missing libraries (as root), build, run every test
#   make test SAN=1      the same, built with AddressSanitizer + UndefinedBehaviorSanitizer
#   make mutate          break the code on purpose, one mutant at a time, and check the suite notices
#   make run             start the bundled fixture site on 127.0.0.1 and download urls.txt from it
#   make install         install the binary, gather.1 and the bash and zsh completions under
#                        $(DESTDIR)$(PREFIX) (PREFIX=/usr/local); make uninstall removes them
#   make deb             build build/gather_VERSION_ARCH.deb with dpkg-buildpackage (debian/),
#                        in a copy of the tree under build/deb-src
#   make clean
#
# `make` also writes build/gather.1 (gather --generate-man) and build/completion/gather.bash and
# _gather (gather completion bash|zsh), all generated from the option table in
# crawler/cli/optdoc.c; `gather --version` names the commit (GATHER_COMMIT=... overrides it).

SHELL   := /bin/bash
PREFIX  ?= /usr/local
CC      ?= cc
PKGS    := libcurl libuv libxml-2.0 jansson libpsl sqlite3 libcrypto zlib hiredis
TESTPKGS := cmocka libmicrohttpd

# Debian packages that provide the pkg-config modules above (checked by `make deps`). npm comes
# apart, only when no npm is there: a nodejs that bundles it (NodeSource's) conflicts with it.
DEB_PKGS := libcurl4-openssl-dev libssl-dev libuv1-dev libxml2-dev libjansson-dev libpsl-dev \
            libsqlite3-dev libcmocka-dev libmicrohttpd-dev pkg-config jq time nginx-light curl sqlite3 bc \
            openssl tinyproxy-bin zlib1g-dev python3 postgresql-doc sqlite3-doc wget wget2 chromium \
            libhiredis-dev redis-server debhelper dpkg-dev lintian groff-base man-db zsh

ifeq ($(SAN),1)
BUILD   ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT     ?= -O1
else
BUILD   ?= build
SANFLAGS :=
OPT     ?= -O2
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS := $(shell pkg-config --cflags $(TESTPKGS) 2>/dev/null)
TEST_LIBS   := $(shell pkg-config --libs $(TESTPKGS) 2>/dev/null)

CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wno-missing-field-initializers -I. $(PKG_CFLAGS) $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
CPPFLAGS ?=
LDLIBS  += $(PKG_LIBS) -lpthread -lm

# Every .c in the four code folders (one level of subfolders by concern: net/async, net/http,
# crawler/get, ...) is part of the library except the program's entry point; adding a module is
# adding a file.
LIB_SRC  := $(sort $(wildcard net/*/*.c parse/*.c storage/*.c) $(filter-out crawler/cli/main.c,$(wildcard crawler/*/*.c)))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/crawler/cli/main.o
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
SERVER_SRC := $(sort $(wildcard tests/server/*.c))
SERVER_BIN := $(BUILD)/fixture-server

# The version (crawler/cli/version.h) and the commit `gather --version` names: HEAD's short hash,
# "-dirty" when tracked files differ from it; "unknown" outside a git checkout of this tree (a
# tarball). make deb passes it on to the copy it builds from.
GATHER_VERSION := $(shell sed -n 's/^\#define GATHER_VERSION "\(.*\)"/\1/p' crawler/cli/version.h)
GATHER_COMMIT ?= $(shell if [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ] && \
                    c=$$(git rev-parse --short HEAD 2>/dev/null); then \
                    git diff --quiet HEAD -- 2>/dev/null || c=$$c-dirty; echo $$c; else echo unknown; fi)

# Generated from the option table: the man page and the completion scripts.
DOCS := $(BUILD)/gather.1 $(BUILD)/completion/gather.bash $(BUILD)/completion/_gather

.PHONY: all deps test unit integration run install uninstall deb clean fuzz asan valgrind mutate FORCE
all: $(BUILD)/gather $(DOCS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# Rewritten only when the commit changes, so that main.o is rebuilt then and only then.
$(BUILD)/gen/commit.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define GATHER_COMMIT "$(GATHER_COMMIT)"' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi
$(MAIN_OBJ): $(BUILD)/gen/commit.h
$(MAIN_OBJ): CFLAGS += -I$(BUILD)/gen

$(BUILD)/gather.1: $(BUILD)/gather
	$(BUILD)/gather --generate-man > $@.tmp && mv -f $@.tmp $@
$(BUILD)/completion/gather.bash: $(BUILD)/gather
	@mkdir -p $(dir $@)
	$(BUILD)/gather completion bash > $@.tmp && mv -f $@.tmp $@
$(BUILD)/completion/_gather: $(BUILD)/gather
	@mkdir -p $(dir $@)
	$(BUILD)/gather completion zsh > $@.tmp && mv -f $@.tmp $@

$(BUILD)/libgather.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/gather: $(MAIN_OBJ) $(BUILD)/libgather.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# -MMD: a unit test is rebuilt when a header it includes changes (tests/unit/*.h too).
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libgather.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) $(LDFLAGS) -MMD -MP -MF $@.d -o $@ $< $(BUILD)/libgather.a $(LDLIBS) $(TEST_LIBS)

$(SERVER_BIN): $(SERVER_SRC) $(wildcard tests/server/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) $(LDFLAGS) -o $@ $(SERVER_SRC) $(LDLIBS) $(TEST_LIBS)

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_BIN:=.d)

# Install what is missing: as root with apt-get, otherwise print the exact command.
deps:
	@missing=""; for p in $(PKGS) $(TESTPKGS); do pkg-config --exists $$p 2>/dev/null || missing="$$missing $$p"; done; \
	for t in jq curl nginx sqlite3 bc openssl tinyproxy python3 chromium node npm; do command -v $$t >/dev/null 2>&1 || [ -x /usr/sbin/$$t ] || missing="$$missing $$t"; done; \
	[ -x /usr/bin/time ] || missing="$$missing time"; \
	ls /usr/share/doc/postgresql-doc-*/html/index.html >/dev/null 2>&1 || missing="$$missing postgresql-doc"; \
	[ -f /usr/share/doc/sqlite3/index.html ] || missing="$$missing sqlite3-doc"; \
	if [ -n "$$missing" ]; then \
	  echo "gather: missing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PKGS) >/dev/null && \
	    { command -v npm >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }; \
	  else \
	    echo "run: sudo apt-get install -y $(DEB_PKGS)$$(command -v npm >/dev/null 2>&1 || echo ' npm')"; exit 1; \
	  fi; \
	fi

unit: $(UNIT_BIN)
integration: $(BUILD)/gather $(SERVER_BIN)

test: deps
	@$(MAKE) --no-print-directory all unit integration
	@BUILD=$(BUILD) SAN=$(SAN) tests/run $(UNIT_BIN)

asan:
	@$(MAKE) --no-print-directory test SAN=1

run: deps
	@$(MAKE) --no-print-directory all $(SERVER_BIN)
	@BUILD=$(BUILD) tests/server/demo

# libFuzzer targets (clang): each runs FUZZ_SECONDS on its seed corpus in tests/fuzz/NAME/.
# Crashing inputs are written to build/fuzz/NAME/; keep them as regression seeds.
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_LIB_SRC := $(wildcard parse/*.c) storage/path.c storage/hash.c storage/seen.c
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -I. $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined

build/fuzz/%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_SRC) $(PKG_LIBS)

fuzz: deps $(FUZZ_TARGETS:%=build/fuzz/%)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/$$t.corpus build/fuzz/$$t.crashes; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix=build/fuzz/$$t.crashes/ -print_final_stats=1 \
	    build/fuzz/$$t.corpus tests/fuzz/$$t 2>&1 | grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)' ; \
	  status=$${PIPESTATUS[0]}; \
	  if [ $$status -ne 0 ]; then echo "fuzz $$t: FAILED (exit $$status), input in build/fuzz/$$t.crashes/"; exit 1; fi; \
	done; echo "fuzz: every target ran clean"

# The integration suite again with every gather run under valgrind memcheck (errors and
# definite leaks fail the run); a subset keeps it within minutes.
VALGRIND_TESTS ?= tests/integration/t_get.sh:test_failures_leave_no_file_and_spare_the_rest \
                  tests/integration/t_get.sh:test_three_modes_make_identical_files_and_reports \
                  tests/integration/t_get.sh:test_json_lines_and_summary \
                  tests/integration/t_bench.sh:test_bench_repeat_gives_median_and_range \
                  tests/integration/t_faults.sh:test_reset_mid_body_resumes_with_range \
                  tests/integration/t_faults.sh:test_lying_servers_never_leave_a_wrong_file \
                  tests/integration/t_faults.sh:test_interrupted_download_resumes_from_its_part \
                  tests/integration/t_crawl.sh:test_depth_9_fetches_the_whole_graph \
                  tests/integration/t_crawl.sh:test_accept_jpg_saves_exactly_the_images \
                  tests/integration/t_crawl.sh:test_robots_5xx_disallows_the_host \
                  tests/integration/t_interrupt.sh:test_crawl_sigint_while_robots_txt_is_slow \
                  tests/integration/t_interrupt.sh:test_get_sigint_while_waiting_to_retry \
                  tests/integration/t_redis.sh:test_three_workers_fetch_each_url_once \
                  tests/integration/t_redis.sh:test_redis_restart_and_dropped_connections_lose_nothing \
                  tests/integration/t_redis_crawl.sh:test_three_workers_crawl_what_one_process_crawls
valgrind: deps
	@$(MAKE) --no-print-directory all $(SERVER_BIN)
	@command -v valgrind >/dev/null || { echo "valgrind missing: apt-get install -y valgrind"; exit 1; }
	@GATHER_WRAP="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
	  TEST_TIMEOUT=600 BUILD=$(BUILD) tests/run-some $(VALGRIND_TESTS)

# Mutation testing (tests/mutate/README.md): each mutant is built and tested in its own copy under
# /tmp. MUTATE_J=2 runs two at once, MUTANTS="a b" picks some, MUTATE_ARGS passes --quick, --all, ...
MUTATE_J ?= 1
mutate: deps
	@tests/mutate/run -j $(MUTATE_J) $(MUTATE_ARGS) $(MUTANTS)

# Where Debian puts each (bash-completion's and zsh's own folders for packages).
BINDIR      := $(PREFIX)/bin
MAN1DIR     := $(PREFIX)/share/man/man1
BASHCOMPDIR := $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  := $(PREFIX)/share/zsh/vendor-completions
INSTALLED   := $(BINDIR)/gather $(MAN1DIR)/gather.1 $(BASHCOMPDIR)/gather $(ZSHCOMPDIR)/_gather

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MAN1DIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 0755 $(BUILD)/gather $(DESTDIR)$(BINDIR)/gather
	install -m 0644 $(BUILD)/gather.1 $(DESTDIR)$(MAN1DIR)/gather.1
	install -m 0644 $(BUILD)/completion/gather.bash $(DESTDIR)$(BASHCOMPDIR)/gather
	install -m 0644 $(BUILD)/completion/_gather $(DESTDIR)$(ZSHCOMPDIR)/_gather

# Exactly the files install wrote; the folders may hold other packages' files.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))

# The package is built in a copy of the tree (dpkg-buildpackage writes into the folder above the
# source and debian/ fills with build files): nothing is written outside build/.
DEB_SRC := build/deb-src/gather-$(GATHER_VERSION)
deb:
	@v=$$(dpkg-parsechangelog -l debian/changelog -SVersion) && [ "$$v" = "$(GATHER_VERSION)" ] || \
	  { echo "make deb: debian/changelog says $$v, crawler/cli/version.h $(GATHER_VERSION)"; exit 1; }
	rm -rf build/deb-src && mkdir -p $(DEB_SRC)
	tar -c --exclude=./build --exclude=./.git --exclude=./downloads --exclude=./node_modules . | \
	  tar -x -C $(DEB_SRC)
	cd $(DEB_SRC) && GATHER_COMMIT=$(GATHER_COMMIT) dpkg-buildpackage -b -us -uc
	mv -f build/deb-src/gather_$(GATHER_VERSION)_*.deb build/
	@ls build/gather_$(GATHER_VERSION)_*.deb

clean:
	rm -rf build
