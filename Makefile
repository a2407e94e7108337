# The front door: `make demo` and `make test` are all a fresh machine needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
CARGO ?= cargo
VENV := $(CURDIR)/.venv
ZIGLANG_VERSION := 0.17.1
CARGO_LAMBDA_VERSION := 1.9.2

# moto_server with atomic DynamoDB operations (tools/local-stack/moto/moto-local says why).
export MOTO_SERVER ?= $(CURDIR)/tools/local-stack/moto/moto-local
# The venv's tools come first: cmake (for the bundled libopus), sam, moto.
export PATH := $(VENV)/bin:$(PATH)
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

.PHONY: help venv localstack checkov web-deps media-tools corpus demo test sam-setup sam-down sam-invoke test-sam test-fanout-long check-format lint unit iam-check iam-report sam-validate local user dlq redrive build fixtures bench bench-lambda bench-init bench-stream bench-upload bench-fanout fuzz clean

help:
	@echo "make demo      convert fixtures/sample.mp4 (or VIDEO=path) end to end on the local stack"
	@echo "make test      format, lint, every test (moto-backed, each AWS call judged by its role), sam validate --lint"
	@echo "make checkov   scan template.yaml for security findings (in make test)"
	@echo "make corpus    fetch the real-world test files (TagLib, mutagen) the engine is tested on (in make test)"
	@echo "make iam-report  the suite, then what each function's role grants that its code never called"
	@echo "make local     run the local stack in the foreground (API_PORT=3000, MOTO_PORT=4566)"
	@echo "make user      EMAIL=... PASSWORD=... add a user to a running local stack"
	@echo "make dlq       list the failure queues (convert, notify, webhook) on a running local stack"
	@echo "make redrive   send them back (convert and webhook queues; notify's events published again)"
	@echo "make build     sam build for arm64 (installs cargo-lambda and zig first)"
	@echo "make sam-setup Docker, arm64 emulation, the stand-in base image and make build, for sam local (root)"
	@echo "make sam-invoke FN=ConvertFunction EVENT=events/convert.json  one built function under sam local invoke"
	@echo "make demo LONG=1  a 25-minute recording, converted in parts by several workers at once"
	@echo "make local SAM=1 / make demo SAM=1  the stack with every function under sam local"
	@echo "make test-sam  every events/ file and the demo path on the built arm64 bootstraps (after sam-setup)"
	@echo "make sam-down  stop what sam-setup and make local SAM=1 started"
	@echo "make bench     the engine against ffmpeg on a 10-minute video (needs ffmpeg)"
	@echo "make bench-lambda  CPU and wall time, GB-s and dollars per audio-hour by Lambda memory size (root)"
	@echo "make bench-init  each function's init time (to its first /next call) and bootstrap size"
	@echo "make bench-stream  hour-long uploads through S3 on the local stack: bytes read, peak RSS"
	@echo "make bench-fanout  one conversion fanned out in parts: CPU per part, modelled wall time on AWS"
	@echo "make test-fanout-long  the fan-out end to end with a four-hour upload (about ten minutes)"
	@echo "make bench-upload  uploads in parts through the local stack, one and several at once: MB/s"
	@echo "make fuzz      fuzz the decode->encode path (FUZZ_SECONDS=600; installs cargo-fuzz)"

# The Python tools, pinned in requirements-dev.txt, in a venv of the project's own.
$(VENV)/.installed: requirements-dev.txt
	@$(PYTHON) -m venv $(VENV) || { echo "error: '$(PYTHON) -m venv' failed; on Debian: apt-get install python3-venv" >&2; exit 1; }
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

# Tools whose pins would fight those in .venv get a venv each: .local/NAME-venv, from the
# requirements file REQUIREMENTS_NAME names. LocalStack's S3 checks presigned URLs' signatures as
# AWS does (tools/local-stack/tests/presigned.rs); checkov scans the template.
REQUIREMENTS_localstack := tools/local-stack/localstack/requirements.txt
REQUIREMENTS_checkov := tools/build/checkov/requirements.txt
.SECONDEXPANSION:
.local/%-venv/.installed: $$(REQUIREMENTS_$$*)
	@$(PYTHON) -m venv $(@D) || { echo "error: '$(PYTHON) -m venv' failed; on Debian: apt-get install python3-venv" >&2; exit 1; }
	$(@D)/bin/pip install --quiet --disable-pip-version-check -r $<
	@touch $@

localstack: .local/localstack-venv/.installed

