"""The kafka role in KRaft mode (streams_metadata_mode: kraft), in directory mode: what it renders
for dedicated and combined controllers and for Kafka 4, and what its preflight refuses.

One ansible-playbook run of playbooks/site.yml renders every case (one inventory host each); a
second run of one host shows the cluster id does not change between renders.
"""

import os
import pathlib
import subprocess

import pytest

from ansible_collections.streams.kafka.plugins.filter.kraft_cluster_id import is_kraft_cluster_id, kraft_cluster_id
from ansible_collections.streams.kafka.plugins.filter.standard_labels import standard_labels
from ansible_collections.streams.kafka.plugins.module_utils import manifest_schema
from tests.helpers import CRDS, KUBERNETES_VERSIONS, load_manifests, run_playbook, write_inventory
from tests.zookeeper_ensemble import parse_properties

from tests.unit.roles.test_zookeeper_render import restricted_violations

KRAFT = {"streams_metadata_mode": "kraft"}
FIXED_ID = "MkU3OEVBNTcwNTJENDM2Qg"

VALID = {
    "dedicated": dict(KRAFT),
    "combined": dict(KRAFT, kafka_controller_mode="combined"),
    "kafka4": dict(KRAFT, streams_kafka_version="4.0.0", streams_namespace="streams-k4", kafka_controller_replicas=5,
                   kafka_controller_storage_class="fast-ssd", kafka_cluster_id=FIXED_ID, kafka_log_level="WARN"),
    "solo": dict(KRAFT, kafka_controller_mode="combined", kafka_replicas=1, kafka_authorization="none",
                 kafka_listeners=[{"name": "plain", "port": 9092, "type": "internal"}], kafka_anti_affinity="none",
                 kafka_topology_spread="none"),
}

# host -> (variables, [fragments the failure message must contain])
REFUSED = {
    "even-controllers": (dict(KRAFT, kafka_controller_replicas=4),
                         ["kafka_controller_replicas=4 is not valid", "1, 3, 5 or 7"]),
    "zero-controllers": (dict(KRAFT, kafka_controller_replicas=0), ["kafka_controller_replicas=0 is not valid"]),
    "nine-controllers": (dict(KRAFT, kafka_controller_replicas=9), ["kafka_controller_replicas=9 is not valid"]),
    "with-zookeeper": (dict(KRAFT, zookeeper_enabled=True),
                       ["zookeeper_enabled=true cannot go with streams_metadata_mode='kraft'"]),
    "protocol": (dict(KRAFT, kafka_inter_broker_protocol_version="3.8"),
                 ["kafka_inter_broker_protocol_version='3.8' cannot be set with streams_metadata_mode='kraft'", "metadata.version"]),
    "zookeeper-connect": (dict(KRAFT, kafka_zookeeper_connect="zk:2181"),
                          ["kafka_zookeeper_connect='zk:2181' cannot be set with streams_metadata_mode='kraft'"]),
    "combined-four": (dict(KRAFT, kafka_controller_mode="combined", kafka_replicas=4),
                      ["kafka_replicas=4 is not valid with kafka_controller_mode='combined'", "1, 3 or 5"]),
    "combined-seven": (dict(KRAFT, kafka_controller_mode="combined", kafka_replicas=7),
                       ["kafka_replicas=7 is not valid with kafka_controller_mode='combined'"]),
    "bad-cluster-id": (dict(KRAFT, kafka_cluster_id="not-a-cluster-id"),
                       ["kafka_cluster_id='not-a-cluster-id' is not valid", "22 characters"]),
    "unknown-version": (dict(KRAFT, streams_kafka_version="4.9.0"),
                        ["streams_kafka_version='4.9.0' has no default image", "set kafka_image"]),
    "controller-heap": (dict(KRAFT, kafka_controller_jvm_heap="1Gi"),
                        ["kafka_controller_jvm_heap='1Gi' do not fit", "80% of the memory limit"]),
    "controller-mode": (dict(KRAFT, kafka_controller_mode="mixed"), ["kafka_controller_mode", "dedicated, combined"]),
}


def _run(tmp, hosts):
    inventory = write_inventory(tmp / "hosts.yml", hosts, group_vars={"streams_deploy_to": "directory", "streams_manifest_dir": "out"})
    return tmp, run_playbook(tmp, inventory, args=["--forks", "20"], timeout=900)


