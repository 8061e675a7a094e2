#!/usr/bin/env bash
# Validates pipelines/batch/*.yaml against the Kubernetes Job schema (check_k8s.py) in a venv
# with kubernetes-validate from PyPI. The venv lives outside the repository and is reused when it
# already has the pinned version. No network or a failed pip install is a failure, never a pass.
set -euo pipefail
cd "$(dirname "$0")"
pin=kubernetes-validate==1.37.0
venv=${GAR_K8S_VENV:-/tmp/gar-k8s-validate-venv}
if ! "$venv/bin/python" -m pip freeze 2>/dev/null | grep -qxi "$pin"; then
    echo "k8s: installing $pin into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$pin" ||
        { echo "error: pip install $pin failed: the Kubernetes YAML cannot be validated" >&2; exit 1; }
fi
"$venv/bin/python" check_k8s.py
