"""Offline checks of edlake's deployment files; run by scripts/validate-deploy.sh.

No cluster, Docker engine or network: Kubernetes objects are checked against the JSON
schemas kubernetes-validate ships (strict: unknown fields are errors), the LMS sidecar patch
is merged onto a Tutor-like Deployment fixture, the compose file goes through
`docker-compose config`, every embedded edlake.toml through `edlake config`, and the
Dockerfile through a parser (and hadolint when present). Every pod, the patched LMS pod
included, is checked for which containers can act as edlake's ServiceAccount (the IRSA
webhook and token automount simulated, deploy_checks/pod_credentials.py), and the image's
binary for the Cargo profile it is built with (deploy_checks/image_build.py). One line per
check; exit 1 if any check failed.

Tools come from the environment (the shell script sets them): EDLAKE_BIN, DOCKER_COMPOSE,
KUSTOMIZE (a command line: "kubectl kustomize" or "kustomize build"; empty: skipped),
HADOLINT (empty: skipped), K8S_VERSIONS (space-separated).
"""

import copy
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import yaml
from dockerfile_parse import DockerfileParser

# No __pycache__ next to the deploy_checks modules: the repository ignores none.
sys.dont_write_bytecode = True
from deploy_checks import image_build, pod_credentials  # noqa: E402
from deploy_checks.k8s_objects import (  # noqa: E402
    K8S_VERSIONS,
    container,
    kind_name,
    pod_annotations,
    pod_spec,
    pod_template,
    validate_k8s,
)
from deploy_checks.k8s_objects import check_pod_references as _check_pod_references  # noqa: E402
from deploy_checks.strategic_merge import canonical, strategic_merge  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
K8S = REPO / "deploy" / "k8s"
SIDECAR = K8S / "sidecar"
FIXTURE = SIDECAR / "testdata" / "tutor-lms-deployment.yaml"
COMPOSE = REPO / "deploy" / "compose"
# Files kept out of a kustomization on purpose. secret.yaml: `kubectl apply -k` would
# overwrite the real Secret, created with kubectl, with its placeholders.
NOT_IN_KUSTOMIZATION = {K8S / "secret.yaml"}
# Where every image and config agree the config lives.
CONFIG_PATH = "/etc/edlake/edlake.toml"
LOGS_DIR = "/openedx/data/logs"

results = []  # (status, name, detail, problems)


def check(name):
    """Runs the decorated function as a check: it returns a detail string (ok), raises
    Skip (skipped) or returns/raises problems (failed)."""

    def run(fn):
        problems = []
        started = time.monotonic()
        try:
            detail = fn(problems)
            status = "FAIL" if problems else "ok"
        except Skip as e:
            status, detail = "skip", str(e)
        except Exception as e:  # a crash of the check is a failure of it, with the reason
            status, detail = "FAIL", f"{type(e).__name__}: {e}"
        detail = detail or ""
        results.append((status, name, detail, problems))
        took = f" [{time.monotonic() - started:.1f} s]"
        if problems:  # the detail says what passed: not printed when something did not
            detail = f"{len(problems)} problem(s)"
        print(f"{status:<4}  {name}: {detail}{took}")
        for p in problems:
            print(f"        - {p}")
        sys.stdout.flush()
        return fn

    return run


class Skip(Exception):
    pass


# ------------------------------------------------------------------ helpers
def load_docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def rel(p):
    return os.path.relpath(p, REPO)


def kustomization_files(d):
    """(resources, patches) of the kustomization in d, as paths."""
    k = yaml.safe_load((d / "kustomization.yaml").read_text())
    res = [d / r for r in k.get("resources", [])]
    patches = [d / p["path"] for p in k.get("patches", []) if "path" in p]
    patches += [d / p for p in k.get("patchesStrategicMerge", [])]
    return k, res, patches


def all_patch_files():
    out = set()
    for kz in K8S.rglob("kustomization.yaml"):
        out.update(kustomization_files(kz.parent)[2])
    return out


def manifests():
    """Every Kubernetes object file: YAML under deploy/k8s but kustomizations and patches
    (patches are partial objects, validated once merged)."""
    patches = all_patch_files()
    files = sorted(p for p in K8S.rglob("*.y*ml") if p.name != "kustomization.yaml" and p not in patches)
    return files


def check_pod_references(obj, where, problems, known_configmaps, known_secrets):
    _check_pod_references(obj, where, problems, known_configmaps, known_secrets, "deploy/k8s")