# Every checkov finding on template.yaml fails the build; a check that does not fit is skipped
# on its resource, with its reason, in the template's Metadata (the reason is the review).
checkov: .local/checkov-venv/.installed
	.local/checkov-venv/bin/checkov --file template.yaml --framework cloudformation \
		--skip-download --compact --quiet

# The browser test (tools/local-stack/tests/web.rs) drives Debian's Chromium with playwright-core.
WEB_TEST := tools/local-stack/web-test
web-deps: $(WEB_TEST)/node_modules/.installed
	@test -x /usr/bin/chromium || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing Debian's chromium for the browser test"; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || { echo "error: the browser test needs /usr/bin/chromium: apt-get install chromium" >&2; exit 1; }

$(WEB_TEST)/node_modules/.installed: $(WEB_TEST)/package-lock.json
	@command -v npm >/dev/null || { echo "error: the browser test needs Node.js 20+ and npm (apt-get install nodejs npm)" >&2; exit 1; }
	cd $(WEB_TEST) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Tests check the MP3s with FFmpeg's own tools (ffprobe, ffmpeg's decoder and ebur128 filter),
# which share no code with the encoder; Debian's ffmpeg package brings them.
media-tools:
	@command -v ffprobe >/dev/null && command -v ffmpeg >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing Debian's ffmpeg for the tests' independent checks"; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null; } \
	  || { echo "error: the tests need ffprobe and ffmpeg: apt-get install ffmpeg" >&2; exit 1; }

# The real-world corpus (TagLib's and mutagen's test files) that shared/transcode/tests/corpus.rs
# converts, fetched once into .local/corpus and checked against pinned SHA-256s.
corpus: venv
	bash tools/fixtures/fetch-corpus.sh

# SAM=1: every function as its built arm64 bootstrap under `sam local` (after make sam-setup).
SAM_FLAG := $(if $(filter 1 yes true,$(SAM)),--sam)

# LONG=1: a 25-minute recording (made by ffmpeg), fanned out over the converter's workers.
LONG_FLAG := $(if $(filter 1 yes true,$(LONG)),--long)

demo: venv $(if $(LONG_FLAG),media-tools)
	$(CARGO) run --quiet -p local-stack -- demo $(SAM_FLAG) $(LONG_FLAG)

test: venv localstack web-deps media-tools corpus check-format lint checkov unit iam-check sam-validate

check-format:
	$(CARGO) fmt --all -- --check

lint: venv
	$(CARGO) clippy --workspace --all-targets --features local-stack/sam --quiet -- -D warnings

# Every AWS call the suite makes, as the local IAM gate judged it against the caller's role.
IAM_CALLS := $(CURDIR)/.local/iam-calls.jsonl

unit: venv
	@mkdir -p $(dir $(IAM_CALLS)) && rm -f $(IAM_CALLS)
	IAM_CALLS_LOG=$(IAM_CALLS) $(CARGO) test --workspace

# After `unit`: fails if a role grants an action the suite never used and the template gives
# no reason beside it.
iam-check: venv
	$(CARGO) run --quiet -p local-stack -- iam-report --calls $(IAM_CALLS)

iam-report: unit iam-check

sam-validate: venv
	$(VENV)/bin/sam validate --lint --template template.yaml

local: venv
	$(CARGO) run --quiet -p local-stack -- serve $(SAM_FLAG)

user: venv
	@test -n "$(EMAIL)" -a -n "$(PASSWORD)" || { echo "usage: make user EMAIL=you@example.com PASSWORD=secret" >&2; exit 2; }
	$(CARGO) run --quiet -p local-stack -- add-user --email "$(EMAIL)" --password "$(PASSWORD)"

dlq: venv
	$(CARGO) run --quiet -p local-stack -- dlq

redrive: venv
	$(CARGO) run --quiet -p local-stack -- redrive

# sam build compiles each function for arm64 with cargo-lambda, which cross-compiles through zig
# (LAME too: shared/patched/mp3lame-sys builds it with the cc crate, which knows the target).
build: venv
	@command -v cargo-lambda >/dev/null || $(CARGO) install cargo-lambda --version $(CARGO_LAMBDA_VERSION) --locked
	$(VENV)/bin/pip install --quiet --disable-pip-version-check ziglang==$(ZIGLANG_VERSION)
	rustup target add aarch64-unknown-linux-gnu
	PATH="$(VENV)/bin:$$PATH" $(VENV)/bin/sam build

