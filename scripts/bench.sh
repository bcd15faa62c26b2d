#!/usr/bin/env bash
# Benchmark (not a test): strata report vs dive 0.13.1 on a generated image of >= 200k files and
# ~1 GB of file bytes, uncompressed and gzip. Reports wall time (best of N) and peak RSS (max of
# N) for each, and ratios against dive measured in the same run.
#   bash scripts/bench.sh [RUNS]        (default 3; images are generated once into target/bench)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RUNS=${1:-3}
OUT=$ROOT/target/bench
bash scripts/bench-deps.sh >/dev/null
command -v /usr/bin/time >/dev/null || apt-get install -y time >/dev/null
cargo build --release --bin strata --example bench_image --example inflate_limit 2>&1 | tail -1
[[ -f $OUT/bench-light-gzip.tar ]] || target/release/examples/bench_image "$OUT"
STRATA=$ROOT/target/release/strata

RESULTS=$OUT/results.txt
# shellcheck source=scripts/lib/measure.sh
source "$ROOT/scripts/lib/measure.sh"

: >"$OUT/results.txt"
echo "images: $(du -h "$OUT/bench-plain.tar" | cut -f1) plain, $(du -h "$OUT/bench-gzip.tar" | cut -f1) gzip; runs=$RUNS, cores=$(nproc)"
"$STRATA" report "$OUT/bench-plain.tar" --format json | python3 -c 'import json,sys; r=json.load(sys.stdin); print("layers", len(r["layers"]), "entries", sum(l["entries"] for l in r["layers"]), "file bytes", r["efficiency"]["total_bytes"], "reclaimable", r["efficiency"]["reclaimable_bytes"])'
# The light image (35 whiteouts) is where dive finishes in seconds: the fair comparison.
for kind in light-plain light-gzip plain gzip; do
    img=$OUT/bench-$kind.tar
    measure "strata-full/$kind" "$STRATA" report "$img" --format json
    measure "strata-engine/$kind" "$STRATA" report "$img" --format json --no-findings
done
for kind in light-plain light-gzip; do
    measure "dive/$kind" dive --ci --source docker-archive "$OUT/bench-$kind.tar"
done
# dive's whiteout handling is O(whiteouts x files): one run each on the heavy image, capped.
if [[ ${BENCH_HEAVY_DIVE:-1} == 1 ]]; then
    RUNS=1 measure "dive/plain" timeout 1200 dive --ci --source docker-archive "$OUT/bench-plain.tar"
    RUNS=1 measure "dive/gzip" timeout 1200 dive --ci --source docker-archive "$OUT/bench-gzip.tar"
fi
limit=$(target/release/examples/inflate_limit "$OUT/bench-gzip.tar")
echo "gzip limit: read+inflate all layers on all cores, inflate only: $limit (seconds)"
python3 - "$OUT/results.txt" "${limit%% *}" <<'PY'
import sys
rows = {k: (float(w), int(r)) for k, w, r in (l.split() for l in open(sys.argv[1]))}
limit = float(sys.argv[2])
print("\nratios in this run:")
for kind in ("light-plain", "light-gzip", "plain", "gzip"):
    if f"dive/{kind}" not in rows:
        continue
    dw, dr = rows[f"dive/{kind}"]
    for tool in ("strata-engine", "strata-full"):
        w, r = rows[f"{tool}/{kind}"]
        print(f"  {tool}/{kind}: wall {w/dw:.2f}x dive, peak RSS {r/dr:.2f}x dive")
for kind in ("light-plain", "light-gzip", "plain", "gzip"):
    fw, _ = rows[f"strata-full/{kind}"]
    ew, _ = rows[f"strata-engine/{kind}"]
    print(f"  full analysis / engine alone ({kind}): {fw/ew:.2f}x")
ew, _ = rows["strata-engine/gzip"]
print(f"  strata-engine/gzip vs gzip inflate limit: {ew/limit:.2f}x")
PY
