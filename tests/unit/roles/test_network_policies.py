"""The NetworkPolicies the roles render, decided connection by connection.

The shared render of tests/security_render.py (one site.yml run) holds:

- `dev`: the local inventory's host (inventories/local: every component, metrics on), with the
  defaults: the gate ports (ZooKeeper's AdminServer, metrics, REST) open to every source;
- `locked`: the same stack with streams_network_policy_api_server_peers set to the control plane's
  addresses, which closes those ports to everything else, and listeners with their own peers;
- `west`: a MirrorMaker 2 in another namespace mirroring from `locked`;
- `open`: streams_network_policies: false;
- `badpeers`: a listener whose network_policy_peers are wrong, refused in preflight.

tests/network_policy.py then decides (from, to, port) for each row of the tables.
"""

import pytest

from ansible_collections.streams.kafka.plugins.filter.standard_labels import standard_labels
from ansible_collections.streams.kafka.plugins.module_utils import manifest_schema
from tests.helpers import CRDS, KUBERNETES_VERSIONS
from tests.network_policy import Cluster, Host, Pod
from tests.security_render import NETWORK_HOSTS as HOSTS, REFUSED, render

API_SERVER = Host("192.168.10.5")          # a control plane node: the API server's pod proxy
OUTSIDE = Host("203.0.113.9")              # a client outside the cluster (through a node port)


@pytest.fixture(scope="module", name="rendered")
def rendered_fixture():
    return render()


def objects(rendered, host):
    return rendered.objects(host)


def policies(rendered, host):
    return [o for o in objects(rendered, host) if o["kind"] == "NetworkPolicy"]


def cluster(rendered):
    everything = policies(rendered, "dev") + policies(rendered, "locked") + policies(rendered, "west")
    return Cluster(everything, {"kafka": {}, "locked": {}, "west": {}, "apps": {"team": "apps"}, "web": {"team": "web"},
                                "monitoring": {}, "elsewhere": {}})


def pod(namespace, cluster_name, component, ip, **extra):
    labels = dict(standard_labels(cluster_name, component), **extra)
    return Pod(namespace, labels, ip)


def workload_pods(rendered, host):
    """Every pod template the host renders, as the evaluator's pods (with the containers' named ports)."""
    out = {}
    for obj in objects(rendered, host):
        if obj["kind"] in ("StatefulSet", "Deployment", "Job"):
            template = obj["spec"]["template"]
            ports = {p["name"]: p["containerPort"] for c in template["spec"]["containers"] for p in c.get("ports", []) if "name" in p}
            labels = template["metadata"]["labels"]
            out[labels["app.kubernetes.io/name"]] = Pod(obj["metadata"]["namespace"], labels, "10.128.0.1", ports)
    return out


# Sources
def dev(component, ip="10.128.1.1"):
    return pod("kafka", "dev", component, ip)


def locked(component, ip="10.128.2.1"):
    return pod("locked", "locked", component, ip)


APP_SAME_NS = Pod("kafka", {"app": "orders"}, "10.128.3.1")
APP_OTHER_NS = Pod("elsewhere", {"app": "orders"}, "10.128.3.2")
PROMETHEUS = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"}, "10.128.4.1")
APPS_CLIENT = Pod("apps", {"role": "client"}, "10.128.5.1")
APPS_OTHER = Pod("apps", {"role": "batch"}, "10.128.5.2")
WEB_POD = Pod("web", {"app": "shop"}, "10.128.6.1")
LOCKED_APP = Pod("locked", {"app": "orders"}, "10.128.7.1")
WEST_MM2 = pod("west", "west", "mirrormaker", "10.128.8.1")
WEST_OTHER = Pod("west", {"app": "orders"}, "10.128.8.2")

