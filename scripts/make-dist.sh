#!/usr/bin/env bash
# Builds a relocatable release of gar and packs it:
#
#   dist/gar-<version>-linux-<arch>/
#     bin/gar                   release build, Swift runtime linked in (--static-swift-stdlib)
#     pipelines/                the YAML specs and the Kubernetes / Slurm examples
#     models/gar-shapes-demo/   the demo model, when the repository has it
#     RUNTIME-DEPS              the Debian 12 packages that provide the shared libraries gar links
#     install-runtime-deps.sh   apt-get installs RUNTIME-DEPS (used by the Containerfile and the chroot proof too)
#     README.md                 how to install and run; licence notices
#   dist/gar-<version>-linux-<arch>.tar.gz
#
# RUNTIME-DEPS is derived, not typed: every NEEDED entry of bin/gar (objdump -p) is resolved to
# a file (ldd) and that file to the Debian package that owns it (dpkg -S). A library that no
# package owns (e.g. the toolchain's libswiftCore.so) is an error: the binary must run without
# the toolchain. Apt pulls in the indirect dependencies of the listed packages.
#
# The build goes to its own scratch folder, .build-dist/ (--static-swift-stdlib compiles every
# module differently: sharing .build/ would make the next `swift build -c release` start over).
# Usage: scripts/make-dist.sh [--no-build]
#   --no-build   package the existing .build-dist/release/gar
# Needs: swift (unless --no-build), objdump and strip (binutils), ldd, dpkg.
# Prints the folder's path on stdout (the rest goes to stderr).
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
for arg in "$@"; do
    case "$arg" in
        --no-build) build=0 ;;
        -h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown option $arg (usage: scripts/make-dist.sh [--no-build])" >&2; exit 64 ;;
    esac
done

for tool in objdump strip ldd dpkg; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found (install binutils / dpkg)" >&2; exit 1; }
done

if ((build)); then
    echo "dist: swift build -c release --product gar --static-swift-stdlib --scratch-path .build-dist" >&2
    swift build -c release --product gar --static-swift-stdlib --scratch-path .build-dist >&2
fi
binary=.build-dist/release/gar
[ -x "$binary" ] || { echo "error: $binary: not found (build it, or drop --no-build)" >&2; exit 1; }

# --- RUNTIME-DEPS: NEEDED sonames -> files -> Debian packages ---------------------------------
ldd_out=$(ldd "$binary")
packages=() sonames=()
while read -r soname; do
    # ldd lines: "libavcodec.so.59 => /lib/x86_64-linux-gnu/libavcodec.so.59 (0x...)", and
    # for the dynamic loader "/lib64/ld-linux-x86-64.so.2 (0x...)"
    file=$(awk -v so="$soname" '$1 == so && $2 == "=>" { print $3 }
                                 substr($1, length($1) - length(so)) == "/" so { print $1 }' <<<"$ldd_out" | head -n 1)
    if [ -z "$file" ] || [ "$file" = "not" ]; then
        echo "error: $binary needs $soname, which is not found on this machine" >&2; exit 1
    fi
    # The owner of the file, or of the file a symlink (e.g. Debian alternatives) points to;
    # with merged /usr a file may be registered under /lib or /usr/lib.
    owner=""
    for candidate in "$file" "$(readlink -f "$file")"; do
        for path in "$candidate" "/usr${candidate#/usr}" "${candidate#/usr}"; do
            owner=$(dpkg -S "$path" 2>/dev/null | grep -v '^diversion' | head -n 1 | cut -d: -f1) && [ -n "$owner" ] && break 2
        done
    done
    if [ -z "$owner" ]; then
        echo "error: $binary needs $soname ($file), which no Debian package provides;" \
             "is it the Swift toolchain's? build with --static-swift-stdlib" >&2
        exit 1
    fi
    echo "dist: $soname -> $file -> $owner" >&2
    packages+=("$owner") sonames+=("$soname")
done < <(objdump -p "$binary" | awk '$1 == "NEEDED" { print $2 }')
((${#packages[@]})) || { echo "error: objdump found no NEEDED entry in $binary" >&2; exit 1; }

# --- the folder --------------------------------------------------------------------------------
version=$("$binary" --version)
name="gar-$version-linux-$(uname -m)"
out="dist/$name"
rm -rf "$out" "$out.tar.gz"
mkdir -p "$out/bin"
printf '%s\n' "${packages[@]}" | sort -u >"$out/RUNTIME-DEPS"
cp "$binary" "$out/bin/gar"
strip "$out/bin/gar"
cp -R pipelines "$out/pipelines"
if [ -d models/gar-shapes-demo ]; then
    mkdir -p "$out/models"
    cp -R models/gar-shapes-demo "$out/models/"
fi
cp scripts/install-runtime-deps.sh "$out/install-runtime-deps.sh"
chmod 755 "$out/install-runtime-deps.sh"

demo_note=""
[ -d "$out/models" ] && demo_note=", or the demo model in \`models/\`"
cat >"$out/README.md" <<EOF
# gar $version for Linux $(uname -m)

gar runs the Grasp Any Region model on CPUs to describe and question regions in videos.
This folder is relocatable: put it anywhere (e.g. /opt/gar) and run \`bin/gar\`.

## Install on Debian 12 (bookworm)

\`\`\`sh
sudo ./install-runtime-deps.sh    # = apt-get install \$(cat RUNTIME-DEPS): FFmpeg, OpenBLAS, C/C++ runtime
bin/gar --version
bin/gar caption VIDEO --model MODEL_DIR --mask MASK.png --json
\`\`\`

\`RUNTIME-DEPS\` lists the Debian packages providing the shared libraries bin/gar links (taken
from the binary with objdump/ldd/dpkg when this folder was made); no Swift toolchain and no
-dev package is needed. Elsewhere it needs these shared libraries: ${sonames[*]}.

\`pipelines/\` holds the YAML job specs and the cluster examples (\`pipelines/batch/\`: a
Kubernetes indexed Job for the container image, a Slurm array for this folder). \`gar --help\` and
\`gar <command> --help\` list every command and flag. Models: a Hugging Face download of GAR-1B
(\`hf download HaochenWang/GAR-1B --local-dir models/GAR-1B\`)$demo_note.

## Licences

bin/gar contains gar and, linked in statically, the Swift runtime and Foundation (Apache 2.0
with the Runtime Library Exception, swift.org), swift-argument-parser (Apache 2.0) and Yams
with libyaml (MIT). It links dynamically the Debian packages of RUNTIME-DEPS, each under its own
licence (FFmpeg: LGPL 2.1+ / GPL as built by Debian; OpenBLAS: BSD-3-Clause;
/usr/share/doc/<package>/copyright has the details). GAR model weights carry their own licence.
EOF

tar -C dist --owner=0 --group=0 --numeric-owner -czf "$out.tar.gz" "$name"

echo "dist: $out/ ($(du -sh "$out" | cut -f1)), $out.tar.gz ($(du -h "$out.tar.gz" | cut -f1))" >&2
echo "dist: RUNTIME-DEPS: $(tr '\n' ' ' <"$out/RUNTIME-DEPS")" >&2
echo "$out"
