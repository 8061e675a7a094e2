#!/bin/sh
# Installs, with apt, the Debian packages that bin/gar needs at run time: the list RUNTIME-DEPS
# that scripts/make-dist.sh derived from the binary (one package per line). The same script is
# run by the Containerfile's runtime stage and inside the chroot proof
# (scripts/prove-dist-chroot.sh), so the image installs exactly what the proof tested.
#
# Usage (as root, on Debian 12): ./install-runtime-deps.sh [RUNTIME-DEPS]
# (default: RUNTIME-DEPS next to this script, i.e. in the dist folder)
set -eu
list=${1:-$(dirname "$0")/RUNTIME-DEPS}
if [ ! -r "$list" ]; then
    echo "error: $list: no such file (the package list written by scripts/make-dist.sh)" >&2
    exit 1
fi
if ! grep -q . "$list"; then
    echo "error: $list: empty package list" >&2
    exit 1
fi
apt-get update
DEBIAN_FRONTEND=noninteractive xargs -a "$list" apt-get install -y --no-install-recommends
