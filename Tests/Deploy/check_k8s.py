"""Validates the Kubernetes examples of pipelines/batch/ against the batch/v1 Job schema
(kubernetes-validate, strict: an unknown or misspelt key fails) and checks that they fit the
image the Containerfile builds. Run by Tests/Deploy/check-k8s.sh (which makes the venv).

Checks, per *.yaml in pipelines/batch/:
  * the document is a batch/v1 Job that validates strictly against Kubernetes KUBE_VERSIONS;
  * every container runs as uid 10001 (the image's USER) and only names files the image has:
    /opt/gar/pipelines/X.yaml must be pipelines/X.yaml of this repository;
  * the indexed Job's --shard count equals its completions, and the merge Job merges exactly
    parts 0..completions-1.
It first proves the validator can fail: a copy of the Job with a misspelt key must be rejected.
"""
import copy
import pathlib
import re
import sys

import kubernetes_validate
import yaml

KUBE_VERSIONS = ["1.33.0", "1.37.0"]  # backoffLimitPerIndex is GA from 1.33
IMAGE_USER = 10001
ROOT = pathlib.Path(__file__).resolve().parents[2]
BATCH = ROOT / "pipelines" / "batch"

failures = []
passed = []


def fail(message):
    failures.append(message)
    print(f"FAIL {message}")


def ok(message):
    passed.append(message)
    print(f"ok   {message}")


def validate(doc, name):
    for version in KUBE_VERSIONS:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            fail(f"{name}: not a valid {doc.get('kind')} for Kubernetes {version}: {e.message} at {list(e.path)}")
            return False
    return True


def containers(job):
    return job["spec"]["template"]["spec"]["containers"]


def check_fits_image(job, name):
    before = len(failures)
    pod = job["spec"]["template"]["spec"]
    if pod.get("securityContext", {}).get("runAsUser") != IMAGE_USER:
        fail(f"{name}: the pod must run as the image's user {IMAGE_USER}")
    for c in containers(job):
        if "command" in c:
            fail(f"{name}: container {c['name']} overrides the image's ENTRYPOINT gar")
        for arg in c.get("args", []):
            m = re.fullmatch(r"/opt/gar/(.+)", str(arg))
            if m and not (ROOT / m.group(1)).exists():
                fail(f"{name}: {arg} is not in the image ({m.group(1)} is not in the repository)")
    if len(failures) == before:
        ok(f"{name}: Job {job['metadata']['name']} fits the image (user {IMAGE_USER}, ENTRYPOINT gar, /opt/gar paths)")


def main():
    files = sorted(BATCH.glob("*.yaml"))
    if not files:
        fail(f"no Kubernetes YAML in {BATCH}")
    jobs = {}
    for path in files:
        name = path.relative_to(ROOT)
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        for doc in docs:
            if (doc.get("apiVersion"), doc.get("kind")) != ("batch/v1", "Job"):
                fail(f"{name}: expected a batch/v1 Job, got {doc.get('apiVersion')} {doc.get('kind')}")
                continue
            if validate(doc, name):
                ok(f"{name}: Job {doc['metadata']['name']} valid for Kubernetes {', '.join(KUBE_VERSIONS)}")
            check_fits_image(doc, name)
            jobs[doc["metadata"]["name"]] = doc

    batch, merge = jobs.get("gar-batch"), jobs.get("gar-batch-merge")
    if batch is None or merge is None:
        fail("expected the Jobs gar-batch and gar-batch-merge")
    else:
        # The validator must reject a misspelt key, or the checks above prove nothing.
        broken = copy.deepcopy(batch)
        broken["spec"]["completionz"] = broken["spec"].pop("completions")
        try:
            kubernetes_validate.validate(broken, KUBE_VERSIONS[0], strict=True)
            fail("the validator accepted spec.completionz: it checks nothing")
        except kubernetes_validate.ValidationError:
            ok("the validator rejects a misspelt key (spec.completionz)")

        before = len(failures)
        n = batch["spec"]["completions"]
        args = containers(batch)[0]["args"]
        shard = args[args.index("--shard") + 1]
        if shard != f"$(JOB_COMPLETION_INDEX)/{n}":
            fail(f"gar-batch: --shard {shard} does not match completions {n}")
        env = {e["name"]: e.get("value") for e in containers(batch)[0].get("env", [])}
        if env.get("GAR_SHARDS") != str(n):
            fail(f"gar-batch: GAR_SHARDS {env.get('GAR_SHARDS')} does not match completions {n}")
        parts = [a for a in containers(merge)[0]["args"] if str(a).startswith("/results/part-")]
        expected = [f"/results/part-{i}.jsonl" for i in range(n)]
        if parts != expected:
            fail(f"gar-batch-merge: merges {parts}, expected {expected}")
        if containers(merge)[0]["args"][:2] != ["batch", "merge"]:
            fail("gar-batch-merge: does not run `gar batch merge`")
        if len(failures) == before:
            ok(f"gar-batch shards = completions = {n}; gar-batch-merge merges parts 0..{n - 1}")

    print(f"{len(passed)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
