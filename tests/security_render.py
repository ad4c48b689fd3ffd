"""One ansible-playbook run of playbooks/site.yml that the security tests share.

tests/unit/roles/test_network_policies.py, tests/unit/roles/test_pod_security.py and
tests/unit/test_checkov.py each need the local inventory's stack rendered, plus their own
variants; rendering them together costs one run instead of three. `render()` runs it once per
test session, into a temporary directory, in directory mode (no cluster).
"""

import atexit
import functools
import pathlib
import shutil
import tempfile

import yaml

from tests.helpers import REPO, load_manifests, run_playbook, write_inventory

LOCAL = REPO / "inventories" / "local"
# The host the local inventory (`make run`) renders: every component, metrics on, monitoring.
LOCAL_DEV = yaml.safe_load((LOCAL / "host_vars" / "dev.yml").read_text())
LOCAL_GROUP_VARS = yaml.safe_load((LOCAL / "group_vars" / "kafka_clusters" / "streams.yml").read_text())

# Hosts of the network policy tests.
NETWORK_HOSTS = {
    "dev": LOCAL_DEV,
    "locked": dict(LOCAL_DEV, streams_cluster_name="locked", streams_namespace="locked", monitoring_enabled=False,
                   streams_network_policy_api_server_peers=[{"ipBlock": {"cidr": "192.168.10.0/24"}}],
                   bridge_network_policy_peers=[{"namespaceSelector": {"matchLabels": {"team": "web"}}}],
                   # plaintext listeners, so no ACL authorizer (the components could not authenticate)
                   kafka_authorization="none",
                   kafka_listeners=[
                       {"name": "plain", "port": 9092, "type": "internal", "tls": False},
                       {"name": "apps", "port": 9093, "type": "internal", "tls": False,
                        "network_policy_peers": [{"namespaceSelector": {"matchLabels": {"team": "apps"}},
                                                  "podSelector": {"matchLabels": {"role": "client"}}}]},
                       {"name": "external", "port": 9094, "type": "nodeport", "tls": False,
                        "advertised_host_template": "node-{id}.example.com", "node_port_base": 31000},
                       {"name": "partners", "port": 9095, "type": "nodeport", "tls": False,
                        "advertised_host_template": "node-{id}.example.com", "node_port_base": 31100,
                        "network_policy_peers": [{"ipBlock": {"cidr": "198.51.100.0/24"}}]}]),
    "west": {"streams_namespace": "west", "mirrormaker_sources": ["locked"], "zookeeper_enabled": False, "kafka_enabled": False},
    "open": {"streams_network_policies": False, "streams_namespace": "open", "zookeeper_enabled": False},
    "badpeers": {"streams_namespace": "bad", "kafka_listeners": [
        {"name": "plain", "port": 9092, "type": "internal", "network_policy_peers": [
            {"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}, {"namespaceSelector": {"matchLabels": "apps"}}]}]},
    "badapi": {"streams_namespace": "bad", "streams_network_policy_api_server_peers": [{"ipBlock": {"cidr": "10.0.0.0"}}],
               "streams_monitoring_namespace_selector": {"matchLabels": {"name": "monitoring"}, "matchExpression": []}},
    "badbridge": {"streams_namespace": "bad", "bridge_enabled": True,
                  "bridge_network_policy_peers": [{"podSelector": {"matchExpressions": [{"key": "app", "operator": "in", "values": ["a"]}]}}]},
}
# Hosts of the pod security tests (with dev).
POD_HOSTS = {
    "rack": {"streams_namespace": "rack", "kafka_rack_topology_key": "topology.kubernetes.io/zone",
             "kafka_storage_type": "jbod", "kafka_storage_volumes": [{"size": "10Gi"}, {"size": "10Gi"}],
             # and the users Job, which SCRAM users with ACLs bring
             "kafka_listeners": [{"name": "plain", "port": 9092, "type": "internal", "tls": False},
                                 {"name": "tls", "port": 9093, "type": "internal", "tls": True, "authentication": "scram-sha-512"}],
             "kafka_authorization": "simple",
             "kafka_users": [{"name": "orders-app", "authentication": "scram-sha-512", "password_secret": {"name": "orders-login", "key": "password"},
                              "acls": [{"resource": {"type": "topic", "name": "orders"}, "operations": ["Read", "Describe"]}]}]},
    "downward": {"streams_namespace": "downward", "kafka_rack_topology_key": "topology.kubernetes.io/zone",
                 "kafka_rack_source": "downward", "zookeeper_enabled": False},
    # the ACL authorizer: the components mount their client certificates (restricted all the same)
    "ocp": dict(LOCAL_DEV, connect_enabled=False, streams_platform="openshift", streams_cluster_name="ocp", streams_namespace="ocp",
                bridge_metrics_enabled=True, kafka_authorization="simple",
                kafka_listeners=[{"name": "mtls", "port": 9094, "type": "internal", "tls": True, "authentication": "tls"}],
                mirrormaker_sources=["downward"], mirrormaker_metrics_enabled=True, monitoring_enabled=False),
}
HOSTS = dict(NETWORK_HOSTS, **POD_HOSTS)
REFUSED = {"badpeers", "badapi", "badbridge"}


class Rendered:
    def __init__(self, root, run):
        self.root = root
        self.run = run
        self._objects = {}

    def objects(self, host):
        """Every object written for the host, from all its manifest files."""
        if host not in self._objects:
            out = []
            for path in sorted((self.root / "out" / host).glob("*.yaml")):
                out.extend(load_manifests(path))
            assert out, self.run.describe()
            self._objects[host] = out
        return self._objects[host]

    def directory(self, host):
        return self.root / "out" / host


@functools.lru_cache(maxsize=None)
def render():
    root = pathlib.Path(tempfile.mkdtemp(prefix="streams-security-"))
    group_vars = dict(LOCAL_GROUP_VARS, streams_manifest_dir="out")
    inventory = write_inventory(root / "hosts.yml", HOSTS, group_vars=group_vars)
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    run = run_playbook(root, inventory, args=["--forks", "8"], timeout=900)
    return Rendered(root, run)
