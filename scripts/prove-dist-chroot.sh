#!/usr/bin/env bash
# The proof that a dist folder runs on a bare Debian 12 without the Swift toolchain or any -dev
# package: debootstrap a minimal bookworm root, install into it only the packages of the
# folder's RUNTIME-DEPS (with the folder's install-runtime-deps.sh, as the Containerfile does),
# copy the folder in as /opt/gar, and run inside the chroot
#   gar --version
#   gar probe samples/clips/ball.mp4
#   gar track samples/clips/ball.mp4 --mask samples/masks/ball_f0.png --out ...
#   gar caption samples/clips/ball.mp4 --model Tests/Fixtures/gar-tiny --mask samples/masks/ball_f0.png --json
# (the README main job; the sample clip, mask and tiny checkpoint are copied in for the run).
# Any missing library, failed command or malformed answer fails the proof (exit 1).
#
# Usage (as root): scripts/prove-dist-chroot.sh [DIST_DIR]
#   DIST_DIR defaults to the dist/gar-*-linux-<arch>/ folder (scripts/make-dist.sh is run when
#   there is none). Run before each release; .ci/run runs it when CI_FULL=1 and debootstrap
#   is installed.
# Environment:
#   GAR_CHROOT_CACHE  folder for the debootstrapped root's tarball, reused by later runs
#                     (default /var/cache/gar-dist-proof; delete it to start afresh)
#   DEBIAN_MIRROR     default: the Debian mirror of this machine's apt sources
# Needs: debootstrap, root (chroot, mount).
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "prove: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "run as root (debootstrap, chroot and mount need it)"
command -v debootstrap >/dev/null || fail "debootstrap not found (apt-get install debootstrap)"

