"""Reconcilers for StatefulSets, Deployments, ReplicaSets and Jobs.

Each runs once per controller pass against the observed pods and does at most what one
sync of the real controller would do; the write it makes wakes the next pass.
"""
import copy
import hashlib
import json
import math
import re

from .pods import is_ready
from .store import SUFFIX_ALPHABET, random_suffix, timestamp

# Status counters the real API omits when zero (omitempty), per kind.
OMIT_ZERO = {
    "StatefulSet": ("readyReplicas", "currentReplicas", "updatedReplicas"),
    "Deployment": ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas"),
    "ReplicaSet": ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"),
    "Job": ("active", "succeeded", "failed"),
}


def template_hash(template):
    """A short, stable hash of a pod template, in the alphabet Kubernetes uses for names."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _attempt in range(10):
        number, rem = divmod(number, len(SUFFIX_ALPHABET))
        chars.append(SUFFIX_ALPHABET[rem])
    return "".join(chars)


def owner_reference(owner):
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _compact(kind, status):
    return {k: v for k, v in status.items() if not (k in OMIT_ZERO[kind] and v == 0)}


def _new_pod(owner, template, name, extra_labels):
    tmeta = template.get("metadata") or {}
    meta = {
        "name": name,
        "namespace": owner["metadata"]["namespace"],
        "labels": dict(tmeta.get("labels") or {}, **extra_labels),
        "ownerReferences": [owner_reference(owner)],
    }
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    return {"metadata": meta, "spec": copy.deepcopy(template.get("spec") or {})}


def _stamp_conditions(conditions, old_conditions, wall):
    old = {c.get("type"): c for c in old_conditions or []}
    for cond in conditions:
        prev = old.get(cond["type"]) or {}
        same_status = prev.get("status") == cond["status"]
        same_all = same_status and prev.get("reason") == cond.get("reason") and prev.get("message") == cond.get("message")
        if "lastUpdateTime" in cond:
            cond["lastUpdateTime"] = prev.get("lastUpdateTime") if same_all else wall
        cond["lastTransitionTime"] = prev.get("lastTransitionTime") if same_status else wall
    return conditions


# -- StatefulSet ----------------------------------------------------------

def _pod_revision(pod):
    return pod["metadata"].get("labels", {}).get("controller-revision-hash")


def statefulset(ctl, sts, owned_pods):
    meta, spec = sts["metadata"], sts["spec"]
    update_rev = f"{meta['name']}-{template_hash(spec['template'])}"
    ctl.remember_revision(meta["uid"], update_rev, spec["template"])
    current_rev = (sts.get("status") or {}).get("currentRevision") or update_rev
    pods = {}
    for pod in owned_pods:
        match = re.fullmatch(rf"{re.escape(meta['name'])}-(\d+)", pod["metadata"]["name"])
        if match:
            pods[int(match.group(1))] = pod
    _statefulset_status(ctl, sts, pods, current_rev, update_rev)
    _statefulset_pods(ctl, sts, pods, current_rev, update_rev)


def _statefulset_status(ctl, sts, pods, current_rev, update_rev):
    spec = sts["spec"]
    replicas = spec.get("replicas", 1)
    revisions = [_pod_revision(p) for p in pods.values()]
    ready = sum(1 for p in pods.values() if is_ready(p))
    status = {
        "observedGeneration": sts["metadata"].get("generation", 1),
        "replicas": len(pods),
        "readyReplicas": ready,
        "currentReplicas": revisions.count(current_rev),
        "updatedReplicas": revisions.count(update_rev),
        "currentRevision": current_rev,
        "updateRevision": update_rev,
        "collisionCount": 0,
        "availableReplicas": ready,
    }
    # As in Kubernetes, only RollingUpdate ever promotes the current revision (OnDelete keeps the old one).
    rolling = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"
    if rolling and status["updatedReplicas"] == replicas and ready == replicas and len(pods) == replicas:
        status["currentRevision"] = update_rev
        status["currentReplicas"] = status["updatedReplicas"]
    ctl.set_status(sts, _compact("StatefulSet", status))


def _statefulset_pods(ctl, sts, pods, current_rev, update_rev):
    spec = sts["spec"]
    replicas = spec.get("replicas", 1)
    ordered = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"
    strategy = spec.get("updateStrategy") or {}
    rolling = strategy.get("type", "RollingUpdate") == "RollingUpdate"
    partition = ((strategy.get("rollingUpdate") or {}).get("partition") or 0) if rolling else 0
    for ordinal in range(replicas):
        pod = pods.get(ordinal)
        if pod is None:
            _create_statefulset_pod(ctl, sts, ordinal, current_rev if ordinal < partition else update_rev)
            if ordered:
                return
        elif ordered and not is_ready(pod):
            return
    condemned = sorted((o for o in pods if o >= replicas), reverse=True)
    for ordinal in condemned:
        ctl.delete(pods[ordinal])
        if ordered:
            return
    if condemned or not rolling:
        return
    # Highest ordinal first: replace an outdated pod, or wait for an updated one to become Ready.
    for ordinal in range(replicas - 1, partition - 1, -1):
        pod = pods.get(ordinal)
        if pod is None:
            return
        if _pod_revision(pod) != update_rev:
            ctl.delete(pod)
            return
        if not is_ready(pod):
            return


def _create_statefulset_pod(ctl, sts, ordinal, revision):
    meta, spec = sts["metadata"], sts["spec"]
    name = f"{meta['name']}-{ordinal}"
    template = ctl.revision_template(meta["uid"], revision) or spec["template"]
    labels = {"controller-revision-hash": revision, "statefulset.kubernetes.io/pod-name": name, "apps.kubernetes.io/pod-index": str(ordinal)}
    pod = _new_pod(sts, template, name, labels)
    pod_spec = pod["spec"]
    pod_spec["hostname"] = name
    if spec.get("serviceName"):
        pod_spec["subdomain"] = spec["serviceName"]
    claims = spec.get("volumeClaimTemplates") or []
    claim_names = {c["metadata"]["name"] for c in claims}
    volumes = [v for v in pod_spec.get("volumes") or [] if v.get("name") not in claim_names]
    for claim in claims:
        claim_name = f"{claim['metadata']['name']}-{meta['name']}-{ordinal}"
        volumes.append({"name": claim["metadata"]["name"], "persistentVolumeClaim": {"claimName": claim_name}})
        _ensure_claim(ctl, sts, claim, claim_name)
    if volumes:
        pod_spec["volumes"] = volumes
    ctl.create("Pod", pod)


def _ensure_claim(ctl, sts, claim, name):
    namespace = sts["metadata"]["namespace"]
    if ctl.get("PersistentVolumeClaim", namespace, name) is not None:
        return
    cmeta = claim.get("metadata") or {}
    labels = dict((sts["spec"].get("selector") or {}).get("matchLabels") or {}, **(cmeta.get("labels") or {}))
    pvc = {"metadata": {"name": name, "namespace": namespace, "labels": labels}, "spec": copy.deepcopy(claim.get("spec") or {})}
    if cmeta.get("annotations"):
        pvc["metadata"]["annotations"] = dict(cmeta["annotations"])
    ctl.create("PersistentVolumeClaim", pvc)


# -- Deployment / ReplicaSet ----------------------------------------------

def _resolve(value, replicas, round_up):
    if isinstance(value, str) and value.endswith("%"):
        raw = replicas * int(value[:-1]) / 100
        return math.ceil(raw) if round_up else math.floor(raw)
    return int(value)


def rollout_limits(spec):
    replicas = spec.get("replicas", 1)
    rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    surge = _resolve(rolling.get("maxSurge", "25%"), replicas, True)
    unavailable = _resolve(rolling.get("maxUnavailable", "25%"), replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _rs_replicas(rs):
    return rs["spec"].get("replicas", 0)


def deployment(ctl, dep, replica_sets, pods_by_owner):
    """Create/scale ReplicaSets; status is written only in a pass that needed no action."""
    spec = dep["spec"]
    pod_hash = template_hash(spec["template"])
    new_rs = next((rs for rs in replica_sets if rs["metadata"].get("labels", {}).get("pod-template-hash") == pod_hash), None)
    if new_rs is None:
        ctl.create("ReplicaSet", _new_replicaset(dep, pod_hash, replica_sets))
        return
    old_rss = [rs for rs in replica_sets if rs is not new_rs]
    available = {rs["metadata"]["uid"]: sum(1 for p in pods_by_owner[rs["metadata"]["uid"]] if is_ready(p)) for rs in replica_sets}
    if (spec.get("strategy") or {}).get("type") == "Recreate":
        acted = _recreate(ctl, spec, new_rs, old_rss, pods_by_owner)
    else:
        acted = _roll(ctl, spec, new_rs, old_rss, available)
    in_sync = all(len(pods_by_owner[rs["metadata"]["uid"]]) == _rs_replicas(rs) for rs in replica_sets)
    if not acted and in_sync:
        _deployment_status(ctl, dep, new_rs, replica_sets, pods_by_owner)


def _new_replicaset(dep, pod_hash, existing):
    spec = dep["spec"]
    template = copy.deepcopy(spec["template"])
    template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = pod_hash
    selector = copy.deepcopy(spec.get("selector") or {})
    selector.setdefault("matchLabels", {})["pod-template-hash"] = pod_hash
    revisions = [int(rs["metadata"].get("annotations", {}).get("deployment.kubernetes.io/revision", 0)) for rs in existing]
    return {
        "metadata": {
            "name": f"{dep['metadata']['name']}-{pod_hash}",
            "namespace": dep["metadata"]["namespace"],
            "labels": dict(template["metadata"]["labels"]),
            "annotations": {"deployment.kubernetes.io/revision": str(max(revisions, default=0) + 1)},
            "ownerReferences": [owner_reference(dep)],
        },
        "spec": {"replicas": 0, "selector": selector, "template": template},
    }


def _recreate(ctl, spec, new_rs, old_rss, pods_by_owner):
    scaled = [rs for rs in old_rss if _rs_replicas(rs)]
    for rs in scaled:
        ctl.scale(rs, 0)
    if scaled or any(pods_by_owner[rs["metadata"]["uid"]] for rs in old_rss):
        return True
    if _rs_replicas(new_rs) != spec.get("replicas", 1):
        ctl.scale(new_rs, spec.get("replicas", 1))
        return True
    return False


def _roll(ctl, spec, new_rs, old_rss, available):
    replicas = spec.get("replicas", 1)
    surge, unavailable = rollout_limits(spec)
    total = _rs_replicas(new_rs) + sum(_rs_replicas(rs) for rs in old_rss)
    current = _rs_replicas(new_rs)
    if current > replicas or not old_rss or not any(_rs_replicas(rs) for rs in old_rss):
        target = replicas
    else:
        target = min(replicas, current + max(0, replicas + surge - total))
    if target != current:
        ctl.scale(new_rs, target)
        return True
    # Unavailable old pods may always go; available ones only while minimum availability holds.
    spare = sum(available.values()) - (replicas - unavailable) - (current - available[new_rs["metadata"]["uid"]])
    acted = False
    for rs in old_rss:
        count = _rs_replicas(rs)
        if not count:
            continue
        unhealthy = count - available[rs["metadata"]["uid"]]
        down = min(count, unhealthy + max(0, spare))
        if down > 0:
            ctl.scale(rs, count - down)
            spare -= max(0, down - unhealthy)
            acted = True
    return acted


def _deployment_status(ctl, dep, new_rs, replica_sets, pods_by_owner):
    spec = dep["spec"]
    replicas = spec.get("replicas", 1)
    all_pods = [p for rs in replica_sets for p in pods_by_owner[rs["metadata"]["uid"]]]
    ready = sum(1 for p in all_pods if is_ready(p))
    updated = len(pods_by_owner[new_rs["metadata"]["uid"]])
    status = {
        "observedGeneration": dep["metadata"].get("generation", 1),
        "replicas": len(all_pods),
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": ready,
        "unavailableReplicas": max(0, sum(_rs_replicas(rs) for rs in replica_sets) - ready),
    }
    _surge, unavailable = rollout_limits(spec)
    rs_name = new_rs["metadata"]["name"]
    minimum = ready >= replicas - unavailable
    complete = updated == replicas and len(all_pods) == replicas and ready == replicas
    conditions = [
        {"type": "Available", "status": "True" if minimum else "False", "lastUpdateTime": None,
         "reason": "MinimumReplicasAvailable" if minimum else "MinimumReplicasUnavailable",
         "message": "Deployment has minimum availability." if minimum else "Deployment does not have minimum availability."},
        {"type": "Progressing", "status": "True", "lastUpdateTime": None,
         "reason": "NewReplicaSetAvailable" if complete else "ReplicaSetUpdated",
         "message": f'ReplicaSet "{rs_name}" has successfully progressed.' if complete else f'ReplicaSet "{rs_name}" is progressing.'},
    ]
    status["conditions"] = _stamp_conditions(conditions, (dep.get("status") or {}).get("conditions"), timestamp())
    ctl.set_status(dep, _compact("Deployment", status))


def replicaset(ctl, rs, pods):
    want = _rs_replicas(rs)
    if len(pods) < want:
        for _i in range(want - len(pods)):
            ctl.create("Pod", _new_pod(rs, rs["spec"]["template"], f"{rs['metadata']['name']}-{random_suffix()}", {}))
    elif len(pods) > want:
        # Not-ready pods go first, then the newest, as the ReplicaSet controller prefers.
        victims = sorted(pods, key=lambda p: p["metadata"].get("creationTimestamp", ""), reverse=True)
        victims.sort(key=is_ready)
        for pod in victims[:len(pods) - want]:
            ctl.delete(pod)
    ready = sum(1 for p in pods if is_ready(p))
    status = {
        "replicas": len(pods),
        "fullyLabeledReplicas": len(pods),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "observedGeneration": rs["metadata"].get("generation", 1),
    }
    ctl.set_status(rs, _compact("ReplicaSet", status))


# -- Job --------------------------------------------------------------------

def job(ctl, job_obj, pods):
    spec = job_obj["spec"]
    old = job_obj.get("status") or {}
    phases = [(p.get("status") or {}).get("phase") for p in pods]
    succeeded, failed = phases.count("Succeeded"), phases.count("Failed")
    active = len(pods) - succeeded - failed
    done = succeeded >= spec.get("completions", 1)
    if not done and active == 0 and not spec.get("suspend"):
        name = f"{job_obj['metadata']['name']}-{random_suffix()}"
        ctl.create("Pod", _new_pod(job_obj, spec["template"], name, {}))
    wall = timestamp()
    status = {
        "startTime": old.get("startTime") or wall,
        "active": active,
        "succeeded": succeeded,
        "failed": failed,
        "ready": sum(1 for p in pods if is_ready(p)),
        "terminating": 0,
        "uncountedTerminatedPods": {},
    }
    if done:
        status["completionTime"] = old.get("completionTime") or wall
        message = "Reached expected number of succeeded pods"
        conditions = [{"type": ctype, "status": "True", "reason": "CompletionsReached", "message": message}
                      for ctype in ("SuccessCriteriaMet", "Complete")]
        for cond in _stamp_conditions(conditions, old.get("conditions"), wall):
            cond["lastProbeTime"] = cond["lastTransitionTime"]
        status["conditions"] = conditions
    ctl.set_status(job_obj, _compact("Job", status))