# (case, source, target host, target component, port, allowed)
CASES = [
    # the default stack (inventories/local)
    ("app in another namespace -> replication", APP_OTHER_NS, "dev", "kafka", 9091, False),
    ("app in the namespace -> replication", APP_SAME_NS, "dev", "kafka", 9091, False),
    ("broker -> broker replication", dev("kafka"), "dev", "kafka", 9091, True),
    ("connect -> replication", dev("connect"), "dev", "kafka", 9091, False),
    ("app in the namespace -> tls listener", APP_SAME_NS, "dev", "kafka", 9093, True),
    ("app in another namespace -> tls listener", APP_OTHER_NS, "dev", "kafka", 9093, False),
    ("bridge -> tls listener", dev("bridge"), "dev", "kafka", 9093, True),
    ("app in the namespace -> port 9092, which the defaults leave closed", APP_SAME_NS, "dev", "kafka", 9092, False),
    ("broker -> the users Job (it admits nothing)", dev("kafka"), "dev", "kafka-users", 9093, False),
    ("app in the namespace -> the users Job", APP_SAME_NS, "dev", "kafka-users", 8080, False),
    ("kafka -> zookeeper client port", dev("kafka"), "dev", "zookeeper", 2181, True),
    ("connect -> zookeeper client port", dev("connect"), "dev", "zookeeper", 2181, False),
    ("exporter -> zookeeper client port", dev("exporter"), "dev", "zookeeper", 2181, False),
    ("app in the namespace -> zookeeper client port", APP_SAME_NS, "dev", "zookeeper", 2181, False),
    ("users job -> zookeeper client port", dev("kafka-users"), "dev", "zookeeper", 2181, True),
    ("bridge -> zookeeper client port", dev("bridge"), "dev", "zookeeper", 2181, False),
    ("zookeeper -> zookeeper quorum", dev("zookeeper"), "dev", "zookeeper", 2888, True),
    ("zookeeper -> zookeeper election", dev("zookeeper"), "dev", "zookeeper", 3888, True),
    ("kafka -> zookeeper election", dev("kafka"), "dev", "zookeeper", 3888, False),
    ("kafka -> zookeeper quorum", dev("kafka"), "dev", "zookeeper", 2888, False),
    ("API server -> zookeeper AdminServer (gate)", API_SERVER, "dev", "zookeeper", 8080, True),
    ("API server -> kafka metrics (gate)", API_SERVER, "dev", "kafka", 9404, True),
    ("API server -> connect REST (gate)", API_SERVER, "dev", "connect", 8083, True),
    ("API server -> bridge (gate)", API_SERVER, "dev", "bridge", 8080, True),
    ("API server -> exporter (gate)", API_SERVER, "dev", "exporter", 9404, True),
    ("monitoring -> zookeeper metrics", PROMETHEUS, "dev", "zookeeper", 9404, True),
    ("app -> zookeeper metrics", APP_OTHER_NS, "dev", "zookeeper", 9404, False),
    ("monitoring -> connect metrics", PROMETHEUS, "dev", "connect", 9404, True),
    ("app in the namespace -> connect metrics", APP_SAME_NS, "dev", "connect", 9404, False),
    ("monitoring -> kafka metrics", PROMETHEUS, "dev", "kafka", 9404, True),
    ("app -> broker on a port nobody listens on", APP_SAME_NS, "dev", "kafka", 9999, False),
    # streams_network_policy_api_server_peers set: the gate ports close to everything else
    ("API server -> zookeeper AdminServer (gate), locked", API_SERVER, "locked", "zookeeper", 8080, True),
    ("app in the namespace -> zookeeper AdminServer, locked", LOCKED_APP, "locked", "zookeeper", 8080, False),
    ("API server -> kafka metrics (gate), locked", API_SERVER, "locked", "kafka", 9404, True),
    ("monitoring -> kafka metrics, locked", PROMETHEUS, "locked", "kafka", 9404, True),
    ("random pod -> kafka metrics, locked", APP_OTHER_NS, "locked", "kafka", 9404, False),
    ("app in the namespace -> kafka metrics, locked", LOCKED_APP, "locked", "kafka", 9404, False),
    ("API server -> exporter (gate), locked", API_SERVER, "locked", "exporter", 9404, True),
    ("monitoring -> exporter, locked", PROMETHEUS, "locked", "exporter", 9404, True),
    ("random pod -> exporter, locked", APP_OTHER_NS, "locked", "exporter", 9404, False),
    ("API server -> connect REST (gate), locked", API_SERVER, "locked", "connect", 8083, True),
    ("connect worker -> connect REST (forwarding to the leader), locked", locked("connect"), "locked", "connect", 8083, True),
    ("app in the namespace -> connect REST, locked", LOCKED_APP, "locked", "connect", 8083, False),
    ("bridge's peers (web namespace) -> bridge, locked", WEB_POD, "locked", "bridge", 8080, True),
    ("app in the namespace -> bridge (not among its peers), locked", LOCKED_APP, "locked", "bridge", 8080, False),
    ("API server -> bridge (gate), locked", API_SERVER, "locked", "bridge", 8080, True),
    # listeners with their own peers, external listeners
    ("apps client -> apps listener", APPS_CLIENT, "locked", "kafka", 9093, True),
    ("other apps pod -> apps listener", APPS_OTHER, "locked", "kafka", 9093, False),
    ("app in the namespace -> apps listener (peers replace the namespace)", LOCKED_APP, "locked", "kafka", 9093, False),
    ("connect -> apps listener (the collection's clients stay admitted)", locked("connect"), "locked", "kafka", 9093, True),
    ("apps client -> plain listener", APPS_CLIENT, "locked", "kafka", 9092, False),
    ("outside client -> node port listener", OUTSIDE, "locked", "kafka", 9094, True),
    ("app in another namespace -> node port listener", APP_OTHER_NS, "locked", "kafka", 9094, True),
    ("partner network -> partners listener", Host("198.51.100.20"), "locked", "kafka", 9095, True),
    ("outside client -> partners listener", OUTSIDE, "locked", "kafka", 9095, False),
    # MirrorMaker 2 of another namespace that mirrors from this cluster
    ("west's mirrormaker -> locked plain listener", WEST_MM2, "locked", "kafka", 9092, True),
    ("west's mirrormaker -> locked apps listener", WEST_MM2, "locked", "kafka", 9093, True),
    ("other pod of west -> locked plain listener", WEST_OTHER, "locked", "kafka", 9092, False),
    ("west's mirrormaker -> locked replication", WEST_MM2, "locked", "kafka", 9091, False),
    ("west's mirrormaker -> dev tls listener (dev is not its source)", Pod("kafka", WEST_MM2.labels, "10.128.8.1"), "dev", "kafka", 9093, True),
    ("west's mirrormaker in west -> dev tls listener", WEST_MM2, "dev", "kafka", 9093, False),
]


