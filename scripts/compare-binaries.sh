#!/usr/bin/env bash
# Behaviour and speed of two strata binaries (e.g. before and after a refactoring), in one run:
#   bash scripts/compare-binaries.sh OLD_BIN NEW_BIN [ROUNDS]
# 1. reports (report json/text/sarif/markdown, report --no-findings, ci text/json/markdown) of
#    every test image (archives in target/strata-test-images, and the daemon references of
#    tests/daemon_images/README.md) and of the demo, old vs new, byte for byte;
# 2. full analysis of the light gzip benchmark image (scripts/bench.sh generates it), old and
#    new interleaved ROUNDS times (default 8): best and median wall time, best CPU time, peak RSS.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OLD=$(realpath "$1"); NEW=$(realpath "$2"); ROUNDS=${3:-8}
IMG=${STRATA_TEST_IMAGES_DIR:-$ROOT/target/strata-test-images}
BENCH=$ROOT/target/bench/bench-light-gzip.tar
OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT
mkdir -p "$OUT/old" "$OUT/new" "$OUT/cwd"; cd "$OUT/cwd"   # no .strata.toml

"$OLD" demo --write "$OUT/demo.tar" && "$NEW" demo --write "$OUT/demo-new.tar"
cmp -s "$OUT/demo.tar" "$OUT/demo-new.tar" && echo "demo archive: identical" || echo "demo archive: DIFFERS"
inputs=("$OUT/demo.tar")
for n in base layers secrets clean packages multi untagged; do
    [[ -f $IMG/$n.tar ]] && inputs+=("$IMG/$n.tar")
done
if docker info >/dev/null 2>&1; then
    for r in base:1 layers:1 secrets:1 clean:1 packages:1 multi:1 multi:latest; do
        inputs+=("strata-test/$r")
    done
    [[ -f $IMG/untagged.id ]] && inputs+=("$(cat "$IMG/untagged.id")")
fi
for i in "${inputs[@]}"; do
    key=$(echo "$i" | sed 's#.*/##; s#[/:@]#_#g')
    for side in old new; do
        bin=$OLD; [[ $side == new ]] && bin=$NEW
        for f in json text sarif markdown; do
            "$bin" report "$i" --format "$f" >"$OUT/$side/$key.$f" 2>&1; echo "exit $?" >>"$OUT/$side/$key.$f"
        done
        "$bin" report "$i" --format json --no-findings >"$OUT/$side/$key.engine.json" 2>&1
        for f in text json markdown; do
            "$bin" ci "$i" --format "$f" >"$OUT/$side/$key.ci.$f" 2>&1; echo "exit $?" >>"$OUT/$side/$key.ci.$f"
        done
    done
done
same=0; differ=0
for f in "$OUT"/old/*; do
    b=$(basename "$f")
    if cmp -s "$f" "$OUT/new/$b"; then same=$((same + 1)); else differ=$((differ + 1)); echo "differs: $b"; fi
done
echo "inputs: ${#inputs[@]}; outputs compared: $((same + differ)); identical: $same; different: $differ"

[[ -f $BENCH ]] || { echo "no $BENCH: run scripts/bench.sh once to generate it"; exit 0; }
command -v /usr/bin/time >/dev/null || apt-get install -y time >/dev/null
"$OLD" report "$BENCH" --format json >/dev/null; "$NEW" report "$BENCH" --format json >/dev/null
for r in $(seq "$ROUNDS"); do
    for side in old new; do
        bin=$OLD; [[ $side == new ]] && bin=$NEW
        /usr/bin/time -f "%e %M %U %S" -o "$OUT/t" "$bin" report "$BENCH" --format json >/dev/null
        echo "$side $(tail -1 "$OUT/t")" >>"$OUT/times"
    done
done
python3 - "$OUT/times" <<'PY'
import statistics, sys
runs = {"old": [], "new": []}
for line in open(sys.argv[1]):
    side, *v = line.split()
    runs[side].append([float(x) for x in v])
def stats(r):
    return (min(x[0] for x in r), statistics.median(x[0] for x in r),
            min(x[2] + x[3] for x in r), max(x[1] for x in r))
o, n = stats(runs["old"]), stats(runs["new"])
for name, i, unit in (("best wall", 0, "s"), ("median wall", 1, "s"), ("best CPU", 2, "s"), ("peak RSS", 3, "KB")):
    print(f"{name:12} old {o[i]:10.2f} {unit}  new {n[i]:10.2f} {unit}  new/old {n[i] / o[i]:.3f}")
PY
