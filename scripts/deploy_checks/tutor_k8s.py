"""The plugin's `tutor k8s` environment: the objects Tutor renders (its own and edlake's), the
LMS Deployment with the k8s-override patch merged, checked with the same strict schemas and
pod checks as deploy/k8s (scripts/validate_deploy.py), and kustomize's build when installed."""

import copy
import os
import shlex
import subprocess
import tomllib

import yaml

from deploy_checks import pod_credentials
from deploy_checks.k8s_objects import (
    K8S_VERSIONS,
    check_pod_references,
    container,
    kind_name,
    pod_annotations,
    pod_spec,
    validate_k8s,
)
from deploy_checks.strategic_merge import strategic_merge
from deploy_checks.tutor_env import k8s_objects_of

LOGS_DIR = "/openedx/data/logs"
SECRETS_DIR = "/run/secrets/edlake"


def uses_sidecar(cfg):
    return bool(cfg["EDLAKE_TRACKING_LOGS"]) and cfg["EDLAKE_LAKE_URL"].startswith("s3://")


def find(objs, kind, name):
    return next((d for _, d in objs if d.get("kind") == kind and d["metadata"]["name"] == name), None)


def generated_configmaps(tutor):
    """{name: {key: file}} of the kustomization's configMapGenerator."""
    k = yaml.safe_load((tutor.env_dir / "kustomization.yml").read_text())
    out = {}
    for g in k.get("configMapGenerator", []):
        files = {}
        for f in g.get("files", []):
            key, _, path = f.partition("=") if "=" in f else (os.path.basename(f), "", f)
            files[key] = path
        out[g["name"]] = files
    return out, k


def merged_lms(objs, patches):
    base = find(objs, "Deployment", "lms")
    merged = copy.deepcopy(base)
    for p in patches:
        if p.get("kind") == "Deployment" and p["metadata"]["name"] == "lms":
            merged = strategic_merge(merged, p)
    return merged, base


def check_secret_refs(where, spec, secrets, problems):
    """Every secretKeyRef of the pod names a key its Secret holds (else the pod never starts)."""
    for c in spec.get("initContainers", []) + spec.get("containers", []):
        for e in c.get("env", []):
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref and ref["key"] not in (secrets.get(ref["name"]) or {}):
                problems.append(f"{where}: {c['name']} ${e['name']} reads key {ref['key']} of Secret {ref['name']}, which has no such key")


