#!/usr/bin/env bash
# Benchmark (not a test): strata reading a ~600 MB image from the Docker daemon vs the daemon's
# own sending speed (`docker save IMAGE > /dev/null`), and the time to the first layer list.
#   bash scripts/bench-daemon.sh [RUNS]     (default 3; best of RUNS is reported)
# Builds strata-bench/daemon-600m:1 FROM strata-test/base:1 (three RUN layers of 200 MiB of
# random bytes, legacy builder, no network) and removes it at the end (--keep to keep it).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RUNS=3
KEEP=0
for arg in "$@"; do
    case $arg in
        --keep) KEEP=1 ;;
        [0-9]*) RUNS=$arg ;;
        *) echo "usage: $0 [RUNS] [--keep]" >&2; exit 2 ;;
    esac
done
IMG=strata-bench/daemon-600m:1

docker info >/dev/null 2>&1 || { echo "no Docker daemon: run scripts/dockerd-up.sh" >&2; exit 1; }
docker image inspect strata-test/base:1 >/dev/null 2>&1 \
    || { echo "strata-test/base:1 missing: run scripts/build-test-images.sh" >&2; exit 1; }
cargo build --release --bin strata --example daemon_timing 2>&1 | tail -1
STRATA=$ROOT/target/release/strata
TIMING=$ROOT/target/release/examples/daemon_timing

cleanup() { ((KEEP)) || docker rmi "$IMG" >/dev/null 2>&1 || true; }
trap cleanup EXIT

if ! docker image inspect "$IMG" >/dev/null 2>&1; then
    ctx=$(mktemp -d)
    cat >"$ctx/Dockerfile" <<'EOF'
FROM strata-test/base:1
RUN head -c 209715200 /dev/urandom > /big-1.bin
RUN head -c 209715200 /dev/urandom > /big-2.bin
RUN head -c 209715200 /dev/urandom > /big-3.bin
EOF
    echo "building $IMG (600 MiB of random data)..."
    DOCKER_BUILDKIT=0 docker build -q --network=none -t "$IMG" "$ctx" >/dev/null
    rm -rf "$ctx"
fi
echo "image: $IMG, daemon size $(docker image inspect -f '{{.Size}}' "$IMG") bytes;" \
    "$(docker version -f '{{.Server.Version}}') on $(nproc) cores; best of $RUNS"

best() { sort -n | head -1; }
secs() { local s; s=$(date +%s.%N); "$@" >/dev/null; awk "BEGIN{printf \"%.3f\n\", $(date +%s.%N) - $s}"; }

save=$(for _ in $(seq "$RUNS"); do secs docker save "$IMG"; done | best)
report=$(for _ in $(seq "$RUNS"); do secs "$STRATA" report "$IMG" --format json; done | best)
engine=$(for _ in $(seq "$RUNS"); do secs "$STRATA" report "$IMG" --format json --no-findings; done | best)
tar_bytes=$(docker save "$IMG" | wc -c)
rate() { awk "BEGIN{printf \"%.0f\", $tar_bytes/1e6/$1}"; }
echo "docker save > /dev/null                    ${save} s  ($(rate "$save") MB/s of ${tar_bytes} bytes)"
echo "strata report --format json                ${report} s  ($(rate "$report") MB/s; $(awk "BEGIN{printf \"%.2f\", $report/$save}")x docker save)"
echo "strata report --format json --no-findings  ${engine} s  ($(rate "$engine") MB/s; $(awk "BEGIN{printf \"%.2f\", $engine/$save}")x docker save)"
# The daemon's own pace: time to first byte and total for the raw export endpoint.
sock=${DOCKER_HOST:-unix:///var/run/docker.sock}
if [[ $sock == unix://* ]]; then
    api=$(docker version -f '{{.Server.APIVersion}}')
    echo "raw export (curl), first byte / total s:"
    for _ in $(seq "$RUNS"); do
        curl -s --unix-socket "${sock#unix://}" -o /dev/null -w '  %{time_starttransfer} / %{time_total}\n' \
            "http://docker/v$api/images/$IMG/get"
    done
fi
echo "phases (library load, each run):"
for _ in $(seq "$RUNS"); do "$TIMING" "$IMG"; done
