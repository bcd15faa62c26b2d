#!/usr/bin/env bash
# Benchmark (not a test) of the secret scan on the benchmark image (scripts/bench.sh's
# generated image, >= 200k files): `strata report --format json` with findings and with
# `--no-findings`, for an OLD strata binary and this tree's release build, interleaved so that
# load from elsewhere hits both alike. The scan's cost is the difference of the two; the
# script prints the best wall time of each and the ratios new/old.
#   bash scripts/bench-secrets.sh OLD_STRATA [RUNS]     (default 5 runs)
# STRATA_NEW=BINARY compares that binary instead of building this tree.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OLD=${1:?usage: bench-secrets.sh OLD_STRATA [RUNS]}
RUNS=${2:-5}
OUT=$ROOT/target/bench
REL=${CARGO_TARGET_DIR:-$ROOT/target}/release
if [[ -z ${STRATA_NEW:-} ]] || [[ ! -x $REL/examples/bench_image ]]; then
    cargo build --release --bin strata --example bench_image 2>&1 | tail -1
fi
[[ -f $OUT/bench-plain.tar ]] || "$REL/examples/bench_image" "$OUT"
NEW=${STRATA_NEW:-$REL/strata}
IMG=$OUT/bench-plain.tar

wall() { # CMD... -> seconds
    local s e
    s=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    e=$(date +%s.%N)
    awk "BEGIN{printf \"%.3f\", $e - $s}"
}

declare -A best
for key in old-full old-engine new-full new-engine; do best[$key]=999999; done
keep() { awk "BEGIN{exit !($2 < ${best[$1]})}" && best[$1]=$2 || true; }
"$NEW" report "$IMG" --format json >/dev/null # warm the page cache
for _ in $(seq "$RUNS"); do
    keep old-full "$(wall "$OLD" report "$IMG" --format json)"
    keep new-full "$(wall "$NEW" report "$IMG" --format json)"
    keep old-engine "$(wall "$OLD" report "$IMG" --format json --no-findings)"
    keep new-engine "$(wall "$NEW" report "$IMG" --format json --no-findings)"
done
for key in old-full new-full old-engine new-engine; do
    printf '%-11s %8.3f s (best of %s)\n' "$key" "${best[$key]}" "$RUNS"
done
awk -v of="${best[old-full]}" -v nf="${best[new-full]}" -v oe="${best[old-engine]}" \
    -v ne="${best[new-engine]}" 'BEGIN {
        printf "full analysis new/old: %.2fx\n", nf / of
        printf "findings pass (full - engine) new/old: %.2fx (%.3f s vs %.3f s)\n", \
            (nf - ne) / (of - oe), nf - ne, of - oe
    }'