def objects_by_kind(kind):
    out = {}
    for f in manifests():
        for d in load_docs(f):
            if d.get("kind") == kind:
                out[d["metadata"]["name"]] = (f, d)
    return out


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


# ------------------------------------------------------------------ checks
@check("k8s-schema")
def _(problems):
    n = 0
    configmaps = set(objects_by_kind("ConfigMap"))
    secrets = set(objects_by_kind("Secret"))
    for f in manifests():
        for d in load_docs(f):
            n += 1
            validate_k8s(d, rel(f), problems)
            if d.get("kind") in ("CronJob", "Deployment", "Job"):
                check_pod_references(d, rel(f), problems, configmaps, secrets)
    if n == 0:
        problems.append("no Kubernetes object found under deploy/k8s")
    return f"{n} objects in {len(manifests())} files valid against Kubernetes {', '.join(K8S_VERSIONS)} (strict)"


def merged_lms():
    base = load_docs(FIXTURE)[0]
    patch = load_docs(SIDECAR / "lms-sidecar-patch.yaml")[0]
    return strategic_merge(copy.deepcopy(base), patch), base


@check("sidecar-merge")
def _(problems):
    merged, base = merged_lms()
    where = "lms-sidecar-patch.yaml onto testdata/tutor-lms-deployment.yaml"
    validate_k8s(merged, where, problems)
    check_pod_references(merged, where, problems, set(objects_by_kind("ConfigMap")), set(objects_by_kind("Secret")))
    spec = pod_spec(merged)
    lms, edl = container(spec, "lms"), container(spec, "edlake")
    if edl is None:
        problems.append("no edlake container in the merged pod")
        return where
    native = any(c["name"] == "edlake" for c in spec.get("initContainers", []))
    if native and edl.get("restartPolicy") != "Always":
        problems.append("edlake is an init container without restartPolicy: Always (it would block the LMS)")
    if edl.get("args") != ["run"]:
        problems.append(f"edlake args are {edl.get('args')}, expected ['run']")
    ports = {p.get("name"): p["containerPort"] for p in edl.get("ports", [])}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", None)):
        get = (edl.get(probe) or {}).get("httpGet")
        if not get:
            problems.append(f"edlake has no httpGet {probe}")
            continue
        if path and get.get("path") != path:
            problems.append(f"edlake {probe} probes {get.get('path')}, expected {path}")
        if get.get("path") not in ("/healthz", "/readyz"):
            problems.append(f"edlake {probe} probes {get.get('path')}, which edlake does not serve")
        port = get.get("port")
        if port not in ports and port not in ports.values():
            problems.append(f"edlake {probe} port {port} is no port of the container {ports}")

    def logs_volume(c):
        return next((m["name"] for m in c.get("volumeMounts", []) if m["mountPath"].rstrip("/") == LOGS_DIR), None)

    lv, ev = logs_volume(lms), logs_volume(edl)
    if not lv or lv != ev:
        problems.append(f"lms and edlake must mount {LOGS_DIR} from one volume: lms={lv}, edlake={ev}")
    pod_sc = spec.get("securityContext", {})
    for c in (lms, edl):
        sc = {**pod_sc, **c.get("securityContext", {})}
        if sc.get("runAsUser") != 1000 or sc.get("runAsGroup") != 1000:
            problems.append(f"{c['name']} runs as {sc.get('runAsUser')}:{sc.get('runAsGroup')}, expected 1000:1000")
    # The patch must add to Tutor's pod, not replace it.
    for m in container(pod_spec(base), "lms")["volumeMounts"]:
        if m not in lms["volumeMounts"]:
            problems.append(f"the merge lost the LMS mount {m['mountPath']}")
    # AWS credentials for edlake: the ServiceAccount's IRSA role, or (an LMS pod that keeps
    # its own ServiceAccount, deploy/k8s/README.md) keys from an edlake Secret in its env.
    keys = {e["name"] for e in edl.get("env", [])
            if ((e.get("valueFrom") or {}).get("secretKeyRef") or {}).get("name", "").startswith("edlake")}
    if spec.get("serviceAccountName") != "edlake" and not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= keys:
        problems.append(f"pod serviceAccountName is {spec.get('serviceAccountName')}, expected edlake (IRSA), "
                        "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from an edlake Secret in edlake's env")
    form = "native sidecar (initContainer, restartPolicy Always)" if native else "plain container"
    return f"merged Deployment/lms valid; edlake is a {form}, probes ok, {LOGS_DIR} shared via volume {lv}, uid 1000"