def check_k8s(problems, tutor):
    cfg = tutor.config()
    objs, patches = k8s_objects_of(tutor)
    generated, kustomization = generated_configmaps(tutor)
    if "plugins/edlake/k8s/secrets.yml" not in kustomization.get("resources", []):
        problems.append("kustomization.yml does not list plugins/edlake/k8s/secrets.yml")
    for name, files in generated.items():
        for path in files.values():
            if not (tutor.env_dir / path).is_file():
                problems.append(f"ConfigMap {name} is generated from {path}, which was not rendered")
    secrets = {d["metadata"]["name"]: d.get("stringData") or {} for _, d in objs if d.get("kind") == "Secret"}
    sidecar = uses_sidecar(cfg)
    local_lake = not cfg["EDLAKE_LAKE_URL"]

    # Every object, Tutor's own included, against the strict schemas.
    for f, d in objs:
        validate_k8s(d, os.path.relpath(f, tutor.env_dir), problems)
    merged, base = merged_lms(objs, patches)
    validate_k8s(merged, "Deployment lms with k8s-override", problems)

    want = {("ServiceAccount", "edlake"), ("CronJob", "edlake"), ("Job", "edlake-job"), ("Job", "edlake-mysql-job"),
            ("Secret", "edlake-secrets"), ("Secret", "edlake-mysql-admin")}
    if local_lake:
        want.add(("PersistentVolumeClaim", "edlake-lake"))
    have = {(d["kind"], d["metadata"]["name"]) for _, d in objs if "edlake" in d["metadata"]["name"]}
    for k, n in sorted(want - have):
        problems.append(f"no {k}/{n} in the rendered k8s environment")
    for k, n in sorted(have - want):
        problems.append(f"unexpected {k}/{n} (lake {cfg['EDLAKE_LAKE_URL'] or 'local'})")
    # Removal is one kubectl delete by this label (docs/tutor.md): what a Job of `tutor k8s do`
    # creates is named by Tutor and expires by itself.
    for _, d in objs:
        labels = (d["metadata"].get("labels") or {})
        if "edlake" in d["metadata"]["name"] and d["kind"] != "Job" and labels.get("app.kubernetes.io/name") != "edlake":
            problems.append(f"{kind_name(d)} lacks the label app.kubernetes.io/name=edlake")
    if ("edlake-sidecar-config" in generated) != sidecar:
        problems.append(f"ConfigMap edlake-sidecar-config generated: {'edlake-sidecar-config' in generated}, sidecar expected: {sidecar}")
    if "edlake-config" not in generated:
        problems.append("no ConfigMap edlake-config in the configMapGenerator")

    sa = find(objs, "ServiceAccount", "edlake") or {}
    role = ((sa.get("metadata") or {}).get("annotations") or {}).get(pod_credentials.ROLE_ANNOTATION)
    if role != (cfg["EDLAKE_AWS_ROLE_ARN"] or None):
        problems.append(f"ServiceAccount edlake role annotation is {role!r}, EDLAKE_AWS_ROLE_ARN is {cfg['EDLAKE_AWS_ROLE_ARN']!r}")
    accounts = {"edlake": sa}

    k8s_toml = tomllib.loads(tutor.plugin_file("apps", "config", "k8s", "edlake.toml").read_text())
    cj = find(objs, "CronJob", "edlake")
    pods = [("CronJob/edlake", cj), ("Job/edlake-job", find(objs, "Job", "edlake-job"))]
    for where, obj in pods:
        if obj is None:
            continue
        spec = pod_spec(obj)
        check_pod_references(obj, where, problems, set(generated), set(secrets), "the rendered environment")
        check_secret_refs(where, spec, secrets, problems)
        edl = container(spec, "edlake")
        if edl is None:
            problems.append(f"{where}: no container edlake")
            continue
        if edl.get("image") != cfg["EDLAKE_DOCKER_IMAGE"]:
            problems.append(f"{where}: image {edl.get('image')}, EDLAKE_DOCKER_IMAGE is {cfg['EDLAKE_DOCKER_IMAGE']}")
        if spec.get("serviceAccountName") != "edlake":
            problems.append(f"{where}: serviceAccountName is {spec.get('serviceAccountName')}, expected edlake")
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        mounts = {m["mountPath"]: vols.get(m["name"], {}) for m in edl.get("volumeMounts", [])}
        if (mounts.get("/etc/edlake", {}).get("configMap") or {}).get("name") != "edlake-config":
            problems.append(f"{where}: /etc/edlake is not the ConfigMap edlake-config")
        if (mounts.get(SECRETS_DIR, {}).get("secret") or {}).get("secretName") != "edlake-secrets":
            problems.append(f"{where}: {SECRETS_DIR} is not the Secret edlake-secrets")
        lake = (mounts.get("/var/lib/edlake/lake", {}).get("persistentVolumeClaim") or {}).get("claimName")
        if local_lake and lake != "edlake-lake":
            problems.append(f"{where}: the local lake /var/lib/edlake/lake is not the PVC edlake-lake")
        if not local_lake and lake:
            problems.append(f"{where}: mounts a lake PVC with an S3 lake")
        problems += pod_credentials.only_edlake(where, spec, pod_annotations(obj), accounts)
    # The files the k8s config reads are keys of the Secret mounted at SECRETS_DIR.
    for key in (("mysql", "password_file"), ("mongodb", "password_file"), ("privacy", "key_file")):
        path = (k8s_toml.get(key[0]) or {}).get(key[1])
        if path and (os.path.dirname(path) != SECRETS_DIR or os.path.basename(path) not in secrets.get("edlake-secrets", {})):
            problems.append(f"k8s edlake.toml {'.'.join(key)} = {path}: no such key in Secret edlake-secrets")
    if bool(cfg["MONGODB_USERNAME"] and cfg["EDLAKE_COURSE_STRUCTURES"]) != bool((k8s_toml.get("mongodb") or {}).get("password_file")):
        problems.append("k8s edlake.toml: mongodb.password_file must be set exactly when MongoDB has a user")
    if cj:
        s = cj["spec"]
        if s.get("schedule") != cfg["EDLAKE_SCHEDULE_EXTRACT"] or s.get("concurrencyPolicy") != "Forbid":
            problems.append(f"CronJob: schedule {s.get('schedule')!r} (EDLAKE_SCHEDULE_EXTRACT {cfg['EDLAKE_SCHEDULE_EXTRACT']!r}), concurrencyPolicy {s.get('concurrencyPolicy')}")
        if (container(pod_spec(cj), "edlake") or {}).get("args") != ["run", "--once"]:
            problems.append("CronJob: edlake args are not ['run', '--once']")
    job = find(objs, "Job", "edlake-job")
    # Tutor's k8s runner: containers[0] with `command: []` gets `sh -e -c <command>`.
    if job and pod_spec(job)["containers"][0].get("command") != []:
        problems.append("Job edlake-job: containers[0].command must be [] (Tutor then runs sh -e -c)")
    mjob = find(objs, "Job", "edlake-mysql-job")
    if mjob:
        check_secret_refs("Job/edlake-mysql-job", pod_spec(mjob), secrets, problems)
        envs = {e["name"] for e in pod_spec(mjob)["containers"][0].get("env", [])}
        if not {"MYSQL_PWD", "EDLAKE_MYSQL__PASSWORD"} <= envs:
            problems.append(f"Job edlake-mysql-job: env {sorted(envs)} lacks MYSQL_PWD or EDLAKE_MYSQL__PASSWORD")
    for where, obj in pods + [("Job/edlake-mysql-job", mjob)]:
        if obj and ((obj.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/component") != "job" and obj["kind"] == "Job":
            problems.append(f"{where}: without label app.kubernetes.io/component=job, tutor k8s start would apply it")

    summary = check_sidecar(problems, cfg, merged, base, generated, secrets, accounts, sidecar)
    built = kustomize_build(problems, tutor, sidecar)
    return (f"{len(objs)} objects valid against Kubernetes {', '.join(K8S_VERSIONS)} (strict); CronJob "
            f"{cj['spec']['schedule'] if cj else '?'} run --once, ServiceAccount role {role or 'none'}, "
            f"lake {'PVC' if local_lake else 'S3'}; {summary}; {built}")


def check_sidecar(problems, cfg, merged, base, generated, secrets, accounts, sidecar):
    where = "Deployment lms with k8s-override"
    spec = pod_spec(merged)
    edl = container(spec, "edlake")
    if not sidecar:
        if edl is not None or merged != base:
            problems.append(f"{where}: patched although the sidecar is off (local lake or EDLAKE_TRACKING_LOGS false)")
        return "no sidecar (local lake or tracking logs off)"
    check_pod_references(merged, where, problems, set(generated), set(secrets), "the rendered environment")
    check_secret_refs(where, spec, secrets, problems)
    if edl is None or not any(c["name"] == "edlake" for c in spec.get("initContainers", [])):
        problems.append(f"{where}: no native sidecar edlake (initContainer)")
        return "sidecar missing"
    if edl.get("restartPolicy") != "Always" or edl.get("args") != ["run"] or edl.get("image") != cfg["EDLAKE_DOCKER_IMAGE"]:
        problems.append(f"{where}: edlake restartPolicy {edl.get('restartPolicy')}, args {edl.get('args')}, image {edl.get('image')}")
    lms = container(spec, "lms")
    vol = {m["mountPath"]: m["name"] for m in lms.get("volumeMounts", [])}.get(LOGS_DIR)
    if not vol or vol != {m["mountPath"]: m["name"] for m in edl.get("volumeMounts", [])}.get(LOGS_DIR):
        problems.append(f"{where}: lms and edlake do not share {LOGS_DIR} through one volume")
    for m in container(pod_spec(base), "lms")["volumeMounts"]:
        if m not in lms["volumeMounts"]:
            problems.append(f"{where}: the merge lost the LMS mount {m['mountPath']}")
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    cfgvol = {m["mountPath"]: vols.get(m["name"], {}) for m in edl.get("volumeMounts", [])}.get("/etc/edlake", {})
    if (cfgvol.get("configMap") or {}).get("name") != "edlake-sidecar-config":
        problems.append(f"{where}: the sidecar's /etc/edlake is not the ConfigMap edlake-sidecar-config")
    ports = {p.get("name"): p["containerPort"] for p in edl.get("ports", [])}
    for probe in ("livenessProbe", "readinessProbe"):
        get = (edl.get(probe) or {}).get("httpGet") or {}
        if get.get("path") != "/healthz" or ports.get(get.get("port"), get.get("port")) != 9090:
            problems.append(f"{where}: {probe} is not GET /healthz on 9090")
    problems += pod_credentials.only_edlake(where, spec, pod_annotations(merged), accounts)
    if cfg["EDLAKE_AWS_ROLE_ARN"]:
        if spec.get("serviceAccountName") != "edlake":
            problems.append(f"{where}: IRSA without serviceAccountName edlake")
        # Control: Tutor's pod under ServiceAccount edlake without the opt-outs is caught.
        bare = copy.deepcopy(base)
        pod_spec(bare)["serviceAccountName"] = "edlake"
        if not pod_credentials.others_holding(pod_spec(bare), {}, accounts):
            problems.append("control: Tutor's LMS pod under ServiceAccount edlake without opt-outs was not caught")
    return f"sidecar in Deployment/lms sharing {LOGS_DIR}, only edlake holds credentials"


def kustomize_build(problems, tutor, sidecar):
    cmd = shlex.split(os.environ.get("KUSTOMIZE", ""))
    if not cmd:
        return "kustomize not installed: build skipped"
    p = subprocess.run(cmd + [str(tutor.env_dir)], capture_output=True, text=True)
    if p.returncode != 0:
        problems.append(f"{' '.join(cmd)} env: {p.stderr.strip()}")
        return "kustomize failed"
    docs = [d for d in yaml.safe_load_all(p.stdout) if d]
    for d in docs:
        validate_k8s(d, f"kustomize build ({kind_name(d)})", problems)
    lms = next((d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "lms"), None)
    has = lms is not None and container(pod_spec(lms), "edlake") is not None
    if has != sidecar:
        problems.append(f"kustomize build: sidecar in Deployment/lms is {has}, expected {sidecar}")
    for d in docs:
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("edlake") and d["metadata"].get("labels", {}).get("app.kubernetes.io/name") != "edlake":
            problems.append(f"kustomize build: {kind_name(d)} lacks the label app.kubernetes.io/name=edlake")
    names = {d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"}
    for _, d in [(None, x) for x in docs if x["kind"] in ("CronJob", "Deployment", "Job")]:
        for v in pod_spec(d).get("volumes", []):
            cm = (v.get("configMap") or {}).get("name")
            if cm and cm not in names:
                problems.append(f"kustomize build: {kind_name(d)} mounts ConfigMap {cm}, which the build lacks")
    return f"kustomize builds {len(docs)} valid objects"
