#!/usr/bin/env bash
# Build the daemon test images from nothing (no registry, no pulls):
#   1. a rootfs tarball made from Debian's static busybox -> `docker import`
#      -> strata-test/base:1
#   2. tests/daemon_images/<name>/Dockerfile, FROM the base (twostage: a
#      two-stage build whose final stage is FROM strata-test/secrets:1), built
#      with the legacy builder (DOCKER_BUILDKIT=0; no buildx), --network=none
#   3. `docker save` of each image to target/strata-test-images/<name>.tar
# Expected contents of every image: tests/daemon_images/README.md.
#
# Idempotent: an image is skipped when it exists with the same recipe label
# (a hash of its build inputs, including the base image id); an archive is
# skipped when it was saved from the current image id.
#   --force   rebuild every image (no build cache) and re-save every archive
#
# Needs: a Docker daemon that answers (scripts/dockerd-up.sh) and
# /bin/busybox from busybox-static (scripts/ensure-deps.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC=$ROOT/tests/daemon_images
OUT=$ROOT/target/strata-test-images
FORCE=0
for arg in "$@"; do
    case $arg in
        --force) FORCE=1 ;;
        -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

export DOCKER_BUILDKIT=0
# Bump when the recipe logic below changes in a way the hashed inputs miss.
RECIPE_VERSION=1
LABEL_NAME=org.strata.test.name
LABEL_RECIPE=org.strata.test.recipe
BASE_REF=strata-test/base:1
# A fixed mtime for every entry of the base rootfs tarball.
BASE_MTIME=1700000000

# name -> space-separated refs ("" = untagged). Built in this order.
IMAGES=(layers secrets clean packages multi untagged twostage)
declare -A REFS=(
    [layers]="strata-test/layers:1"
    [secrets]="strata-test/secrets:1"
    [clean]="strata-test/clean:1"
    [packages]="strata-test/packages:1"
    [multi]="strata-test/multi:1 strata-test/multi:latest"
    [untagged]=""
    [twostage]="strata-test/twostage:1"
)

log() { printf '[test-images] %s\n' "$*"; }
die() { printf '[test-images] ERROR: %s\n' "$*" >&2; exit 1; }

docker info >/dev/null 2>&1 || die "no Docker daemon answers (run scripts/dockerd-up.sh)"
# The rootfs has no libc: only a statically linked busybox runs in it.
static_busybox() {
    [[ -x /bin/busybox ]] || return 1
    if command -v file >/dev/null 2>&1; then
        file -L /bin/busybox | grep -q 'statically linked'
    else
        dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'
    fi
}
static_busybox || die "/bin/busybox is missing or not static (apt-get install busybox-static)"
mkdir -p "$OUT"

if docker info -f '{{json .DriverStatus}}' 2>/dev/null | grep -q '"Native Overlay Diff","false"'; then
    log "WARNING: overlay2 'Native Overlay Diff' is false: layer diffs are computed naively and"
    log "WARNING: opaque directories show up as per-file whiteouts, not .wh..wh..opq (README facts differ)"
fi

sha() { sha256sum | cut -c1-64; }

STAGE=""
OLD_BASE_ID=""
cleanup() { if [[ -n $STAGE ]]; then rm -rf "$STAGE"; fi; }
trap cleanup EXIT

# Hash of a build context: paths, modes and contents of every file in it.
context_hash() {
    (
        cd "$1"
        find . -printf '%P %y %m\n' | LC_ALL=C sort
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
    ) | sha
}

image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }
image_label() { docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true; }