def test_the_run_renders_every_valid_host_and_refuses_bad_peers(rendered):
    assert {host for _task, host, _msg in rendered.run.failures()} == REFUSED, rendered.run.describe()
    for host in ("dev", "locked", "west", "open"):
        assert rendered.directory(host).is_dir(), host


def test_bad_peers_are_refused_naming_the_listener_and_what_is_valid(rendered):
    messages = " ".join(msg for _task, _host, msg in rendered.run.failures("badpeers"))
    assert "kafka_listeners[0] (plain) network_policy_peers[0] combines ipBlock with a selector" in messages, messages
    assert "network_policy_peers[1].namespaceSelector matchLabels='apps' is not valid" in messages, messages


def test_bad_shared_settings_are_refused_in_preflight(rendered):
    messages = " ".join(msg for _task, _host, msg in rendered.run.failures("badapi"))
    assert "streams_network_policy_api_server_peers[0].ipBlock.cidr='10.0.0.0' needs a prefix length" in messages, messages
    assert "streams_monitoring_namespace_selector has matchExpression; a label selector has matchLabels and matchExpressions" in messages
    messages = " ".join(msg for _task, _host, msg in rendered.run.failures("badbridge"))
    assert "bridge_network_policy_peers[0].podSelector matchExpressions[0] operator='in' is not valid: use one of In, NotIn" in messages, messages


@pytest.mark.parametrize("case, source, host, component, port, allowed", CASES, ids=[c[0] for c in CASES])
def test_connection(rendered, case, source, host, component, port, allowed):
    target = workload_pods(rendered, host)[component]
    verdict = cluster(rendered).why(source, target, port)
    assert (verdict is not None) == allowed, "%s: %s (decided by %s)" % (case, "denied" if allowed else "allowed", verdict)


def test_at_least_twenty_cases_of_each_verdict_kind():
    assert len(CASES) >= 20
    assert sum(1 for c in CASES if c[-1]) >= 10 and sum(1 for c in CASES if not c[-1]) >= 10


@pytest.mark.parametrize("host", ["dev", "locked", "west"])
def test_every_workload_is_selected_by_its_policy(rendered, host):
    found = policies(rendered, host)
    pods = workload_pods(rendered, host)
    assert pods and len(found) == len(pods)
    check = Cluster(found)
    for component, target in pods.items():
        selecting = [p["metadata"]["name"] for p in check._selecting(target, "Ingress")]  # pylint: disable=protected-access
        assert len(selecting) == 1, (component, selecting)


@pytest.mark.parametrize("host", ["dev", "locked", "west"])
def test_policies_validate_strictly_and_carry_the_standard_labels(rendered, host):
    found = policies(rendered, host)
    crds = manifest_schema.load_crd_schemas([str(CRDS)])
    assert len(manifest_schema.validate_manifests(found, KUBERNETES_VERSIONS, crds, {})) == len(found)
    cluster_name = HOSTS[host].get("streams_cluster_name", host)
    for obj in found:
        component = obj["metadata"]["labels"]["app.kubernetes.io/component"]
        assert obj["metadata"]["labels"] == standard_labels(cluster_name, component)
        assert obj["metadata"]["name"] == "%s-%s" % (cluster_name, component)
        assert obj["spec"]["policyTypes"] == ["Ingress"]


def test_switch_off_renders_no_policies(rendered):
    assert [o for o in objects(rendered, "open") if o["kind"] == "NetworkPolicy"] == []
    assert [o for o in objects(rendered, "open") if o["kind"] == "StatefulSet"]


def test_metrics_off_leaves_no_metrics_rule(rendered):
    kafka_metrics_only = [r for p in policies(rendered, "west") for r in p["spec"]["ingress"]
                          if any(port["port"] == 9404 for port in r.get("ports", []))]
    assert kafka_metrics_only == [], kafka_metrics_only