@check("pod-credentials")
def _(problems):
    """Only edlake's containers can act as ServiceAccount edlake (its IAM role, its tokens,
    edlake's Secrets): in every pod of deploy/k8s and in the patched LMS pod."""
    accounts = {name: d for name, (_, d) in objects_by_kind("ServiceAccount").items()}
    merged, base = merged_lms()
    pods = [(f"{rel(f)} {kind_name(d)}", d) for f in manifests() for d in load_docs(f)
            if d.get("kind") in ("CronJob", "Deployment", "Job")]
    pods.append(("lms-sidecar-patch.yaml onto testdata/tutor-lms-deployment.yaml", merged))
    summary = []
    for where, obj in pods:
        spec = pod_spec(obj)
        if not container(spec, "edlake") and pod_credentials.service_account_name(spec) not in accounts:
            continue  # not edlake's pod (the Tutor fixture on its own)
        problems += pod_credentials.only_edlake(where, pod_spec(obj), pod_annotations(obj), accounts)
        summary.append(kind_name(obj))
    # Control: Tutor's pod under ServiceAccount edlake without the opt-outs (what the patch
    # did before) must be caught, or this check could pass on anything.
    bare = copy.deepcopy(base)
    pod_spec(bare)["serviceAccountName"] = "edlake"
    if not pod_credentials.others_holding(pod_spec(bare), {}, accounts):
        problems.append("control: Tutor's LMS pod under ServiceAccount edlake, without skip-containers and "
                        "automountServiceAccountToken: false, was not caught (is the role annotation gone?)")
    return (f"{', '.join(summary)} (patched): no container but edlake gets the IRSA role, a ServiceAccount "
            "token or edlake's Secrets; the control without the opt-outs is caught")


@check("cronjob")
def _(problems):
    f, cj = objects_by_kind("CronJob")["edlake"]
    spec = cj["spec"]
    if spec.get("concurrencyPolicy") != "Forbid":
        problems.append(f"concurrencyPolicy is {spec.get('concurrencyPolicy')}, expected Forbid")
    pod = pod_spec(cj)
    edl = container(pod, "edlake")
    if edl is None:
        problems.append("no container named edlake")
        return rel(f)
    if edl.get("args") != ["run", "--once"]:
        problems.append(f"args are {edl.get('args')}, expected ['run', '--once']")
    if pod.get("restartPolicy") != "Never":
        problems.append(f"restartPolicy is {pod.get('restartPolicy')}, expected Never")
    sc = {**pod.get("securityContext", {}), **edl.get("securityContext", {})}
    for k, want in (("runAsNonRoot", True), ("runAsUser", 1000), ("readOnlyRootFilesystem", True), ("allowPrivilegeEscalation", False)):
        if sc.get(k) != want:
            problems.append(f"securityContext {k} is {sc.get(k)}, expected {want}")
    mounts = {m["mountPath"]: m["name"] for m in edl.get("volumeMounts", [])}
    if "/tmp" not in mounts:
        problems.append("no writable /tmp (edlake spools there; the root filesystem is read-only)")
    env = {e["name"]: e.get("value") for e in edl.get("env", [])}
    if env.get("EDLAKE_CONFIG", CONFIG_PATH) != CONFIG_PATH or os.path.dirname(CONFIG_PATH) not in mounts:
        problems.append(f"the config is not mounted at {CONFIG_PATH}")
    return f"{rel(f)}: schedule {spec.get('schedule')!r}, Forbid, args run --once, non-root, read-only root"


@check("kustomization-resources")
def _(problems):
    dirs = sorted(p.parent for p in K8S.rglob("kustomization.yaml"))
    for d in dirs:
        _, res, patches = kustomization_files(d)
        listed = set(res) | set(patches)
        for p in sorted(listed):
            if not p.exists():
                problems.append(f"{rel(d)}/kustomization.yaml lists {p.name}, which does not exist")
        present = {p for p in d.glob("*.y*ml") if p.name != "kustomization.yaml"} - NOT_IN_KUSTOMIZATION
        for p in sorted(present - listed):
            problems.append(f"{rel(p)} is in no list of {rel(d)}/kustomization.yaml (forgotten?)")
        for p in sorted(listed & NOT_IN_KUSTOMIZATION):
            problems.append(f"{rel(p)} must stay out of the kustomization (apply would overwrite the real Secret)")
    return f"{len(dirs)} kustomizations list exactly their files ({', '.join(rel(p) for p in NOT_IN_KUSTOMIZATION)} kept out on purpose)"