@pytest.fixture(scope="module", name="kraft")
def kraft_fixture(tmp_path_factory):
    hosts = dict(VALID)
    hosts.update({host: variables for host, (variables, _fragments) in REFUSED.items()})
    return _run(tmp_path_factory.mktemp("kraft"), hosts)


@pytest.fixture(scope="module", name="again")
def again_fixture(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("kraft-again"), {"dedicated": VALID["dedicated"]})


def manifests(run, host):
    tmp, result = run
    path = tmp / "out" / host / "20-kafka.yaml"
    assert path.is_file(), result.describe()
    return load_manifests(path)


def named(objs, kind, name):
    found = [obj for obj in objs if obj["kind"] == kind and obj["metadata"]["name"] == name]
    assert len(found) == 1, (kind, name, [o["metadata"]["name"] for o in objs if o["kind"] == kind])
    return found[0]


def properties(run, host, configmap, key):
    return parse_properties(named(manifests(run, host), "ConfigMap", configmap)["data"][key])


def namespace(host):
    return VALID[host].get("streams_namespace", "kafka")


# --- the run ------------------------------------------------------------------------------

def test_valid_hosts_pass_and_refused_hosts_fail_in_the_pre_pass(kraft):
    tmp, run = kraft
    assert {host for _task, host, _msg in run.failures()} == set(REFUSED), run.describe()
    for host in VALID:
        assert (tmp / "out" / host / "20-kafka.yaml").is_file(), run.describe()
        # no ZooKeeper in KRaft mode
        assert not (tmp / "out" / host / "10-zookeeper.yaml").exists()


@pytest.mark.parametrize("host", sorted(REFUSED))
def test_refusal_names_the_setting_and_what_is_valid(kraft, host):
    tmp, run = kraft
    messages = [msg for _task, _name, msg in run.failures(host)]
    assert len(messages) == 1, messages
    for fragment in REFUSED[host][1]:
        assert fragment in messages[0], messages[0]
    assert not (tmp / "out" / host).exists()


# --- the objects ----------------------------------------------------------------------------

@pytest.mark.parametrize("host", sorted(VALID))
def test_objects_pass_strict_schema_validation(kraft, host):
    objs = manifests(kraft, host)
    crds = manifest_schema.load_crd_schemas([str(CRDS)])
    labels = {"app.kubernetes.io/instance": host, "app.kubernetes.io/part-of": "streams",
              "app.kubernetes.io/managed-by": "streams.kafka"}
    refs = []
    for component in ("kafka", "kafka-controller", "kafka-users"):
        group = [obj for obj in objs if obj["metadata"]["labels"]["app.kubernetes.io/component"] == component]
        refs += manifest_schema.validate_manifests(group, KUBERNETES_VERSIONS, crds, dict(labels, **{"app.kubernetes.io/component": component}))
    assert len(refs) == len(objs)
    for obj in objs:
        assert "zookeeper" not in obj["metadata"]["name"]


def test_object_set_of_dedicated_and_combined(kraft):
    def names(host):
        return sorted("%s/%s" % (o["kind"], o["metadata"]["name"]) for o in manifests(kraft, host)
                      if o["kind"] != "Job" and not o["metadata"]["name"].endswith("-users"))
    assert names("dedicated") == [
        "ConfigMap/dedicated-kafka-config", "ConfigMap/dedicated-kafka-controller-config", "ConfigMap/dedicated-kafka-kraft",
        "NetworkPolicy/dedicated-kafka", "NetworkPolicy/dedicated-kafka-controller",
        "PodDisruptionBudget/dedicated-kafka", "PodDisruptionBudget/dedicated-kafka-controller",
        "Service/dedicated-kafka-bootstrap", "Service/dedicated-kafka-brokers", "Service/dedicated-kafka-controllers",
        "StatefulSet/dedicated-kafka", "StatefulSet/dedicated-kafka-controller"]
    assert names("combined") == [
        "ConfigMap/combined-kafka-config", "ConfigMap/combined-kafka-kraft", "NetworkPolicy/combined-kafka",
        "PodDisruptionBudget/combined-kafka", "Service/combined-kafka-bootstrap", "Service/combined-kafka-brokers",
        "StatefulSet/combined-kafka"]


