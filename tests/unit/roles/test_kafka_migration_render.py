"""What the kafka role renders in each phase of the ZooKeeper -> KRaft migration
(__kafka_kraft_migration_phase, set by playbooks/migrate_to_kraft.yml), in directory mode.

One ansible-playbook run of playbooks/site.yml renders every phase (one inventory host each, the
phase as a host variable) next to a plain ZooKeeper-mode and a plain KRaft-mode cluster; objects
of different hosts are compared with the cluster name taken out.
"""

import json

import pytest
import yaml

from tests.helpers import run_playbook, write_inventory

CLUSTER_ID = "MkU3OEVBNTcwNTJENDM2Qg"
HOSTS = {
    "zk": {},
    "p1": {"__kafka_kraft_migration_phase": "controllers"},
    "p2": {"__kafka_kraft_migration_phase": "brokers-migrating"},
    "p3": {"__kafka_kraft_migration_phase": "brokers-kraft", "streams_metadata_mode": "kraft"},
    "p4": {"__kafka_kraft_migration_phase": "controllers-kraft", "streams_metadata_mode": "kraft"},
    "kr": {"streams_metadata_mode": "kraft"},
}


@pytest.fixture(scope="module", name="rendered")
def rendered_fixture(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("migration")
    inventory = write_inventory(tmp / "hosts.yml", HOSTS, group_vars={
        "streams_deploy_to": "directory", "streams_manifest_dir": "out", "kafka_cluster_id": CLUSTER_ID,
        "kafka_authorization": "simple", "streams_network_policies": True})
    run = run_playbook(tmp, inventory, args=["--forks", "6"], timeout=900)
    assert run.rc == 0, run.describe()
    out = {}
    for host in HOSTS:
        objects = [normalize(o, host) for o in yaml.safe_load_all((tmp / "out" / host / "20-kafka.yaml").read_text()) if o]
        out[host] = dict(((o["kind"], o["metadata"]["name"]), o) for o in objects)
    return out


def normalize(obj, host):
    """`obj` with the cluster name replaced by X, and without the config hash (which hashes the
    ConfigMap's data, names and all: equal ConfigMaps after this stand for equal hashes)."""
    text = json.dumps(obj).replace('"%s"' % host, '"X"').replace(host + "-", "X-").replace(host + ".", "X.")
    text = text.replace(":2181/" + host, ":2181/X")  # the chroot, kafka_zookeeper_chroot's default /<cluster>
    obj = json.loads(text)
    annotations = (((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("annotations") or {}
    annotations.pop("streams.kafka/config-hash", None)
    return obj


def prop(rendered, host, configmap, key):
    return rendered[host][("ConfigMap", configmap)]["data"][key]


def lines(text):
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_phase_controllers_leaves_the_brokers_and_adds_controllers_in_migration_mode(rendered):
    assert rendered["p1"][("StatefulSet", "X-kafka")] == rendered["zk"][("StatefulSet", "X-kafka")]
    assert rendered["p1"][("ConfigMap", "X-kafka-config")] == rendered["zk"][("ConfigMap", "X-kafka-config")]
    controller = lines(prop(rendered, "p1", "X-kafka-controller-config", "controller.properties"))
    for line in ("process.roles=controller", "zookeeper.metadata.migration.enable=true", "inter.broker.listener.name=REPLICATION",
                 "listener.security.protocol.map=CONTROLLER:SSL,REPLICATION:SSL", "zookeeper.ssl.client.enable=true",
                 "listener.name.replication.ssl.keystore.type=PEM",
                 "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"):
        assert line in controller, line
    assert [line for line in controller if line.startswith("zookeeper.connect=")] == [
        "zookeeper.connect=X-zookeeper-0.X-zookeeper-nodes.kafka.svc:2181,X-zookeeper-1.X-zookeeper-nodes.kafka.svc:2181,"
        "X-zookeeper-2.X-zookeeper-nodes.kafka.svc:2181/X"]
    assert len([line for line in controller if line.startswith("listener.security.protocol.map=")]) == 1
    assert prop(rendered, "p1", "X-kafka-kraft", "cluster.id") == CLUSTER_ID
    init = rendered["p1"][("StatefulSet", "X-kafka-controller")]["spec"]["template"]["spec"]["initContainers"][0]
    script = init["command"][2]
    assert "zookeeper-shell.sh" in script and "-zk-tls-config-file" in script and "get /cluster/id" in script
    assert "set kafka_cluster_id to $zk_id" in script
    policies = {name for kind, name in rendered["p1"] if kind == "NetworkPolicy"}
    assert {"X-kafka-controller-migration-zookeeper", "X-kafka-controller-migration-brokers"} <= policies


def test_phase_brokers_migrating_keeps_zookeeper_mode_with_migration_enabled(rendered):
    server = lines(prop(rendered, "p2", "X-kafka-config", "server.properties"))
    for line in ("zookeeper.metadata.migration.enable=true", "controller.listener.names=CONTROLLER",
                 "controller.quorum.voters=1000@X-kafka-controller-0.X-kafka-controllers.kafka.svc:9090,"
                 "1001@X-kafka-controller-1.X-kafka-controllers.kafka.svc:9090,1002@X-kafka-controller-2.X-kafka-controllers.kafka.svc:9090",
                 "listener.name.controller.ssl.truststore.type=PEM", "inter.broker.protocol.version=3.9",
                 "zookeeper.ssl.client.enable=true", "authorizer.class.name=kafka.security.authorizer.AclAuthorizer"):
        assert line in server, line
    assert any(line.startswith("zookeeper.connect=") for line in server)
    assert any(line.startswith("listener.security.protocol.map=") and line.endswith(",CONTROLLER:SSL") for line in server)
    assert not any(line.startswith("process.roles") or line.startswith("node.id") for line in server)
    brokers = rendered["p2"][("StatefulSet", "X-kafka")]
    assert brokers["metadata"]["annotations"]["streams.kafka/metadata-mode"] == "zookeeper"
    # the controllers as phase 1 left them
    assert rendered["p2"][("StatefulSet", "X-kafka-controller")] == rendered["p1"][("StatefulSet", "X-kafka-controller")]


def test_phase_brokers_kraft_renders_the_kraft_brokers_and_keeps_the_migrating_controllers(rendered):
    for key in (("StatefulSet", "X-kafka"), ("ConfigMap", "X-kafka-config")):
        assert rendered["p3"][key] == rendered["kr"][key], key
    server = lines(prop(rendered, "p3", "X-kafka-config", "server.properties"))
    assert "process.roles=broker" in server and not [line for line in server if line.startswith("zookeeper.")]
    assert "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer" in server
    assert rendered["p3"][("StatefulSet", "X-kafka")]["metadata"]["annotations"]["streams.kafka/metadata-mode"] == "kraft"
    assert rendered["p3"][("StatefulSet", "X-kafka-controller")] == rendered["p1"][("StatefulSet", "X-kafka-controller")]


def test_phase_controllers_kraft_renders_what_kraft_mode_renders(rendered):
    assert rendered["p4"] == rendered["kr"]
    controller = prop(rendered, "p4", "X-kafka-controller-config", "controller.properties")
    assert "zookeeper" not in controller
