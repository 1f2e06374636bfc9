# tinydock: build, test, demo and bench. `make` builds the single binary ./tinydock.
.DEFAULT_GOAL := tinydock
SHELL := /bin/bash

BUN ?= bun
# Debian packages the tests, demo and bench use as oracles and tools (none is needed to run tinydock).
APT_PACKAGES := docker-registry busybox-static skopeo umoci podman runc crun hyperfine iptables \
	nftables curl wrk iproute2 make ca-certificates linux-libc-dev strace musl-tools conntrack python3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SOURCES := $(shell find src -type f \( -name '*.ts' -o -name '*.c' \) 2>/dev/null) package.json

.PHONY: deps test demo bench clean

# --compile-jit-policy: most commands run each function a few hundred times at most (ps over 100
# containers), and compiling it costs more than interpreting it (ps -a: 43M → 33M instructions).
# main.ts returns to the normal policy once a command outlives its start.
tinydock: $(SOURCES) build/monitor | node_modules
	$(BUN) build --compile --splitting --minify --bytecode --compile-jit-policy 100 --format=esm --no-compile-autoload-bunfig --no-compile-autoload-dotenv src/main.ts --outfile tinydock

# The monitor of detached containers: src/sys/monitor.c, one unit that #includes init.c and the role
# files under src/sys/init/ and src/sys/monitor/. Static, so the binary that embeds it runs it from a
# memfd on any host. musl keeps it small (~46 KB, ~0.2 MiB PSS).
MUSL_CC ?= musl-gcc
build/monitor: src/sys/monitor.c src/sys/init.c $(wildcard src/sys/init/*.c src/sys/monitor/*.c)
	@mkdir -p build
	$(MUSL_CC) -static -Os -s -Wall -Wno-unused-function -fno-asynchronous-unwind-tables -o $@ src/sys/monitor.c

# Re-installed when package.json or bun.lock change (a new devDependency such as typescript), so a
# checkout that had node_modules before still gets what the tests use.
node_modules: package.json bun.lock
	$(BUN) install --frozen-lockfile </dev/null
	@touch $@

# The first command on a fresh machine as well as `make demo`: deps comes first (make runs
# prerequisites in order), then the build that needs musl-gcc and node_modules.
test: deps tinydock
	bash test/run.sh

# Idempotent and quiet: apt-get update runs only when a package is missing; never reads stdin.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if ! command -v bun >/dev/null && ! command -v npm >/dev/null; then missing="$$missing npm"; fi; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 $$missing </dev/null >/dev/null; \
	fi
	@command -v bun >/dev/null || { echo "deps: npm install -g bun"; $(SUDO) npm install -g --silent bun </dev/null; }
	@$(MAKE) --no-print-directory node_modules

demo: deps tinydock
	$(BUN) images/demo.ts

# Every bench (pull, push, run, net: published ports, lifecycle, build, bridge, pods) even when an earlier one fails, but
# not after Ctrl-C; fails if any failed.
bench: deps tinydock
	pull=0; $(BUN) bench/pull.ts || pull=$$?; [ $$pull -lt 128 ] || exit $$pull; \
	push=0; $(BUN) bench/push.ts || push=$$?; [ $$push -lt 128 ] || exit $$push; \
	run=0; $(BUN) bench/run.ts || run=$$?; [ $$run -lt 128 ] || exit $$run; \
	net=0; $(BUN) bench/ports.ts || net=$$?; [ $$net -lt 128 ] || exit $$net; \
	life=0; $(BUN) bench/lifecycle.ts || life=$$?; [ $$life -lt 128 ] || exit $$life; \
	build=0; $(BUN) bench/build.ts || build=$$?; [ $$build -lt 128 ] || exit $$build; \
	bridge=0; $(BUN) bench/bridge.ts || bridge=$$?; [ $$bridge -lt 128 ] || exit $$bridge; \
	$(BUN) bench/pods.ts && [ $$pull = 0 ] && [ $$push = 0 ] && [ $$run = 0 ] && [ $$net = 0 ] && [ $$build = 0 ] && [ $$bridge = 0 ] && exit $$life

clean:
	rm -f tinydock
	rm -rf build
