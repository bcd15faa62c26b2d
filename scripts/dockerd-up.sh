#!/usr/bin/env bash
# Make sure a Docker daemon answers. Idempotent:
#  - `docker info` works            -> nothing to do (a running daemon is left alone)
#  - a dockerd process is starting   -> wait for it
#  - otherwise                       -> start dockerd detached, logging to
#                                       $STRATA_DOCKERD_LOG, and wait for it
# Waits at most $STRATA_DOCKERD_TIMEOUT seconds (default 60), then fails with
# the tail of the daemon's log.
set -euo pipefail

# dockerd, iptables and friends live in sbin: make sure it is searched (after
# the caller's PATH, so the caller's choice of `docker` CLI still wins).
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

LOG=${STRATA_DOCKERD_LOG:-/var/log/strata-dockerd.log}
TIMEOUT=${STRATA_DOCKERD_TIMEOUT:-60}

log() { printf '[dockerd-up] %s\n' "$*"; }
die() { printf '[dockerd-up] ERROR: %s\n' "$*" >&2; exit 1; }

command -v docker >/dev/null 2>&1 || die "no docker CLI in PATH (run scripts/ensure-deps.sh)"

answers() { docker info >/dev/null 2>&1; }

if answers; then
    log "daemon already answering ($(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?')); leaving it alone"
    exit 0
fi

if [[ -n ${DOCKER_HOST:-} && ${DOCKER_HOST} != unix:///var/run/docker.sock && ${DOCKER_HOST} != unix:///run/docker.sock ]]; then
    die "DOCKER_HOST=${DOCKER_HOST} does not answer; not starting a local dockerd for a non-default host"
fi

started=0
if pgrep -x dockerd >/dev/null 2>&1; then
    log "a dockerd process exists but does not answer yet; waiting for it (not starting another)"
else
    command -v dockerd >/dev/null 2>&1 || die "dockerd not installed (run scripts/ensure-deps.sh)"
    # Docker needs cgroups; mount them if the machine booted without any.
    if ! grep -qE '^cgroup2? ' /proc/mounts && command -v cgroupfs-mount >/dev/null 2>&1; then
        log "no cgroup filesystem mounted; running cgroupfs-mount"
        cgroupfs-mount || true
    fi
    if ! { : >>"$LOG"; } 2>/dev/null; then LOG=/tmp/strata-dockerd.log; fi
    log "starting dockerd (log: $LOG)"
    # Fully detached: own session, no stdin, stdout/stderr to the log, so it
    # never holds the caller's pipes open (CI waits for EOF on those).
    setsid dockerd >>"$LOG" 2>&1 </dev/null &
    pid=$!
    started=1
fi

deadline=$((SECONDS + TIMEOUT))
until answers; do
    if ((started)) && ! kill -0 "$pid" 2>/dev/null; then
        echo "----- last 40 lines of $LOG -----" >&2
        tail -n 40 "$LOG" >&2 || true
        die "dockerd exited during startup"
    fi
    if ((SECONDS >= deadline)); then
        echo "----- last 40 lines of $LOG -----" >&2
        tail -n 40 "$LOG" >&2 || true
        die "no answer from the Docker daemon after ${TIMEOUT}s"
    fi
    sleep 1
done
log "daemon answering after $((SECONDS))s ($(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?'))"