# sam local on the real arm64 bootstraps (docs/local-aws.md, "Testing with sam local"). sam-setup needs root
# (or sudo): Debian's docker.io and qemu-user-static, binfmt_misc, a dockerd of the project's
# own under .local/sam, the stand-in base image; then make build. sam-down undoes the running part.
sam-setup: venv
	tools/local-stack/sam/setup.sh
	$(MAKE) build

sam-down:
	tools/local-stack/sam/down.sh

sam-invoke: venv
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make sam-invoke FN=ConvertFunction EVENT=events/convert.json" >&2; exit 2; }
	$(CARGO) run --quiet -p local-stack -- sam-invoke --function "$(FN)" --event "$(EVENT)"

# One test at a time: each runs its own containers, and arm64 under emulation wants both cores.
test-sam: venv
	$(CARGO) test -p local-stack --features sam --test sam -- --test-threads=1

# The fan-out end to end on the local stack with a four-hour upload (FANOUT_TEST_SECONDS) in
# the stack's default parts (FANOUT_TEST_SEGMENT): the MP3 checked as make test checks its
# 300-second one; prints the figures. About ten minutes on 2 cores; not part of make test.
FANOUT_TEST_SECONDS ?= 14400
FANOUT_TEST_SEGMENT ?= 9600
test-fanout-long: venv media-tools
	FANOUT_TEST_SECONDS=$(FANOUT_TEST_SECONDS) FANOUT_TEST_SEGMENT=$(FANOUT_TEST_SEGMENT) \
	  $(CARGO) test -p local-stack --test fanout \
	    a_long_upload_is_converted_in_parts_by_several_workers_and_joined_exactly -- --exact --nocapture

# Remakes the committed media fixtures (needs ffmpeg; tests do not).
fixtures:
	tools/fixtures/make-fixtures.sh

# Figures, not a test: speed against ffmpeg in the same run, peak RSS, output size.
bench:
	$(CARGO) build --release --quiet -p video2mp3-transcode
	$(PYTHON) tools/bench/bench.py

# What a conversion costs on Lambda: wall and CPU time per audio-hour for 1-3 encoder threads
# under the CPU share each memory size gets (a cgroup quota: needs root), GB-seconds, dollars.
bench-lambda:
	$(CARGO) build --release --quiet -p video2mp3-transcode
	$(PYTHON) tools/bench/bench_lambda.py $(BENCH_LAMBDA_ARGS)

# Each function's cold start (process start to its first /next call) and bootstrap size.
bench-init: venv
	$(CARGO) build --release --quiet -p local-stack -p login -p account -p upload-url -p jobs -p convert -p notify -p web
	$(PYTHON) tools/bench/bench_init.py $(BENCH_INIT_ARGS)

# Hour-long uploads (over 1 GB) converted through S3 on the local stack: bytes read, peak RSS.
# Uploads through the local stack in parts, one and several at once (MB/s).
bench-upload: venv
	$(CARGO) build --release --quiet -p local-stack
	$(PYTHON) tools/bench/bench_upload.py $(BENCH_UPLOAD_ARGS)

# One conversion fanned out over workers: each part's CPU and wall time, the parts' total CPU
# against one worker's, and the modelled wall time on AWS for 1 and 4 hours of audio.
bench-fanout:
	$(CARGO) build --release --quiet -p video2mp3-transcode
	$(PYTHON) tools/bench/bench_fanout.py $(BENCH_FANOUT_ARGS)

bench-stream: venv
	$(CARGO) build --release --quiet -p local-stack -p video2mp3-transcode -p convert
	$(PYTHON) tools/bench/bench_stream.py $(BENCH_STREAM_ARGS)

# libFuzzer over the whole decode->encode path, seeded with the fixtures. A crash is saved
# under shared/transcode/fuzz/artifacts: copy it to fixtures/fuzz/ so tests keep it.
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP lets the stable toolchain use them.
FUZZ_SECONDS ?= 600
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	mkdir -p shared/transcode/fuzz/corpus/transcode
	cp -n fixtures/formats/* fixtures/*.mp4 fixtures/*.wav fixtures/fuzz/* shared/transcode/fuzz/corpus/transcode/ 2>/dev/null || true
	cd shared/transcode && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run --fuzz-dir fuzz transcode fuzz/corpus/transcode -- \
		-max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=30 -max_len=262144

clean:
	$(CARGO) clean
	rm -rf $(VENV) .local out .aws-sam .bench shared/transcode/fuzz/target