# Remove image $1 if it is not $2 and has no tag left (`docker rmi` then
# also prunes its untagged parents that nothing else uses).
remove_if_dangling() {
    [[ -n $1 && $1 != "$2" ]] || return 0
    [[ $(docker image inspect -f '{{len .RepoTags}}' "$1" 2>/dev/null) == 0 ]] || return 0
    docker rmi "$1" >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------- base
build_base() {
    local recipe stage tarball id
    recipe=$({
        echo "base v$RECIPE_VERSION mtime=$BASE_MTIME"
        sha256sum </bin/busybox
        context_hash "$SRC/base"
    } | sha)
    id=$(image_id "$BASE_REF")
    OLD_BASE_ID=$id
    if ((!FORCE)) && [[ -n $id && $(image_label "$BASE_REF" "$LABEL_RECIPE") == "$recipe" ]]; then
        log "base: up to date ($BASE_REF ${id:7:12})"
        return 0
    fi
    log "base: building rootfs from /bin/busybox ($(/bin/busybox | head -n1 | cut -d' ' -f1-2))"
    stage=$(mktemp -d)
    STAGE=$stage
    mkdir -p "$stage/rootfs"/{bin,etc,home/app,root,tmp}
    local r=$stage/rootfs
    cp /bin/busybox "$r/bin/busybox"
    local applet
    for applet in $(/bin/busybox --list); do
        [[ $applet == busybox ]] && continue
        ln -s busybox "$r/bin/$applet"
    done
    cp "$SRC/base/rootfs/etc/passwd" "$SRC/base/rootfs/etc/group" "$r/etc/"
    chmod 0755 "$r" "$r/bin" "$r/etc" "$r/home" "$r/home/app" "$r/bin/busybox"
    chmod 0644 "$r/etc/passwd" "$r/etc/group"
    chmod 0700 "$r/root"
    chmod 1777 "$r/tmp"
    chown -R 0:0 "$r"
    chown 1000:1000 "$r/home/app"
    tarball=$stage/base-rootfs.tar
    tar --sort=name --mtime="@$BASE_MTIME" --numeric-owner --format=gnu \
        -C "$r" -cf "$tarball" bin etc home root tmp
    docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["/bin/sh"]' \
        --change "LABEL $LABEL_NAME=base $LABEL_RECIPE=$recipe" \
        --message "strata-test base rootfs (static busybox)" \
        "$tarball" "$BASE_REF" >/dev/null
    rm -rf "$stage"
    STAGE=""
    log "base: imported $BASE_REF $(image_id "$BASE_REF" | cut -c8-19)"
}

# ---------------------------------------------------------------- Dockerfile images
# Prints the id of the existing, up-to-date image for $name, or nothing.
current_image() {
    local name=$1 recipe=$2 refs=${REFS[$1]} ref id first=""
    if [[ -z $refs ]]; then
        # Untagged: find it by its labels; it must still carry no tag.
        for id in $(docker images -a -q --no-trunc \
            --filter "label=$LABEL_NAME=$name" --filter "label=$LABEL_RECIPE=$recipe"); do
            if [[ $(docker image inspect -f '{{len .RepoTags}}' "$id") == 0 ]]; then
                echo "$id"
                return 0
            fi
        done
        return 0
    fi
    for ref in $refs; do
        id=$(image_id "$ref")
        [[ -n $id ]] || return 0
        [[ $(image_label "$ref" "$LABEL_RECIPE") == "$recipe" ]] || return 0
        [[ -z $first || $first == "$id" ]] || return 0
        first=$id
    done
    echo "$first"
}

build_one() {
    local name=$1 ctx=$SRC/$1 base_id recipe id blog ref
    local -a tag_args=() cache_args=()
    [[ -f $ctx/Dockerfile ]] || die "$ctx/Dockerfile not found"
    base_id=$(image_id "$BASE_REF")
    recipe=$({
        echo "image v$RECIPE_VERSION $name refs=${REFS[$name]}"
        echo "$base_id"
        # Every other test image a stage starts FROM (a multi-stage build may).
        local from
        for from in $(awk 'toupper($1) == "FROM" { print $2 }' "$ctx/Dockerfile"); do
            [[ $from == "$BASE_REF" ]] || image_id "$from"
        done
        context_hash "$ctx"
    } | sha)
    id=""
    ((FORCE)) || id=$(current_image "$name" "$recipe")
    if [[ -n $id ]]; then
        log "$name: up to date (${id:7:12})"
    else
        local -a old_ids=()
        for ref in ${REFS[$name]}; do
            tag_args+=(-t "$ref")
            old_ids+=("$(image_id "$ref")")
        done
        ((FORCE)) && cache_args=(--no-cache)
        blog=$OUT/$name.build.log
        log "$name: building (log: ${blog#"$ROOT"/})"
        if ! docker build "${cache_args[@]}" --force-rm --network=none \
            --label "$LABEL_NAME=$name" --label "$LABEL_RECIPE=$recipe" \
            --iidfile "$OUT/$name.iid" "${tag_args[@]}" "$ctx" >"$blog" 2>&1; then
            echo "----- last 40 lines of $blog -----" >&2
            tail -n 40 "$blog" >&2
            die "$name: docker build failed"
        fi
        id=$(<"$OUT/$name.iid")
        rm -f "$OUT/$name.iid"
        # The legacy builder leaves each earlier stage's result behind untagged: drop it (its
        # last step's id is the last ` ---> ID` before the next stage's FROM).
        local stage_id
        for stage_id in $(awk '/^Step [0-9]+\/[0-9]+ : FROM/ { if (last != "") print last } / ---> [0-9a-f]+$/ { last = $2 }' "$blog"); do
            remove_if_dangling "$stage_id" "$id"
        done
        # A rebuild leaves the previous image behind untagged (<none>), which
        # would show up in image lists as a stray dangling image: drop it.
        local old
        for old in "${old_ids[@]}" $(docker images -q --no-trunc --filter dangling=true --filter "label=$LABEL_NAME=$name"); do
            remove_if_dangling "$old" "$id"
        done
        log "$name: built ${id:7:12}"
    fi
    printf '%s\n' "$id" >"$OUT/$name.id"
}

# ---------------------------------------------------------------- archives
save_one() {
    local name=$1 id refs tar=$OUT/$1.tar
    id=$(<"$OUT/$name.id")
    if [[ $name == base ]]; then refs=$BASE_REF; else refs=${REFS[$name]}; fi
    if ((!FORCE)) && [[ -f $tar && -f $tar.id && $(<"$tar.id") == "$id" ]]; then
        return 0
    fi
    rm -f "$tar.id"
    # Saving by ref records the tag(s) in manifest.json; by id records none.
    # shellcheck disable=SC2086
    docker save -o "$tar.partial" ${refs:-$id}
    mv "$tar.partial" "$tar"
    printf '%s\n' "$id" >"$tar.id"
    log "$name: saved ${tar#"$ROOT"/} ($(stat -c %s "$tar") bytes)"
}

# ---------------------------------------------------------------- main
build_base
image_id "$BASE_REF" >"$OUT/base.id"
for name in "${IMAGES[@]}"; do build_one "$name"; done
# The previous base, once re-imported, goes when its last child went.
remove_if_dangling "$OLD_BASE_ID" "$(<"$OUT/base.id")"
for name in base "${IMAGES[@]}"; do save_one "$name"; done

# Machine-readable index for the tests.
{
    printf '{\n  "daemon_version": "%s",\n  "images": [\n' "$(docker version -f '{{.Server.Version}}')"
    sep=""
    for name in base "${IMAGES[@]}"; do
        if [[ $name == base ]]; then refs=$BASE_REF; else refs=${REFS[$name]}; fi
        json_refs=""
        for ref in $refs; do json_refs+="${json_refs:+, }\"$ref\""; done
        printf '%s    {"name": "%s", "refs": [%s], "id": "%s", "archive": "%s.tar"}' \
            "$sep" "$name" "$json_refs" "$(<"$OUT/$name.id")" "$name"
        sep=$',\n'
    done
    printf '\n  ]\n}\n'
} >"$OUT/images.json"

echo
log "summary (archives and ids in ${OUT#"$ROOT"/}/, index: images.json)"
printf '  %-9s %-14s %6s %10s  %s\n' NAME ID LAYERS SIZE REFS
for name in base "${IMAGES[@]}"; do
    id=$(<"$OUT/$name.id")
    if [[ $name == base ]]; then refs=$BASE_REF; else refs=${REFS[$name]}; fi
    printf '  %-9s %-14s %6s %10s  %s\n' "$name" "${id:7:12}" \
        "$(docker image inspect -f '{{len .RootFS.Layers}}' "$id")" \
        "$(docker image inspect -f '{{.Size}}' "$id")" "${refs:-<none>}"
done