dist=${1:-}
if [ -z "$dist" ]; then
    shopt -s nullglob
    found=(dist/gar-*-linux-"$(uname -m)"/)
    shopt -u nullglob
    if ((${#found[@]} == 0)); then
        scripts/make-dist.sh >/dev/null
        found=(dist/gar-*-linux-"$(uname -m)"/)
    fi
    ((${#found[@]} == 1)) || fail "several dist folders (${found[*]}); name one"
    dist=${found[0]}
fi
dist=${dist%/}
{ [ -x "$dist/bin/gar" ] && [ -s "$dist/RUNTIME-DEPS" ]; } || fail "$dist: not a dist folder (no bin/gar or RUNTIME-DEPS)"

# The mirror this machine's apt uses (one-line or deb822 sources), else Debian's own.
sources() { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v '^ *#' || true; }
mirror=${DEBIAN_MIRROR:-$(sources | grep -oE 'https?://[^ ]+/debian/?( |$)' | head -n 1 | tr -d ' ')}
mirror=${mirror:-http://deb.debian.org/debian}
security=$(sources | grep -oE 'https?://[^ ]+/debian-security/?( |$)' | head -n 1 | tr -d ' ')
security=${security:-${mirror%/}-security}

cache=${GAR_CHROOT_CACHE:-/var/cache/gar-dist-proof}
base="$cache/bookworm-minbase-$(dpkg --print-architecture).tar.gz"
work=$(mktemp -d /tmp/gar-dist-proof.XXXXXX)
root="$work/root"
cleanup() {
    for m in dev proc sys; do mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"; done
    rm -rf --one-file-system "$work"    # never into a mount that is somehow still there
}
trap cleanup EXIT

start=$(date +%s)
mkdir -p "$root"
if [ -s "$base" ]; then
    echo "prove: bare Debian 12 root from the cache $base"
    tar -C "$root" -xzf "$base"
else
    echo "prove: debootstrap --variant=minbase bookworm from $mirror"
    debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
        { tail -n 20 "$work/debootstrap.log" >&2; fail "debootstrap failed"; }
    mkdir -p "$cache"
    tar -C "$root" -czf "$base.tmp" . && mv "$base.tmp" "$base"
fi
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"

in_root() { chroot "$root" /usr/bin/env -i PATH=/opt/gar/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

packages_before=$(in_root dpkg-query -W -f '.\n' | wc -l)
mkdir -p "$root/opt"
cp -R "$dist" "$root/opt/gar"
echo "prove: installing RUNTIME-DEPS: $(tr '\n' ' ' <"$dist/RUNTIME-DEPS")"
in_root /opt/gar/install-runtime-deps.sh >"$work/apt.log" 2>&1 ||
    { tail -n 20 "$work/apt.log" >&2; fail "installing RUNTIME-DEPS failed"; }
packages_after=$(in_root dpkg-query -W -f '.\n' | wc -l)

# The root must not have the toolchain or development files: gar has to do without them.
for tool in swift swiftc clang gcc cc; do
    ! in_root sh -c "command -v $tool" >/dev/null || fail "the chroot has $tool; not a bare root"
done
# shellcheck disable=SC2016 # ${Package} is dpkg-query's format, not the shell's
dev=$(in_root dpkg-query -W -f '${Package}\n' | grep -- '-dev$' || true)
[ -z "$dev" ] || fail "the chroot has -dev packages: $dev"

missing=$(in_root ldd /opt/gar/bin/gar | grep 'not found' || true)
[ -z "$missing" ] || fail "missing libraries: $missing"

# The inputs of the README main job, at the same relative paths, in a fresh working folder.
mkdir -p "$root/work/samples/clips" "$root/work/samples/masks" "$root/work/Tests/Fixtures"
cp samples/clips/ball.mp4 "$root/work/samples/clips/"
cp samples/masks/ball_f0.png "$root/work/samples/masks/"
cp -R Tests/Fixtures/gar-tiny "$root/work/Tests/Fixtures/"

# gar runs as an unprivileged user, as in the container image (uid 10001).
chown -R 10001:10001 "$root/work"
step() { # step NAME COMMAND... : run in the chroot from /work as uid 10001, output in $work/NAME.out
    local name=$1; shift
    local t0; t0=$(date +%s%N)
    if ! chroot --userspec=10001:10001 "$root" /usr/bin/env -i PATH=/opt/gar/bin:/usr/bin:/bin HOME=/work \
            LANG=C.UTF-8 sh -c 'cd /work && exec "$@"' sh "$@" >"$work/$name.out" 2>"$work/$name.err"; then
        cat "$work/$name.err" >&2
        fail "$name: gar $* exited non-zero"
    fi
    printf 'prove: ok   %-8s %6d ms  %s\n' "$name" $(( ($(date +%s%N) - t0) / 1000000 )) "$*"
}
step version gar --version
step probe gar probe samples/clips/ball.mp4
step track gar track samples/clips/ball.mp4 --mask samples/masks/ball_f0.png --out /work/track --quiet
step caption gar caption samples/clips/ball.mp4 --model Tests/Fixtures/gar-tiny \
    --mask samples/masks/ball_f0.png --json

[ "$(cat "$work/version.out")" = "$("$dist/bin/gar" --version)" ] || fail "version: unexpected output"
grep -q . "$work/probe.out" || fail "probe: no output"
for f in masks.json overlay.mp4 contact_sheet.png masks/00000.png; do
    [ -s "$root/work/track/$f" ] || fail "track: no $f in its --out folder"
done
tracked="$(find "$root/work/track" -type f | wc -l) files (masks.json, overlay.mp4, contact_sheet.png, mask PNGs)"
grep -q '"schema" *: *"gar-video-answer-1"' "$work/caption.out" || fail "caption: no gar-video-answer-1 JSON"
grep -q '"rle"' "$work/caption.out" || fail "caption: no masks in the answer"
# The same answer as the same binary gives on this machine (byte for byte, timings aside).
"$dist/bin/gar" caption samples/clips/ball.mp4 --model Tests/Fixtures/gar-tiny \
    --mask samples/masks/ball_f0.png --json >"$work/caption.host" 2>/dev/null || fail "caption: failed on this machine"
no_timings() { sed -E 's/"timings" *: *\{[^}]*\}//g' "$1"; }
cmp -s <(no_timings "$work/caption.out") <(no_timings "$work/caption.host") ||
    fail "caption: the answer in the chroot differs from the one on this machine"

echo "prove: PASS in $(( $(date +%s) - start )) s: $dist ($(du -sh "$dist/bin/gar" | cut -f1) binary) on debootstrap minbase" \
     "bookworm ($packages_before packages) + RUNTIME-DEPS ($packages_after packages in all, no toolchain, no -dev);" \
     "as uid 10001; track wrote $tracked; the caption JSON equals this machine's (timings aside)"
