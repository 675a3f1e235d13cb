"""Which containers of a pod end up able to act as its ServiceAccount: the IAM role IRSA gives
it, or a token of the account. Computed from the pod spec as written, by doing what admission
does to it on EKS:

* The EKS pod identity webhook (github.com/aws/amazon-eks-pod-identity-webhook,
  pkg/handler/handler.go): when the pod's ServiceAccount has the annotation
  eks.amazonaws.com/role-arn, every container and init container gets AWS_ROLE_ARN,
  AWS_WEB_IDENTITY_TOKEN_FILE and a mount of a projected token for sts.amazonaws.com,
  except those named in the pod annotation eks.amazonaws.com/skip-containers. The webhook
  reads that annotation as one CSV record and takes the names verbatim: "lms, x" skips "lms"
  and " x", not "x". (Its source applies the same list to EKS Pod Identity's variables.)
* The ServiceAccount admission plugin: unless automountServiceAccountToken is false (the
  pod's field; when unset, the ServiceAccount's), every container gets a Kubernetes API token
  of the account at /var/run/secrets/kubernetes.io/serviceaccount.
* The pod itself: a projected serviceAccountToken volume, and the Secrets of edlake (env,
  envFrom, volumes), reach the containers that mount or name them.
* shareProcessNamespace: true lets a container read any other one's files and environment
  through /proc/<pid>/root and /proc/<pid>/environ (they all run as uid 1000 here), so
  everything one container holds, all of them hold.
"""

import csv

ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
SKIP_ANNOTATION = "eks.amazonaws.com/skip-containers"


def containers(spec):
    return spec.get("initContainers", []) + spec.get("containers", [])


def service_account_name(spec):
    # serviceAccount is the deprecated alias Kubernetes still honours.
    return spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"


def skipped_names(annotations):
    """The names the webhook skips: the annotation parsed as Go's csv.Reader does (one
    record, fields not trimmed), or none when it does not parse."""
    value = (annotations or {}).get(SKIP_ANNOTATION)
    if value is None:
        return set()
    try:
        return set(next(csv.reader([value], strict=True)))
    except (csv.Error, StopIteration):
        return set()


def role_of(spec, accounts):
    """The IAM role IRSA gives the pod's ServiceAccount, or None."""
    account = accounts.get(service_account_name(spec)) or {}
    return ((account.get("metadata") or {}).get("annotations") or {}).get(ROLE_ANNOTATION)


def token_automounted(spec, account):
    if "automountServiceAccountToken" in spec:
        return spec["automountServiceAccountToken"] is not False
    return (account or {}).get("automountServiceAccountToken") is not False


def holdings(spec, annotations, accounts):
    """{container name: [what it can get, as a phrase]} for a pod spec, its pod annotations
    (the template's metadata.annotations) and the ServiceAccounts known by name."""
    sa_name = service_account_name(spec)
    account = accounts.get(sa_name)
    role = role_of(spec, accounts)
    skip = skipped_names(annotations)
    automount = token_automounted(spec, account)
    token_volumes = {
        v["name"] for v in spec.get("volumes", [])
        if any("serviceAccountToken" in s for s in (v.get("projected") or {}).get("sources", []))
    }
    edlake_secret_volumes = {
        v["name"] for v in spec.get("volumes", [])
        if (v.get("secret") or {}).get("secretName", "").startswith("edlake")
    }
    out = {}
    for c in containers(spec):
        got = []
        if role and c["name"] not in skip:
            got.append(f"the IAM role {role} (IRSA: ServiceAccount {sa_name} is annotated and "
                       f"{SKIP_ANNOTATION} does not name {c['name']!r})")
        if automount:
            got.append(f"a Kubernetes API token of ServiceAccount {sa_name} "
                       "(automountServiceAccountToken is not false)")
        for m in c.get("volumeMounts", []):
            if m["name"] in token_volumes:
                got.append(f"a ServiceAccount token from volume {m['name']}")
            if m["name"] in edlake_secret_volumes:
                got.append(f"edlake's Secret from volume {m['name']}")
        for e in c.get("env", []):
            ref = ((e.get("valueFrom") or {}).get("secretKeyRef") or {}).get("name", "")
            if ref.startswith("edlake"):
                got.append(f"edlake's Secret {ref} in ${e['name']}")
        for e in c.get("envFrom", []):
            ref = (e.get("secretRef") or {}).get("name", "")
            if ref.startswith("edlake"):
                got.append(f"edlake's Secret {ref} in its environment")
        out[c["name"]] = got
    if spec.get("shareProcessNamespace"):
        shared = {name: list(got) for name, got in out.items()}
        for name in out:
            for other, got in shared.items():
                if other != name:
                    out[name] += [f"{g}, through {other}'s /proc/<pid>/root (shareProcessNamespace)" for g in got]
    return out


def others_holding(spec, annotations, accounts, owner="edlake"):
    """Problems: every container but `owner` that can get a credential, and what it gets."""
    problems = []
    for name, got in holdings(spec, annotations, accounts).items():
        if name != owner:
            problems += [f"container {name} gets {g}" for g in got]
    return problems


def near_misses(annotations, names):
    """Skip-list entries that name a container only once trimmed (the webhook does not
    trim): the usual reason a container listed there still gets the role."""
    return sorted(n for n in skipped_names(annotations) if n not in names and n.strip() in names)


def only_edlake(where, spec, annotations, accounts):
    """The pod-credentials check of one pod: problems, each prefixed with `where`."""
    problems = [f"{where}: {p}" for p in others_holding(spec, annotations, accounts)]
    names = {c["name"] for c in containers(spec)}
    for n in near_misses(annotations, names):
        problems.append(f"{where}: {SKIP_ANNOTATION} lists {n!r}; the webhook does not trim, so "
                        f"{n.strip()!r} is not skipped")
    role = role_of(spec, accounts)
    if role and "edlake" in names and not any(role in h for h in holdings(spec, annotations, accounts)["edlake"]):
        problems.append(f"{where}: edlake itself does not get the role {role} (does {SKIP_ANNOTATION} name it?)")
    return problems
