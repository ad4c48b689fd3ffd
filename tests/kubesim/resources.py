"""The API resource catalog and the discovery documents built from it.

Adding a kind is one line in CATALOG.
"""
from dataclasses import dataclass

VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")

# Subresource name -> how discovery describes it; "kind": None means the parent's kind.
SUBRESOURCES = {
    "status": {"kind": None, "verbs": ["get", "patch", "update"]},
    "scale": {"kind": "Scale", "group": "autoscaling", "version": "v1", "verbs": ["get", "patch", "update"]},
    "log": {"kind": "Pod", "verbs": ["get"]},
    "proxy": {"kind": "PodProxyOptions", "verbs": ["create", "delete", "get", "patch", "update"]},
}


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple = ()
    subresources: tuple = ()
    verbs: tuple = VERBS
    # CRD-served kinds keep kind/apiVersion on list items; built-in kinds do not.
    custom: bool = False

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self):
        return self.kind.lower()

    @property
    def qualified(self):
        """Name used in error messages, e.g. ``statefulsets.apps``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def key(self):
        return (self.group, self.plural)

    @property
    def stored(self):
        """Review-style kinds (create only) are answered, never stored."""
        return "get" in self.verbs


R = Resource
RBAC = "rbac.authorization.k8s.io"
MONITORING = "monitoring.coreos.com"
CATALOG = (
    R("", "v1", "namespaces", "Namespace", False, ("ns",), ("status",)),
    R("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    R("", "v1", "secrets", "Secret", True),
    R("", "v1", "services", "Service", True, ("svc",), ("status",)),
    R("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",)),
    R("", "v1", "pods", "Pod", True, ("po",), ("status", "log", "proxy")),
    R("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ("pvc",), ("status",)),
    R("", "v1", "endpoints", "Endpoints", True, ("ep",)),
    R("", "v1", "events", "Event", True, ("ev",)),
    R("apps", "v1", "statefulsets", "StatefulSet", True, ("sts",), ("status", "scale")),
    R("apps", "v1", "deployments", "Deployment", True, ("deploy",), ("status", "scale")),
    R("apps", "v1", "replicasets", "ReplicaSet", True, ("rs",), ("status", "scale")),
    R("batch", "v1", "jobs", "Job", True, (), ("status",)),
    R("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ("pdb",), ("status",)),
    R("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ("netpol",)),
    R("networking.k8s.io", "v1", "ingresses", "Ingress", True, ("ing",), ("status",)),
    R(RBAC, "v1", "roles", "Role", True),
    R(RBAC, "v1", "rolebindings", "RoleBinding", True),
    R(RBAC, "v1", "clusterroles", "ClusterRole", False),
    R(RBAC, "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    R("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False, verbs=("create",)),
    R("route.openshift.io", "v1", "routes", "Route", True, (), ("status",)),
    R(MONITORING, "v1", "servicemonitors", "ServiceMonitor", True, ("smon",), custom=True),
    R(MONITORING, "v1", "podmonitors", "PodMonitor", True, ("pmon",), custom=True),
    R(MONITORING, "v1", "prometheusrules", "PrometheusRule", True, ("promrule",), custom=True),
)


def _resource_entry(res):
    entry = {
        "name": res.plural,
        "singularName": res.singular,
        "namespaced": res.namespaced,
        "kind": res.kind,
        "verbs": list(res.verbs),
    }
    if res.short_names:
        entry["shortNames"] = list(res.short_names)
    return entry


def _subresource_entry(res, sub):
    info = dict(SUBRESOURCES[sub])
    entry = {
        "name": f"{res.plural}/{sub}",
        "singularName": "",
        "namespaced": res.namespaced,
        "kind": info.pop("kind") or res.kind,
        "verbs": info.pop("verbs"),
    }
    entry.update(info)
    return entry


class Catalog:
    """Lookup of resources by URL segments or by apiVersion/kind, plus discovery bodies."""

    def __init__(self, resources=CATALOG):
        self.resources = tuple(resources)
        self._by_path = {(r.group, r.version, r.plural): r for r in self.resources}
        self._by_kind = {(r.api_version, r.kind): r for r in self.resources}

    def lookup(self, group, version, plural):
        return self._by_path.get((group, version, plural))

    def by_kind(self, api_version, kind):
        """The resource for apiVersion/kind; KeyError if the server does not serve it."""
        return self._by_kind[(api_version, kind)]

    def group_versions(self):
        """Named groups in catalog order, each with its versions."""
        groups = {}
        for res in self.resources:
            if res.group:
                versions = groups.setdefault(res.group, [])
                if res.version not in versions:
                    versions.append(res.version)
        return groups

    def has_group_version(self, group, version):
        return any(r.group == group and r.version == version for r in self.resources)

    def api_versions(self, address):
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
        }

    def api_group(self, group):
        versions = self.group_versions().get(group)
        if versions is None:
            return None
        entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": entries, "preferredVersion": entries[0]}

    def api_group_list(self):
        groups = []
        for name in self.group_versions():
            group = self.api_group(name)
            del group["kind"], group["apiVersion"]
            groups.append(group)
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def resource_list(self, group, version):
        if not self.has_group_version(group, version):
            return None
        entries = []
        for res in self.resources:
            if res.group == group and res.version == version:
                entries.append(_resource_entry(res))
                entries.extend(_subresource_entry(res, sub) for sub in res.subresources)
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": entries,
        }