@check("kustomize-build")
def _(problems):
    cmd = shlex.split(os.environ.get("KUSTOMIZE", ""))
    if not cmd:
        raise Skip("kustomize not installed (neither kustomize nor kubectl on PATH)")

    def build(target, label):
        """The objects kustomize builds from `target`, each validated; None if it failed."""
        p = run(cmd + [target])
        if p.returncode != 0:
            problems.append(f"{' '.join(cmd)} {label}: {p.stderr.strip()}")
            return None
        docs = [d for d in yaml.safe_load_all(p.stdout) if d]
        for d in docs:
            validate_k8s(d, f"kustomize build {label}", problems)
        return docs

    base_docs = build(str(K8S), "deploy/k8s")
    if base_docs is None:
        return "deploy/k8s"
    # The sidecar is a Component: build it the way it is used, in a kustomization that also
    # holds Tutor's LMS Deployment (here the fixture). Paths must be relative for kustomize.
    with tempfile.TemporaryDirectory() as t:
        shutil.copy(FIXTURE, t)
        (Path(t) / "kustomization.yaml").write_text(yaml.safe_dump({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "namespace": "openedx",
            "resources": [FIXTURE.name, os.path.relpath(K8S, t)],
            "components": [os.path.relpath(SIDECAR, t)],
        }))
        docs = build(t, "of fixture + deploy/k8s + sidecar component")
    if docs is None:
        return "deploy/k8s"
    lms = next((d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "lms"), None)
    ours, _ = merged_lms()
    if lms is None:
        problems.append("the build has no Deployment/lms")
    elif canonical(pod_template(lms)) != canonical(pod_template(ours)):
        problems.append("kustomize's merge of the sidecar patch differs from this script's (sidecar-merge checked the wrong thing)")
    version = run(cmd[:1] + (["version", "--client"] if cmd[0].endswith("kubectl") else ["version"])).stdout.split("\n")
    version = " ".join(l.strip() for l in version if "ustomize" in l) or cmd[0]
    return f"deploy/k8s ({len(base_docs)} objects) and the sidecar component on the fixture build and validate; same merge as sidecar-merge [{version}]"


