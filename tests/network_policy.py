"""An evaluator for the part of Kubernetes NetworkPolicy (networking.k8s.io/v1) the roles render.

Given policies, the namespaces with their labels, a source and a destination pod and a port, it
decides whether the connection is allowed, following the API's documented semantics:

- a pod that no policy with policyTypes Ingress selects accepts every connection; a pod that any
  does accepts only what the union of those policies' ingress rules allows (the same for Egress
  on the source side);
- a rule matches when one of its ports matches (no ports: every port) and one of its peers
  matches (no `from`: every source);
- peers: podSelector alone selects pods of the policy's namespace, namespaceSelector alone every
  pod of the matching namespaces, both together pods matching both; ipBlock matches the source's
  address (pods' addresses too, as the upstream conformance tests do) outside its `except` blocks;
- ports by number (with endPort) or by name, resolved against the destination container's ports.

Only TCP is modelled. Namespaces carry kubernetes.io/metadata.name automatically, as the API
server sets it.

The library `kube-netpol` (PyPI) was looked at first: its simulator ignores matchExpressions and
namespace labels, so it cannot decide the cases these tests need.
"""

import ipaddress
from dataclasses import dataclass, field
from typing import Dict, Optional


@dataclass(frozen=True)
class Pod:
    """A pod: namespace, labels, address, and its containers' named ports (name -> number)."""
    namespace: str
    labels: Dict[str, str]
    ip: Optional[str] = None
    ports: Dict[str, int] = field(default_factory=dict)

    def __hash__(self):
        return hash((self.namespace, tuple(sorted(self.labels.items())), self.ip))


@dataclass(frozen=True)
class Host:
    """A source that is no pod: a node, the API server on the host network, a client outside."""
    ip: str


def selector_matches(selector, labels):
    """A LabelSelector against a label dict; an empty selector matches everything."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise ValueError("unknown label selector operator %r" % operator)
    return True


def _ip_in_block(ip, block):
    if ip is None:
        return False
    address = ipaddress.ip_address(ip)
    network = ipaddress.ip_network(block["cidr"], strict=False)
    if address.version != network.version or address not in network:
        return False
    return not any(address in ipaddress.ip_network(e, strict=False) for e in block.get("except") or [])


def _policy_types(policy):
    spec = policy.get("spec") or {}
    if spec.get("policyTypes"):
        return spec["policyTypes"]
    return ["Ingress"] + (["Egress"] if spec.get("egress") else [])


class Cluster:
    """Policies and namespaces; `allowed()` decides one connection, `why()` says which rule allowed it."""

    def __init__(self, policies, namespaces=None):
        self.policies = [p for p in policies if p.get("kind") == "NetworkPolicy"]
        for policy in self.policies:
            if policy.get("apiVersion") != "networking.k8s.io/v1":
                raise ValueError("not a networking.k8s.io/v1 NetworkPolicy: %r" % policy.get("apiVersion"))
        self.namespaces = {}
        for name, labels in (namespaces or {}).items():
            self.namespaces[name] = dict(labels or {}, **{"kubernetes.io/metadata.name": name})
        for policy in self.policies:
            namespace = policy["metadata"]["namespace"]
            self.namespaces.setdefault(namespace, {"kubernetes.io/metadata.name": namespace})

    def _namespace_labels(self, name):
        return self.namespaces.get(name, {"kubernetes.io/metadata.name": name})

    def _peer_matches(self, peer, policy_namespace, other):
        if "ipBlock" in peer:
            return _ip_in_block(getattr(other, "ip", None), peer["ipBlock"])
        if not isinstance(other, Pod):
            return False  # selectors select pods only
        pod_selector, namespace_selector = peer.get("podSelector"), peer.get("namespaceSelector")
        if namespace_selector is None:
            if other.namespace != policy_namespace:
                return False
        elif not selector_matches(namespace_selector, self._namespace_labels(other.namespace)):
            return False
        return pod_selector is None or selector_matches(pod_selector, other.labels)

    @staticmethod
    def _port_matches(ports, target, port):
        if not ports:
            return True
        for entry in ports:
            if entry.get("protocol", "TCP") != "TCP":
                continue
            wanted = entry.get("port")
            if wanted is None:
                return True
            if isinstance(wanted, str):
                wanted = target.ports.get(wanted)
                if wanted is None:
                    continue
                if wanted == port:
                    return True
                continue
            if wanted == port or (entry.get("endPort") is not None and wanted <= port <= entry["endPort"]):
                return True
        return False

    def _selecting(self, pod, direction):
        return [p for p in self.policies
                if p["metadata"]["namespace"] == pod.namespace
                and selector_matches(p["spec"].get("podSelector", {}), pod.labels)
                and direction in _policy_types(p)]

    def why(self, source, target, port):
        """The name of the policy whose rule admits the connection, 'not isolated', or None (denied)."""
        ingress = self._selecting(target, "Ingress")
        reason = "not isolated" if not ingress else None
        for policy in ingress:
            for rule in policy["spec"].get("ingress") or []:
                peers = rule.get("from")
                if self._port_matches(rule.get("ports"), target, port) and (
                        not peers or any(self._peer_matches(peer, policy["metadata"]["namespace"], source) for peer in peers)):
                    reason = policy["metadata"]["name"]
                    break
            if reason:
                break
        if reason is None:
            return None
        if isinstance(source, Pod):
            egress = self._selecting(source, "Egress")
            if egress and not any(
                    self._port_matches(rule.get("ports"), target, port)
                    and (not rule.get("to") or any(self._peer_matches(peer, p["metadata"]["namespace"], target) for peer in rule["to"]))
                    for p in egress for rule in p["spec"].get("egress") or []):
                return None
        return reason

    def allowed(self, source, target, port):
        return self.why(source, target, port) is not None
