"""The strategic merge patch of Kubernetes, as far as a pod template patch needs it, and an
order-insensitive form of objects to compare two merges."""

import copy

# Merge keys of the lists a pod template patch touches (Kubernetes' patchMergeKey values;
# volumeMounts merge by mountPath, not name). Other lists (args, command) are replaced.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "env": "name",
    "ports": "containerPort",
    "imagePullSecrets": "name",
}


def strategic_merge(base, patch):
    """A small strategic merge patch: maps merge recursively, keyed lists merge item by item
    (new items first, as kustomize does), null deletes, anything else replaces."""
    for k, v in patch.items():
        if v is None:
            base.pop(k, None)
        elif isinstance(v, dict) and isinstance(base.get(k), dict):
            strategic_merge(base[k], v)
        elif isinstance(v, list) and MERGE_KEYS.get(k) and isinstance(base.get(k), list):
            key = MERGE_KEYS[k]
            existing = {item[key]: item for item in base[k]}
            new = []
            for item in v:
                if item[key] in existing:
                    strategic_merge(existing[item[key]], item)
                else:
                    new.append(copy.deepcopy(item))
            base[k] = new + base[k]
        else:
            base[k] = copy.deepcopy(v)
    return base


def canonical(obj):
    """Order-insensitive form of an object: keyed lists sorted by their merge key."""
    if isinstance(obj, dict):
        return {k: (sorted((canonical(i) for i in v), key=lambda i: str(i.get(MERGE_KEYS[k])))
                    if isinstance(v, list) and MERGE_KEYS.get(k) and all(isinstance(i, dict) for i in v)
                    else canonical(v))
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [canonical(i) for i in obj]
    return obj
