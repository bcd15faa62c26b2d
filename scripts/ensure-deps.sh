#!/usr/bin/env bash
# Install the Debian packages the daemon-backed tests need, only if missing:
#   docker.io      -> dockerd (20.10 on Debian 12) + containerd + runc
#   busybox-static -> /bin/busybox, the only binary in the test images' rootfs
#   tmux           -> driving the TUI in tests
#   podman         -> a Podman API socket, to test strata against it via DOCKER_HOST
#   docker-registry -> distribution 2.8, the registry the registry-source tests start
#   skopeo         -> pushes the test images into those registries
#   openssl        -> makes the test CA and certificates (TLS and token auth)
#   apache2-utils  -> htpasswd, for the basic-auth registry
#   rpm, db5.3-util, golang-go, npm, binutils, python3-pip
#                  -> the package tools tests/sbom.rs builds root filesystems with, installed
#                     without their Recommends (compilers, git, node-tap: not needed here)
# and, from PyPI, check-jsonschema (SARIF schema validation in tests/ci_gate.rs).
# Runs `apt-get update` at most once, and only when something is missing.
set -euo pipefail

# dockerd, iptables and friends live in sbin: make sure it is searched (after
# the caller's PATH, so the caller's choice of `docker` CLI still wins).
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

log() { printf '[ensure-deps] %s\n' "$*"; }

# check-jsonschema (PyPI) validates strata's SARIF, CycloneDX and SPDX output against the
# official schemas (tests/ci_gate.rs, tests/sbom.rs); under STRATA_TEST_REAL=1 those tests fail
# without it. Debian 12's python is "externally managed" (PEP 668), hence the second attempt.
ensure_jsonschema() {
    if command -v check-jsonschema >/dev/null 2>&1 \
        || python3 -m check_jsonschema --version >/dev/null 2>&1; then
        return 0
    fi
    log "installing check-jsonschema (pip)"
    local pip=(python3 -m pip install --quiet --disable-pip-version-check)
    if "${pip[@]}" check-jsonschema || "${pip[@]}" --break-system-packages check-jsonschema; then
        command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
    else
        log "could not install check-jsonschema: the schema tests will fail under CI" >&2
    fi
}

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
# busybox-static specifically: the Debian `busybox` package is dynamically
# linked and would not run inside a rootfs that has no libc.
if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
    missing+=(busybox-static)
fi
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
# The package tools tests/sbom.rs builds its root filesystems with (issue 14). Jars are
# assembled in the `jar` tool's layout by Python, so no JDK.
tools=()
command -v dpkg-deb >/dev/null 2>&1 || tools+=(dpkg)
command -v rpmbuild >/dev/null 2>&1 || tools+=(rpm)
command -v db5.3_load >/dev/null 2>&1 || tools+=(db5.3-util)
command -v go >/dev/null 2>&1 || tools+=(golang-go)
command -v npm >/dev/null 2>&1 || tools+=(npm)
command -v objcopy >/dev/null 2>&1 || tools+=(binutils)
python3 -m pip --version >/dev/null 2>&1 || tools+=(python3-pip)

if ((${#missing[@]} + ${#tools[@]} == 0)); then
    log "all present: dockerd, busybox-static, tmux, podman, docker-registry, skopeo, openssl, htpasswd, package tools"
    ensure_jsonschema
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    log "missing packages: ${missing[*]} ${tools[*]} (need root to install them)" >&2
    exit 1
fi

log "installing: ${missing[*]} ${tools[*]}"
export DEBIAN_FRONTEND=noninteractive
for attempt in 1 2 3; do
    if apt-get update -qq; then break; fi
    if ((attempt == 3)); then log "apt-get update failed 3 times" >&2; exit 1; fi
    sleep 5
done
if ((${#missing[@]} > 0)); then
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ((${#tools[@]} > 0)); then
    apt-get install -y -qq --no-install-recommends "${tools[@]}" >/dev/null
fi
command -v dockerd >/dev/null 2>&1 || { log "dockerd still missing after install" >&2; exit 1; }
[[ -x /bin/busybox ]] || { log "/bin/busybox still missing after install" >&2; exit 1; }
for tool in docker-registry skopeo htpasswd; do
    command -v "$tool" >/dev/null 2>&1 || { log "$tool still missing after install" >&2; exit 1; }
done
log "installed: ${missing[*]} ${tools[*]}"
ensure_jsonschema
