"""Kubernetes objects as the offline checks see them: strict schema validation
(kubernetes-validate) and the pod-level references schemas cannot see. Shared by
scripts/validate_deploy.py (deploy/k8s) and scripts/tutor_checks.py (the Tutor plugin's
rendered environment)."""

import os

from kubernetes_validate import utils as kv

K8S_VERSIONS = os.environ.get("K8S_VERSIONS", "1.29.0 1.37.0").split()


def validate_k8s(obj, where, problems):
    """Strict schema validation of one object against every K8S_VERSIONS; problems appended."""
    for version in K8S_VERSIONS:
        try:
            kv.validate(obj, version, strict=True)
        except kv.ValidationError as e:
            path = ".".join(str(x) for x in e.path)
            problems.append(f"{where}: {kind_name(obj)} invalid for Kubernetes {version}: {path}: {e.message}")
        except (kv.SchemaNotFoundError, kv.VersionNotSupportedError, kv.InvalidSchemaError) as e:
            # kubernetes-validate's CLI only warns on an unknown kind/apiVersion; here it is
            # an error (a typo in apiVersion would otherwise pass).
            problems.append(f"{where}: {kind_name(obj)}: {e.message}")


def kind_name(obj):
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def pod_template(obj):
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]
    return obj["spec"]["template"]


def pod_spec(obj):
    return pod_template(obj)["spec"]


def pod_annotations(obj):
    return (pod_template(obj).get("metadata") or {}).get("annotations") or {}


def check_pod_references(obj, where, problems, known_configmaps, known_secrets, defined_in):
    """What schemas cannot see: every mount names a volume of the pod, volume names are
    unique, and edlake's ConfigMaps/Secrets are among those `defined_in` defines."""
    spec = pod_spec(obj)
    vols = [v["name"] for v in spec.get("volumes", [])]
    dup = {v for v in vols if vols.count(v) > 1}
    if dup:
        problems.append(f"{where}: duplicate volume name(s) {sorted(dup)}")
    for c in spec.get("initContainers", []) + spec.get("containers", []):
        for m in c.get("volumeMounts", []):
            if m["name"] not in vols:
                problems.append(f"{where}: container {c['name']} mounts {m['name']}, which is no volume of the pod")
        paths = [m["mountPath"] for m in c.get("volumeMounts", [])]
        if len(paths) != len(set(paths)):
            problems.append(f"{where}: container {c['name']} mounts one path twice: {paths}")
    for v in spec.get("volumes", []):
        cm = (v.get("configMap") or {}).get("name", "")
        if cm.startswith("edlake") and cm not in known_configmaps:
            problems.append(f"{where}: volume {v['name']} uses ConfigMap {cm}, defined nowhere in {defined_in}")
        sec = (v.get("secret") or {}).get("secretName", "")
        if sec.startswith("edlake") and sec not in known_secrets:
            problems.append(f"{where}: volume {v['name']} uses Secret {sec}, defined nowhere in {defined_in}")


def container(spec, name):
    for c in spec.get("initContainers", []) + spec.get("containers", []):
        if c["name"] == name:
            return c
    return None