def voters(host, count, combined):
    ns = namespace(host)
    if combined:
        return ",".join("%d@%s-kafka-%d.%s-kafka-brokers.%s.svc:9090" % (i, host, i, host, ns) for i in range(count))
    return ",".join("%d@%s-kafka-controller-%d.%s-kafka-controllers.%s.svc:9090" % (1000 + i, host, i, host, ns) for i in range(count))


ZOOKEEPER_KEYS = ("zookeeper.", "inter.broker.protocol.version", "broker.id")


@pytest.mark.parametrize("host, count", [("dedicated", 3), ("kafka4", 5)])
def test_dedicated_brokers_and_controllers_properties(kraft, host, count):
    broker = properties(kraft, host, "%s-kafka-config" % host, "server.properties")
    controller = properties(kraft, host, "%s-kafka-controller-config" % host, "controller.properties")
    for props in (broker, controller):
        assert not [key for key in props if key.startswith(ZOOKEEPER_KEYS)], props
        assert props["controller.listener.names"] == "CONTROLLER"
        assert props["controller.quorum.voters"] == voters(host, count, False)
        assert props["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
        assert "User:%s-kafka" % host in props["super.users"].split(";")
        assert props["listener.name.controller.ssl.client.auth"] == "required"
        assert props["listener.name.controller.ssl.truststore.location"] == "/opt/streams/certs/ca.crt"
        assert props["listener.name.controller.ssl.keystore.certificate.chain"] == "${directory:/opt/streams/certs:tls.crt}"
    assert broker["process.roles"] == "broker" and controller["process.roles"] == "controller"
    assert broker["listeners"] == "REPLICATION://0.0.0.0:9091,TLS://0.0.0.0:9093"
    assert broker["listener.security.protocol.map"] == "REPLICATION:SSL,TLS:SSL,CONTROLLER:SSL"
    assert controller["listeners"] == "CONTROLLER://0.0.0.0:9090"
    assert controller["listener.security.protocol.map"] == "CONTROLLER:SSL"
    assert controller["log.dirs"] == "/var/lib/kafka/data-0/kafka-log"


@pytest.mark.parametrize("host, count", [("combined", 3), ("solo", 1)])
def test_combined_brokers_are_the_voters(kraft, host, count):
    props = properties(kraft, host, "%s-kafka-config" % host, "server.properties")
    assert not [key for key in props if key.startswith(ZOOKEEPER_KEYS)], props
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == voters(host, count, True)
    assert props["listeners"].endswith(",CONTROLLER://0.0.0.0:9090")
    assert props["listener.security.protocol.map"].endswith(",CONTROLLER:SSL")
    sts = named(manifests(kraft, host), "StatefulSet", "%s-kafka" % host)
    ports = [p["containerPort"] for p in sts["spec"]["template"]["spec"]["containers"][0]["ports"]]
    assert 9090 in ports
    assert [c["name"] for c in sts["spec"]["template"]["spec"]["initContainers"]] == ["kafka-format"]
    if host == "solo":
        assert "authorizer.class.name" not in props
    else:
        # the voters reach each other on 9090: the brokers' NetworkPolicy admits the brokers there
        policy = named(manifests(kraft, host), "NetworkPolicy", "%s-kafka" % host)
        rule = [r for r in policy["spec"]["ingress"] if {"protocol": "TCP", "port": 9090} in r.get("ports", [])]
        assert rule and rule[0]["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/instance": host,
                                                                             "app.kubernetes.io/name": "kafka"}}}]