@check("compose")
def _(problems):
    dc = os.environ.get("DOCKER_COMPOSE", "")
    if not dc:
        problems.append("docker-compose not found")
        return ""
    with tempfile.TemporaryDirectory() as t:
        # A copy, so edlake.env (git-ignored, holds secrets) is never created in the repo.
        d = Path(t) / "repo" / "deploy" / "compose"
        d.mkdir(parents=True)
        for name in ("docker-compose.yml", "edlake.toml", ".env"):
            if (COMPOSE / name).exists():
                shutil.copy(COMPOSE / name, d)
        shutil.copy(COMPOSE / "edlake.env.example", d / "edlake.env")
        tutor_root = Path(t) / "tutor"
        env = {k: v for k, v in os.environ.items() if k != "TUTOR_ROOT"}
        # Its version, meanwhile (docker-compose v1 takes ~1 s to start).
        ver = subprocess.Popen(shlex.split(dc) + ["version", "--short"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        p = run(shlex.split(dc) + ["-f", str(d / "docker-compose.yml"), "config"], cwd=d, env={**env, "TUTOR_ROOT": str(tutor_root)})
        if p.returncode != 0:
            problems.append(f"docker-compose config: {p.stderr.strip()}")
            ver.kill()
            ver.wait()
            return ""
        out = p.stdout
        cfg = yaml.safe_load(out)
        svc = cfg["services"]["edlake"]
        net = cfg.get("networks", {}).get("default", {})
        if not (net.get("external") in (True, {"name": "tutor_local_default"}) and "tutor_local_default" in out):
            problems.append(f"the default network is not the external tutor_local_default: {net}")
        logs = f"{tutor_root}/data/lms/logs:{LOGS_DIR}"
        vols = [v if isinstance(v, str) else f"{v.get('source')}:{v.get('target')}" for v in svc.get("volumes", [])]
        if not any(v.startswith(logs) for v in vols):
            problems.append(f"no volume {logs} in {vols}")
        if not any(v.endswith(f":{CONFIG_PATH}:ro") or v.endswith(f":{CONFIG_PATH}") for v in vols):
            problems.append(f"edlake.toml is not mounted at {CONFIG_PATH}")
        if str(svc.get("user")) != "1000:1000":
            problems.append(f"user is {svc.get('user')}, expected 1000:1000 (the LMS's)")
        if "EDLAKE_MYSQL__PASSWORD" not in (svc.get("environment") or {}):
            problems.append("edlake.env's variables did not reach the service")
    # Without TUTOR_ROOT the file must refuse, not mount /data/lms/logs of the host.
    if "${TUTOR_ROOT:?" not in (COMPOSE / "docker-compose.yml").read_text():
        problems.append("the logs mount does not require TUTOR_ROOT (${TUTOR_ROOT:?...})")
    version = ver.communicate()[0].strip()
    return f"docker-compose {version} config: external network tutor_local_default, logs mount, user 1000:1000, TUTOR_ROOT required"


def embedded_configs():
    """(label, name, toml text) of every edlake.toml in the deployment files."""
    out = []
    for f in manifests():
        for d in load_docs(f):
            if d.get("kind") == "ConfigMap" and "edlake.toml" in (d.get("data") or {}):
                out.append((f"{rel(f)} ConfigMap/{d['metadata']['name']}", d["metadata"]["name"], d["data"]["edlake.toml"]))
    out.append((rel(COMPOSE / "edlake.toml"), "compose", (COMPOSE / "edlake.toml").read_text()))
    return out


@check("edlake-config")
def _(problems):
    exe = os.environ.get("EDLAKE_BIN", "")
    if not exe or not os.access(exe, os.X_OK):
        problems.append(f"no edlake binary at {exe!r}")
        return ""
    # The caller's EDLAKE_* variables would override the files: check the files alone.
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDLAKE_") and k != "RUST_LOG"}
    effective = {}
    with tempfile.TemporaryDirectory() as t:
        for i, (label, name, text) in enumerate(embedded_configs()):
            try:
                raw = tomllib.loads(text)
            except tomllib.TOMLDecodeError as e:
                problems.append(f"{label}: not TOML: {e}")
                continue
            if "tables" in raw:
                problems.append(f"{label}: lists tables; deployment configs use the built-in list")
            path = Path(t) / f"{i}.toml"
            path.write_text(text)
            p = run([exe, "--config", str(path), "config"], env=env)
            if p.returncode != 0:
                problems.append(f"{label}: edlake rejects it (exit {p.returncode}): {p.stderr.strip()}")
                continue
            effective[name] = tomllib.loads(p.stdout)
    cron, side, comp = effective.get("edlake-config"), effective.get("edlake-sidecar-config"), effective.get("compose")
    if cron:
        secret = objects_by_kind("Secret").get("edlake-db", (None, {}))[1]
        pwf = cron["mysql"].get("password_file", "")
        if not cron["mysql"].get("url") or os.path.dirname(pwf) != "/run/secrets/edlake" or os.path.basename(pwf) not in (secret.get("stringData") or {}):
            problems.append(f"edlake-config: mysql.password_file {pwf!r} is not a key of Secret edlake-db under /run/secrets/edlake")
        if cron["tracking_logs"].get("path"):
            problems.append("edlake-config: the CronJob cannot see the LMS's logs; no tracking_logs.path")
        if cron["http"]["listen"] != "":
            problems.append("edlake-config: a CronJob serves no HTTP; http.listen should be \"\"")
    if side:
        if side["mysql"].get("url") or side["mongodb"].get("url"):
            problems.append("edlake-sidecar-config: the sidecar ships logs only; no mysql/mongodb url")
        if os.path.dirname(side["tracking_logs"].get("path", "")) != LOGS_DIR:
            problems.append(f"edlake-sidecar-config: tracking_logs.path not in {LOGS_DIR}")
        if not side["http"]["listen"].endswith(":9090"):
            problems.append("edlake-sidecar-config: http.listen must be the probed port 9090")
    if comp and os.path.dirname(comp["tracking_logs"].get("path", "")) != LOGS_DIR:
        problems.append(f"compose edlake.toml: tracking_logs.path not in {LOGS_DIR}")
    # Extraction relies on edlake's built-in table list (the files list no [[tables]]).
    for name, c in (("edlake-config", cron), ("compose", comp)):
        if c and not c.get("tables"):
            problems.append(f"{name}: no table in effect (an edlake binary without the built-in list? rebuild it)")
    if side and side.get("tables"):
        problems.append("edlake-sidecar-config: tables in effect; the sidecar must not extract")
    # One site, one lake: the placeholders must be edited consistently.
    for key in (("lms_host",), ("datalake", "url"), ("datalake", "prefix"), ("catalog", "database")):
        vals = {}
        for name, c in effective.items():
            v = c
            for k in key:
                v = v.get(k) if isinstance(v, dict) else None
            vals[name] = v
        if len(set(map(str, vals.values()))) > 1:
            problems.append(f"{'.'.join(key)} differs between configs: {vals}")
    for name, c in effective.items():
        if not c["catalog"].get("enabled"):
            problems.append(f"{name}: catalog is not enabled")
    tables = len((cron or comp or {}).get("tables", []))
    return (f"{len(effective)} embedded edlake.toml accepted by {rel(exe) if exe.startswith(str(REPO)) else exe} config "
            f"({tables} built-in tables), consistent with their pods")


@check("dockerfile")
def _(problems):
    df = DockerfileParser(path=str(REPO / "Dockerfile"), cache_content=True)
    cargo = tomllib.loads((REPO / "Cargo.toml").read_text())["package"]
    instr = df.structure
    froms = [i for i in instr if i["instruction"] == "FROM"]
    if len(froms) < 2:
        problems.append(f"{len(froms)} FROM: expected a multi-stage build")
        return "Dockerfile"
    last_from = max(i["startline"] for i in froms)
    final = [i for i in instr if i["startline"] > last_from]

    def last(name, stage):
        v = [i["value"] for i in stage if i["instruction"] == name]
        return v[-1] if v else None

    user = last("USER", final)
    uid = (user or "").split(":")[0]
    if not uid.isdigit() or uid == "0":
        problems.append(f"final stage USER is {user!r}: expected a numeric non-root uid (runAsNonRoot checks it)")
    entry = last("ENTRYPOINT", final) or ""
    if "edlake" not in entry:
        problems.append(f"ENTRYPOINT {entry!r} does not run edlake")
    runs = " ".join(i["value"] for i in instr if i["instruction"] == "RUN")
    if "--locked" not in runs:
        problems.append("cargo build without --locked")
    if "9090" not in (last("EXPOSE", final) or ""):
        problems.append("EXPOSE 9090 missing in the final stage")
    if f"EDLAKE_CONFIG={CONFIG_PATH}" not in " ".join(i["value"] for i in final if i["instruction"] == "ENV"):
        problems.append(f"final stage does not set EDLAKE_CONFIG={CONFIG_PATH}")
    builder = froms[0]["value"].split()[0]
    m = re.match(r"(?:docker\.io/library/)?rust:(\d+\.\d+(?:\.\d+)?)", builder)
    need, who = image_build.min_rust(cargo, REPO)
    if not m:
        problems.append(f"build stage {builder} is not an official rust:<version> image")
    elif image_build.vtuple(m.group(1)) < need:
        problems.append(f"build stage {builder} is older than rustc {'.'.join(map(str, need))}, which {who} requires")
    arg = re.search(r"ARG VERSION=(\S+)", df.content)
    if arg and arg.group(1) != cargo["version"]:
        problems.append(f"ARG VERSION={arg.group(1)} but Cargo.toml says {cargo['version']}")
    ignore = (REPO / ".dockerignore").read_text().split()
    for must in ("target/", ".git/", ".venv/", "datalake/", "demo-logs/", ".stack/"):
        if must not in ignore:
            problems.append(f".dockerignore does not exclude {must}")
    hl = os.environ.get("HADOLINT", "")
    lint = "hadolint skipped (not installed)"
    if hl:
        p = run([hl, "--no-color", str(REPO / "Dockerfile")])
        if p.returncode != 0:
            problems.append("hadolint: " + (p.stdout + p.stderr).strip().replace("\n", "\n          "))
        lint = run([hl, "--version"]).stdout.strip().replace("Haskell Dockerfile Linter ", "hadolint ") + " clean"
    return (f"{len(froms)} stages from {builder} (needs >= {'.'.join(map(str, need))}: {who}), final USER {user}, "
            f"ENTRYPOINT edlake, --locked, .dockerignore ok; {lint}")


@check("image-binary")
def _(problems):
    """The image ships a binary without debug info or symbols (every CronJob pod pulls it),
    built by a profile of its own, while release keeps line tables for developers."""
    df = DockerfileParser(path=str(REPO / "Dockerfile"), cache_content=True)
    cargo = tomllib.loads((REPO / "Cargo.toml").read_text())
    return image_build.image_binary(cargo, df.structure, REPO, problems)


failed = [r for r in results if r[0] == "FAIL"]
passed = [r for r in results if r[0] == "ok"]
skipped = [r for r in results if r[0] == "skip"]
print(f"validate-deploy: {len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped")
sys.exit(1 if failed else 0)
