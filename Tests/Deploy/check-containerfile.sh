#!/usr/bin/env bash
# The Containerfile's runtime stage must install exactly what the chroot proof tested: the
# dist folder's RUNTIME-DEPS through its install-runtime-deps.sh (scripts/prove-dist-chroot.sh
# runs the same script in a bare Debian 12 root). This checks the Containerfile statically
# (no container engine runs here): the runtime stage is debian:12-slim, calls that script,
# installs no package by any other means, runs as a non-root user with ENTRYPOINT gar and
# declares the model and data volumes; the build stage makes the folder with make-dist.sh.
# shellcheck disable=SC2016 # the patterns hold literal ${...} and $out of the files checked
set -euo pipefail
cd "$(dirname "$0")/../.."
file=Containerfile
passed=0 failed=0
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@"; then echo "ok   $what"; passed=$((passed + 1)); else echo "FAIL $what"; failed=$((failed + 1)); fi
}
# The runtime stage: from the last FROM to the end, continuation lines joined.
runtime=$(awk '/^FROM /{ stage = "" } { stage = stage $0 "\n" } END { printf "%s", stage }' "$file" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta')
build=$(awk '/^FROM .* AS build/{ on = 1; next } /^FROM /{ on = 0 } on' "$file")
runtime_image=$(sed -n 's/^ARG RUNTIME_IMAGE=//p' "$file")

check "runtime stage is debian:12-slim" [ "$runtime_image" = "docker.io/library/debian:12-slim" ]
check "runtime stage starts FROM \${RUNTIME_IMAGE}" grep -q '^FROM \${RUNTIME_IMAGE}$' <<<"$runtime"
check "runtime stage runs /opt/gar/install-runtime-deps.sh" grep -q 'RUN /opt/gar/install-runtime-deps.sh' <<<"$runtime"
no_other_install() { ! grep -Eq 'apt-get +install|apt +install|dpkg +-i' <<<"$runtime"; }
check "runtime stage installs no package otherwise" no_other_install
check "build stage makes the dist folder with scripts/make-dist.sh" grep -q 'RUN scripts/make-dist.sh' <<<"$build"
check "the dist folder carries install-runtime-deps.sh and RUNTIME-DEPS" \
    grep -q 'cp scripts/install-runtime-deps.sh "$out/install-runtime-deps.sh"' scripts/make-dist.sh
check "non-root user" grep -Eq '^USER [1-9][0-9]*(:[0-9]+)?$' <<<"$runtime"
check 'ENTRYPOINT ["gar"]' grep -qx 'ENTRYPOINT \["gar"\]' <<<"$runtime"
check "volumes /models /data /results" grep -q '^VOLUME \["/models", "/data", "/results"\]' <<<"$runtime"
check ".dockerignore keeps build products out" grep -qx '.build' .dockerignore
echo "$passed passed, $failed failed"
((failed == 0))