def test_statefulsets_identity_annotation_and_selectors(kraft):
    objs = manifests(kraft, "dedicated")
    brokers = named(objs, "StatefulSet", "dedicated-kafka")
    controllers = named(objs, "StatefulSet", "dedicated-kafka-controller")
    assert brokers["metadata"]["annotations"]["streams.kafka/metadata-mode"] == "kraft"
    assert "streams.kafka/inter-broker-protocol-version" not in brokers["metadata"]["annotations"]
    assert controllers["spec"]["replicas"] == 3 and controllers["spec"]["serviceName"] == "dedicated-kafka-controllers"
    assert controllers["spec"]["updateStrategy"] == {"type": "OnDelete"}
    assert controllers["spec"]["podManagementPolicy"] == "Parallel"
    broker_selector = brokers["spec"]["selector"]["matchLabels"]
    controller_labels = controllers["spec"]["template"]["metadata"]["labels"]
    assert controller_labels == standard_labels("dedicated", "kafka-controller")
    # the brokers' selector (the gate's, the PDB's, the Services') never catches a controller pod
    assert not broker_selector.items() <= controller_labels.items()
    for obj in objs:
        selector = (obj["spec"].get("selector") or {}) if obj["kind"] in ("Service", "PodDisruptionBudget", "StatefulSet") else {}
        selector = selector.get("matchLabels", selector)
        if obj["metadata"]["name"].startswith("dedicated-kafka-controller"):
            assert selector.items() <= controller_labels.items()
        elif selector:
            assert not selector.items() <= controller_labels.items(), obj["metadata"]["name"]
    policy = named(objs, "NetworkPolicy", "dedicated-kafka-controller")
    assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "kafka-controller"
    controller_rule = [r for r in policy["spec"]["ingress"] if {"protocol": "TCP", "port": 9090} in r["ports"]][0]
    assert sorted(p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in controller_rule["from"]) == ["kafka", "kafka-controller"]
    assert any({"protocol": "TCP", "port": 9404} in r["ports"] for r in policy["spec"]["ingress"])
    pdb = named(objs, "PodDisruptionBudget", "dedicated-kafka-controller")
    assert pdb["spec"]["maxUnavailable"] == 1
    for sts in (brokers, controllers):
        assert restricted_violations(sts["spec"]["template"]["spec"], "kubernetes") == []


