"""Server-side defaulting and validation, so stored objects look like a real cluster's.

Defaults are applied on every write; a patch that only removes a defaulted field therefore
changes nothing, as on a real server.
"""
import base64
import hashlib

from .errors import invalid
from .selectors import matches_label_selector


def _container(container):
    image = container.get("image", "")
    tag = image.rsplit("/", 1)[-1]
    pull = "Always" if ":" not in tag or tag.endswith(":latest") else "IfNotPresent"
    container.setdefault("imagePullPolicy", pull)
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("resources", {})
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")


def pod_spec(spec):
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        _container(container)


def _template(obj):
    template = obj.setdefault("spec", {}).setdefault("template", {})
    template.setdefault("metadata", {})
    pod_spec(template.setdefault("spec", {}))
    return template


def _check_selector(res, obj):
    spec = obj.get("spec") or {}
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    selector = spec.get("selector")
    name = obj["metadata"].get("name", "")
    if not selector:
        raise invalid(res, name, "spec.selector: Required value")
    if not matches_label_selector(selector, labels):
        raise invalid(res, name, "spec.template.metadata.labels: Invalid value: "
                      f"{labels}: `selector` does not match template `labels`")


def _namespace(_res, obj):
    name = obj["metadata"]["name"]
    obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {}).setdefault("phase", "Active")


def _pod(_res, obj):
    pod_spec(obj.setdefault("spec", {}))
    obj.setdefault("status", {}).setdefault("phase", "Pending")


def _secret(_res, obj):
    obj.setdefault("type", "Opaque")
    string_data = obj.pop("stringData", None) or {}
    if string_data:
        data = obj.setdefault("data", {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()


def _service(_res, obj):
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    if "clusterIP" not in spec:
        digest = hashlib.sha256(f"{obj['metadata'].get('namespace')}/{obj['metadata']['name']}".encode()).digest()
        spec["clusterIP"] = f"10.96.{digest[0]}.{digest[1] or 1}"
    spec.setdefault("clusterIPs", [spec["clusterIP"]])
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
    obj.setdefault("status", {}).setdefault("loadBalancer", {})


def _pvc(_res, obj):
    spec = obj.setdefault("spec", {})
    spec.setdefault("volumeMode", "Filesystem")
    spec.setdefault("storageClassName", "standard")
    spec.setdefault("volumeName", f"pvc-{obj['metadata'].get('uid', '')}")
    # Volumes bind at once: there is no provisioner to wait for.
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
    status = obj.setdefault("status", {})
    status.setdefault("phase", "Bound")
    status.setdefault("accessModes", spec.get("accessModes") or ["ReadWriteOnce"])
    status.setdefault("capacity", {"storage": storage})


def _statefulset(res, obj):
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy.setdefault("type", "RollingUpdate")
        strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    for claim in spec.get("volumeClaimTemplates") or []:
        claim.setdefault("apiVersion", "v1")
        claim.setdefault("kind", "PersistentVolumeClaim")
        claim.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
        claim.setdefault("status", {}).setdefault("phase", "Pending")
    _template(obj)
    _check_selector(res, obj)
    # replicas and availableReplicas are never omitted, so even a new StatefulSet shows them.
    obj.setdefault("status", {}).setdefault("replicas", 0)
    obj["status"].setdefault("availableReplicas", 0)


def _deployment(res, obj):
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy.setdefault("type", "RollingUpdate")
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxSurge", "25%")
        rolling.setdefault("maxUnavailable", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _template(obj)
    _check_selector(res, obj)


def _replicaset(res, obj):
    obj.setdefault("spec", {}).setdefault("replicas", 1)
    _template(obj)
    _check_selector(res, obj)
    obj.setdefault("status", {}).setdefault("replicas", 0)


def _job(_res, obj):
    spec = obj.setdefault("spec", {})
    uid = obj["metadata"].get("uid", "")
    for key, value in (("completions", 1), ("parallelism", 1), ("backoffLimit", 6), ("completionMode", "NonIndexed"),
                       ("suspend", False), ("manualSelector", False), ("podReplacementPolicy", "TerminatingOrFailed")):
        spec.setdefault(key, value)
    # Jobs may not use the pod default "Always", so default before the pod spec is defaulted.
    spec.setdefault("template", {}).setdefault("spec", {}).setdefault("restartPolicy", "Never")
    template = _template(obj)
    if not spec["manualSelector"]:
        labels = template["metadata"].setdefault("labels", {})
        labels.update({"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": obj["metadata"]["name"],
                       "controller-uid": uid, "job-name": obj["metadata"]["name"]})
        spec.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})


DEFAULTERS = {
    "Namespace": _namespace,
    "Pod": _pod,
    "Secret": _secret,
    "Service": _service,
    "PersistentVolumeClaim": _pvc,
    "StatefulSet": _statefulset,
    "Deployment": _deployment,
    "ReplicaSet": _replicaset,
    "Job": _job,
}


def apply_defaults(res, obj):
    """Default ``obj`` in place (it already has full metadata) and validate what the server validates."""
    defaulter = DEFAULTERS.get(res.kind)
    if defaulter:
        defaulter(res, obj)
    return obj