def test_kafka_4_image_and_log4j2(kraft):
    objs = manifests(kraft, "kafka4")
    for name in ("kafka4-kafka", "kafka4-kafka-controller"):
        pod = named(objs, "StatefulSet", name)["spec"]["template"]["spec"]
        for box in pod["containers"] + pod["initContainers"]:
            assert box["image"] == "quay.io/strimzi/kafka:0.47.0-kafka-4.0.0"
            env = {e["name"]: e.get("value") for e in box["env"]}
            assert env["KAFKA_LOG4J_OPTS"] == "-Dlog4j2.configurationFile=/opt/kafka/custom-config/log4j2.properties"
    for configmap in ("kafka4-kafka-config", "kafka4-kafka-controller-config"):
        data = named(objs, "ConfigMap", configmap)["data"]
        assert "log4j.properties" not in data
        assert "rootLogger.level = WARN" in data["log4j2.properties"]
    claim = named(objs, "StatefulSet", "kafka4-kafka-controller")["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["storageClassName"] == "fast-ssd"
    # 3.9 stays on log4j 1
    data = named(manifests(kraft, "dedicated"), "ConfigMap", "dedicated-kafka-config")["data"]
    assert "log4j.properties" in data and "log4j2.properties" not in data


def test_cluster_id_from_the_seed_or_the_inventory_and_stable_across_renders(kraft, again):
    def cluster_id(run, host):
        return named(manifests(run, host), "ConfigMap", "%s-kafka-kraft" % host)["data"]["cluster.id"]
    assert cluster_id(kraft, "dedicated") == kraft_cluster_id("kafka/dedicated") == cluster_id(again, "dedicated")
    assert cluster_id(kraft, "kafka4") == FIXED_ID
    assert len({cluster_id(kraft, host) for host in VALID}) == len(VALID)
    assert all(is_kraft_cluster_id(cluster_id(kraft, host)) for host in VALID)
    # every format container takes it from that ConfigMap
    for sts in (o for o in manifests(kraft, "dedicated") if o["kind"] == "StatefulSet"):
        init = sts["spec"]["template"]["spec"]["initContainers"][0]
        ref = [e for e in init["env"] if e["name"] == "CLUSTER_ID"][0]["valueFrom"]["configMapKeyRef"]
        assert ref == {"name": "dedicated-kafka-kraft", "key": "cluster.id"}


# --- the scripts ----------------------------------------------------------------------------

def localize(script, tmp_path):
    return (script.replace("/opt/kafka/custom-config", str(tmp_path / "config")).replace("/var/lib/kafka", str(tmp_path / "data"))
            .replace("/tmp/kafka", str(tmp_path / "tmp" / "kafka")).replace("/opt/kafka/libs", str(tmp_path / "libs"))
            .replace("/opt/kafka/bin", str(tmp_path / "bin")))


def prepare(kraft, host, configmap, tmp_path):
    for name in ("config", "data/data-0/kafka-log", "tmp", "libs", "bin"):
        (tmp_path / name).mkdir(parents=True, exist_ok=True)
    for name, text in named(manifests(kraft, host), "ConfigMap", configmap)["data"].items():
        (tmp_path / "config" / name).write_text(text)
    (tmp_path / "libs" / "jmx_prometheus_javaagent-1.0.1.jar").write_text("")
    for tool in ("kafka-storage.sh", "kafka-server-start.sh"):
        (tmp_path / "bin" / tool).write_text('#!/bin/bash\necho "%s $*" >> %s\n' % (tool, tmp_path / "calls"))
        os.chmod(tmp_path / "bin" / tool, 0o755)


def run_script(script, tmp_path, hostname):
    env = {"HOSTNAME": hostname, "PATH": "/usr/bin:/bin", "CLUSTER_ID": FIXED_ID}
    return subprocess.run(["bash", "-ec", localize(script, tmp_path)], env=env, capture_output=True, text=True, check=False)


def calls(tmp_path):
    path = tmp_path / "calls"
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.parametrize("sts_name, configmap, pod, config, node_id", [
    ("dedicated-kafka-controller", "dedicated-kafka-controller-config", "dedicated-kafka-controller-2", "controller.properties", "1002"),
    ("dedicated-kafka", "dedicated-kafka-config", "dedicated-kafka-1", "server.properties", "1"),
])
def test_format_runs_once_and_never_reformats(kraft, tmp_path, sts_name, configmap, pod, config, node_id):
    prepare(kraft, "dedicated", configmap, tmp_path)
    spec = named(manifests(kraft, "dedicated"), "StatefulSet", sts_name)["spec"]["template"]["spec"]
    init = [c for c in spec["initContainers"] if c["name"] == "kafka-format"][0]
    runtime = tmp_path / "tmp" / "kafka" / config
    proc = run_script(init["command"][2], tmp_path, pod)
    assert proc.returncode == 0, proc.stderr
    assert calls(tmp_path) == ["kafka-storage.sh format --ignore-formatted -t %s -c %s" % (FIXED_ID, runtime)]
    assert parse_properties(runtime.read_text())["node.id"] == node_id
    # once the volume holds meta.properties, the container leaves it alone
    (tmp_path / "data" / "data-0" / "kafka-log" / "meta.properties").write_text("cluster.id=%s\n" % FIXED_ID)
    proc = run_script(init["command"][2], tmp_path, pod)
    assert proc.returncode == 0 and "already formatted" in proc.stdout
    assert len(calls(tmp_path)) == 1
    # the main container starts with the same node.id
    proc = run_script(spec["containers"][0]["command"][2], tmp_path, pod)
    assert proc.returncode == 0, proc.stderr
    assert calls(tmp_path)[-1] == "kafka-server-start.sh %s" % runtime
    props = parse_properties(runtime.read_text())
    assert props["node.id"] == node_id and "broker.id" not in props


def test_format_needs_the_cluster_id(kraft, tmp_path):
    prepare(kraft, "dedicated", "dedicated-kafka-controller-config", tmp_path)
    spec = named(manifests(kraft, "dedicated"), "StatefulSet", "dedicated-kafka-controller")["spec"]["template"]["spec"]
    proc = subprocess.run(["bash", "-ec", localize(spec["initContainers"][0]["command"][2], tmp_path)],
                          env={"HOSTNAME": "dedicated-kafka-controller-0", "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and "no cluster id in ConfigMap dedicated-kafka-kraft" in proc.stderr
    assert calls(tmp_path) == []


def test_bad_inputs_have_their_messages():
    root = pathlib.Path(__file__).resolve().parents[2] / "reliability" / "bad_inputs"
    names = sorted(path.name for path in root.glob("*.yml"))
    for expected in ("78-kraft-controllers-even.yml", "79-kraft-with-zookeeper.yml", "80-kraft-protocol-version.yml",
                     "81-kraft-combined-four.yml", "82-kraft-bad-cluster-id.yml"):
        assert expected in names
