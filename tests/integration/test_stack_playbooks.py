"""The connect, mirrormaker, bridge and exporter roles, kafka_connector and uninstall.yml on kubesim.

Each role runs in cluster mode through tests/playbooks/components.yml. kubesim makes the
Deployments' pods (named <deployment>-<hash>-<5 chars>), so the fake applications are routed by
pod name pattern: a Connect REST API that keeps state (tests/fake_connect.py), Bridge /ready
answers as recorded from 0.31 and 1.0, and kafka_exporter metrics as recorded.
"""

import base64
import json

import pytest

from tests.fake_connect import FakeConnect
from tests.helpers import PLAINTEXT_KAFKA, REPO, run_playbook, run_tasks, write_inventory
from tests.integration.test_zookeeper_playbook import serve_admin

NS = "kafka"
COMPONENTS = REPO / "tests" / "playbooks" / "components.yml"
UNINSTALL = REPO / "playbooks" / "uninstall.yml"
FIXTURES = REPO / "tests" / "unit" / "fixtures"
SINK = {"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "tasks.max": 1, "topics": "orders",
        "file": "/tmp/orders.txt"}
SOURCE = {"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector", "topic": "audit", "file": "/var/log/audit"}

CONNECT_GATE = "streams.kafka.connect : Wait for every connector and task to run"
CONNECT_REST_GATE = "streams.kafka.connect : Wait for the Kafka Connect workers and their REST API"
CONNECTORS_TASK = "streams.kafka.connect : Manage the connectors of connect_connectors"
MM2_GATE = "streams.kafka.mirrormaker : Wait for every MirrorMaker 2 connector and task to run"
BRIDGE_GATE = "streams.kafka.bridge : Wait for every Kafka Bridge pod to be ready"
EXPORTER_GATE = "streams.kafka.exporter : Wait for the Kafka Exporter to see every broker"


# The roles run without the kafka role, which issues the certificates the secure defaults (mutual
# TLS, the ACL authorizer) need: the hosts' Kafka is a plaintext one unless a test says otherwise.
# The defaults are deployed whole in test_component_identities.py and test_site_multi_cluster.py.
SECURE = {"kafka_authorization": "simple", "kafka_listeners": [{"name": "tls", "port": 9093, "type": "internal", "tls": True,
                                                                "authentication": "tls"}]}


def inventory(tmp_path, kubeconfig, hosts):
    """hosts: name -> variables; every host talks to kubesim in namespace kafka."""
    base = dict(PLAINTEXT_KAFKA, streams_kubeconfig=kubeconfig, streams_namespace=NS, connect_ready_timeout=30,
                mirrormaker_ready_timeout=30, bridge_ready_timeout=30, exporter_ready_timeout=30,
                connect_connector_timeout=20, mirrormaker_connector_timeout=20, zookeeper_ready_timeout=30)
    return write_inventory(tmp_path / "hosts.yml", {name: dict(base, **variables) for name, variables in hosts.items()})


def run(tmp_path, hosts, **kwargs):
    return run_playbook(tmp_path, hosts, playbook=COMPONENTS, **kwargs)


def proxy_writes(kubesim):
    return [r for r in kubesim.writes() if "/proxy/" in r["path"]]


def recorded_bridge(name):
    answer = json.loads((FIXTURES / name).read_text())

    def handler(method, path, _query, _body):
        if method == "GET" and path == "/ready":
            return answer["status"], answer["headers"], answer["body"]
        if method == "GET" and path == "/":
            return 200, {"Content-Type": "application/json"}, (FIXTURES / "bridge_root.json").read_text()
        return 404, {}, ""
    return handler


def exporter_metrics(method, path, _query, _body):
    if method == "GET" and path == "/metrics":
        return 200, {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}, (FIXTURES / "kafka_exporter_metrics.txt").read_text()
    if path == "/healthz":
        return 200, {}, "OK"
    return 404, {}, ""


# --- connect ------------------------------------------------------------------------------------

def test_connect_applies_gates_manages_connectors_and_then_changes_nothing(kubesim, kubeconfig, tmp_path):
    fake = FakeConnect()
    kubesim.route_proxy_pattern(NS, r"dev-connect-[a-z0-9]+-[a-z0-9]{5}", 8083, fake)
    connectors = [{"name": "orders-sink", "config": SINK}, {"name": "audit-source", "state": "paused", "config": SOURCE}]
    hosts = inventory(tmp_path, kubeconfig, {"dev": {
        "test_components": ["connect"], "connect_replicas": 2, "connect_connectors": connectors}})
    first = run(tmp_path, hosts)
    assert first.rc == 0, first.describe()
    gate = first.result_of(CONNECT_GATE)
    assert gate["ready"] is True and gate["version"] == "3.9.0", gate
    assert len(gate["pods"]) == 2 and all(p["state"] == "serving" for p in gate["pods"].values())
    assert gate["connectors"]["orders-sink"]["state"] == "RUNNING"
    assert gate["connectors"]["audit-source"]["state"] == "PAUSED"
    assert gate["deployment"] == {"name": "dev-connect", "replicas": 2, "updated": 2, "ready": 2, "available": 2}
    assert fake.connectors["orders-sink"]["config"]["tasks.max"] == "1"
    assert fake.connectors["audit-source"]["target"] == "PAUSED"
    for kind, name in (("ConfigMap", "dev-connect-config"), ("Service", "dev-connect-api")):
        assert kubesim.get("v1", kind, NS, name) is not None
    assert kubesim.get("apps/v1", "Deployment", NS, "dev-connect")["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert kubesim.get("policy/v1", "PodDisruptionBudget", NS, "dev-connect") is not None
    # the connectors went through the pod proxy, after the Deployment was written
    requests = kubesim.requests
    deploy_write = max(i for i, r in enumerate(requests) if r["write"] and "/deployments" in r["path"])
    puts = [i for i, r in enumerate(requests) if r["method"] == "PUT" and "/proxy/connectors/" in r["path"]]
    assert puts and min(puts) > deploy_write
    assert [w[1] for w in fake.writes] == [
        "/connectors/orders-sink/config", "/connectors/audit-source/config", "/connectors/audit-source/pause"]

    kubesim.clear_requests()
    second = run(tmp_path, hosts)
    assert second.rc == 0, second.describe()
    assert kubesim.writes() == [], kubesim.writes()
    assert len(fake.writes) == 3
    assert second.report["stats"]["dev"]["changed"] == 0, second.report["stats"]

    # a changed connector config is one PUT; the workers are left alone
    kubesim.clear_requests()
    connectors[0] = {"name": "orders-sink", "config": dict(SINK, **{"tasks.max": 3})}
    hosts = inventory(tmp_path, kubeconfig, {"dev": {
        "test_components": ["connect"], "connect_replicas": 2, "connect_connectors": connectors}})
    third = run(tmp_path, hosts)
    assert third.rc == 0, third.describe()
    assert [r["path"].split("/proxy")[1] for r in kubesim.writes()] == ["/connectors/orders-sink/config"]
    assert len(third.result_of(CONNECT_GATE)["connectors"]["orders-sink"]["tasks"]) == 3


def test_a_failed_connector_task_fails_the_play_naming_it(kubesim, kubeconfig, tmp_path):
    kubesim.route_proxy_pattern(NS, r"dev-connect-.*", 8083, FakeConnect())
    hosts = inventory(tmp_path, kubeconfig, {"dev": {"test_components": ["connect"], "connect_ready_timeout": 3,
                                                     "connect_connectors": [{"name": "bad", "config": dict(SINK, **{"simulate.failure": "task"})}]}})
    result = run(tmp_path, hosts)
    assert result.rc != 0
    failures = result.failures("dev")
    assert [task for task, _host, _msg in failures] == [CONNECT_GATE], result.describe()
    assert failures[0][2] == ("Kafka Connect dev in namespace kafka is not ready after 3s: connector bad task 0 is FAILED on "
                              "worker 10.128.2.15:8083: org.apache.kafka.connect.errors.ConnectException: simulated failure")


def test_connect_rest_not_answering_fails_the_first_gate_naming_the_pod(kubesim, kubeconfig, tmp_path):
    hosts = inventory(tmp_path, kubeconfig, {"dev": {"test_components": ["connect"], "connect_ready_timeout": 3}})
    result = run(tmp_path, hosts)
    assert result.rc != 0
    failures = result.failures("dev")
    assert [task for task, _host, _msg in failures] == [CONNECT_REST_GATE]
    msg = failures[0][2]
    assert msg.startswith("Kafka Connect dev in namespace kafka is not ready after 3s: pod dev-connect-"), msg
    assert ": REST API on port 8083 does not answer: error trying to reach service: dial tcp" in msg


def test_connect_check_mode_writes_nothing(kubesim, kubeconfig, tmp_path):
    hosts = inventory(tmp_path, kubeconfig, {"dev": {"test_components": ["connect"],
                                                     "connect_connectors": [{"name": "orders-sink", "config": SINK}]}})
    result = run(tmp_path, hosts, check=True)
    assert result.rc == 0, result.describe()
    assert kubesim.writes() == []
    gate = result.result_of(CONNECT_GATE)
    assert gate["ready"] is False and gate["waited"] == 0
    assert "Deployment dev-connect does not exist" in gate["reason"]
    managed = result.result_of(CONNECTORS_TASK)["results"][0]
    assert managed["changed"] is True and managed["actions"] == ["created"]


# --- the connector module -----------------------------------------------------------------

def test_kafka_connector_creates_leaves_updates_pauses_and_deletes(kubesim, kubeconfig, tmp_path):
    fake = FakeConnect()
    kubesim.route_proxy_pattern(NS, r"dev-connect-.*", 8083, fake)
    deployed = run(tmp_path, inventory(tmp_path, kubeconfig, {"dev": {"test_components": ["connect"]}}))
    assert deployed.rc == 0, deployed.describe()

    def connector(state="running", config=None, check=False):
        kubesim.clear_requests()
        task = {"name": "Manage orders-sink", "streams.kafka.kafka_connector": {
            "kubeconfig": kubeconfig, "namespace": NS, "cluster_name": "dev", "name": "orders-sink", "state": state}}
        if config is not None:
            task["streams.kafka.kafka_connector"]["config"] = config
        outcome = run_tasks(tmp_path, [task], check=check)
        assert outcome.rc == 0, outcome.describe()
        return outcome.result_of("Manage orders-sink")

    created = connector(config=SINK)
    assert created["changed"] and created["actions"] == ["created"]
    assert fake.connectors["orders-sink"]["config"] == {"name": "orders-sink", "connector.class": SINK["connector.class"],
                                                        "tasks.max": "1", "topics": "orders", "file": "/tmp/orders.txt"}
    assert [r["method"] for r in proxy_writes(kubesim)] == ["PUT"]

    unchanged = connector(config=SINK)
    assert unchanged["changed"] is False and unchanged["actions"] == [] and proxy_writes(kubesim) == []

    would = connector(config=dict(SINK, topics="orders,returns"), check=True)
    assert would["changed"] and would["actions"] == ["updated"] and proxy_writes(kubesim) == []
    assert fake.connectors["orders-sink"]["config"]["topics"] == "orders"

    updated = connector(config=dict(SINK, topics=["orders", "returns"]))
    assert updated["actions"] == ["updated"] and fake.connectors["orders-sink"]["config"]["topics"] == "orders,returns"

    paused = connector("paused", config=dict(SINK, topics="orders,returns"))
    assert paused["actions"] == ["paused"] and fake.connectors["orders-sink"]["target"] == "PAUSED"
    assert [r["path"].split("/proxy")[1] for r in proxy_writes(kubesim)] == ["/connectors/orders-sink/pause"]

    deleted = connector("absent")
    assert deleted["actions"] == ["deleted"] and "orders-sink" not in fake.connectors
    assert [r["method"] for r in proxy_writes(kubesim)] == ["DELETE"]
    assert connector("absent")["changed"] is False


def test_kafka_connector_retries_while_the_workers_rebalance(kubesim, kubeconfig, tmp_path):
    fake = FakeConnect()
    kubesim.route_proxy_pattern(NS, r"dev-connect-.*", 8083, fake)
    assert run(tmp_path, inventory(tmp_path, kubeconfig, {"dev": {"test_components": ["connect"]}})).rc == 0
    fake.conflicts = 2
    outcome = run_tasks(tmp_path, [{"name": "Create", "streams.kafka.kafka_connector": {
        "kubeconfig": kubeconfig, "namespace": NS, "cluster_name": "dev", "name": "orders-sink", "config": SINK}}])
    assert outcome.rc == 0, outcome.describe()
    assert outcome.result_of("Create")["actions"] == ["created"] and "orders-sink" in fake.connectors
    assert [r["status"] for r in proxy_writes(kubesim)] == [409, 409, 201]


# --- mirrormaker ----------------------------------------------------------------------------

def secret(namespace, name, data, kind="Opaque"):
    return {"apiVersion": "v1", "kind": "Secret", "type": kind, "metadata": {"name": name, "namespace": namespace},
            "data": {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}}


def test_mirrormaker_mirrors_the_other_hosts_cluster_and_follows_its_sources(kubesim, kubeconfig, tmp_path):
    fake = FakeConnect()
    kubesim.route_proxy_pattern(NS, r"west-mirrormaker-.*", 8083, fake)
    # east, in another namespace, has the secure defaults: the CA and the certificate its kafka role
    # issued west's MirrorMaker 2 live there, and the mirrormaker role copies them into west's
    kubesim.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kafka-east"}})
    kubesim.create(secret("kafka-east", "east-cluster-ca-cert", {"ca.crt": "east CA\n"}))
    identity = {"tls.crt": "west at east\n", "tls.key": "key of west at east\n", "ca.crt": "east clients CA\n"}
    kubesim.create(secret("kafka-east", "east-west-mirrormaker-user", identity, "kubernetes.io/tls"))
    sources = {"east": dict(SECURE, test_components=[], streams_namespace="kafka-east"), "north": {"test_components": []}}

    def hosts(mirrored):
        return inventory(tmp_path, kubeconfig, dict(sources, west={"test_components": ["mirrormaker"],
                                                                   "mirrormaker_sources": mirrored}))

    def pod_template():
        return kubesim.get("apps/v1", "Deployment", NS, "west-mirrormaker")["spec"]["template"]

    first = run(tmp_path, hosts(["east"]))
    assert first.rc == 0, first.describe()
    gate = first.result_of(MM2_GATE, "west")
    assert gate["ready"] is True, gate
    assert sorted(fake.connectors) == ["east-to-west.MirrorCheckpointConnector", "east-to-west.MirrorHeartbeatConnector",
                                       "east-to-west.MirrorSourceConnector"]
    source = fake.connectors["east-to-west.MirrorSourceConnector"]["config"]
    assert source["source.cluster.bootstrap.servers"] == "east-kafka-bootstrap.kafka-east.svc:9093"
    assert source["source.cluster.ssl.keystore.key"] == "${directory:/opt/streams/certs-east:tls.key}"
    assert source["target.cluster.bootstrap.servers"] == "west-kafka-bootstrap.kafka.svc:9092"
    assert source["replication.factor"] == "3" and source["sync.topic.acls.enabled"] == "false"
    assert kubesim.get("v1", "ConfigMap", NS, "west-mirrormaker-connectors") is not None
    assert kubesim.get("apps/v1", "Deployment", NS, "east-mirrormaker") is None
    # the copies: same name, type and data, in west's namespace, saying where they come from
    for name in ("east-cluster-ca-cert", "east-west-mirrormaker-user"):
        original, copy = kubesim.get("v1", "Secret", "kafka-east", name), kubesim.get("v1", "Secret", NS, name)
        assert copy is not None, name
        assert (copy["data"], copy["type"]) == (original["data"], original["type"])
        assert copy["metadata"]["annotations"]["streams.kafka/copied-from"] == "kafka-east/" + name
        assert copy["metadata"]["labels"]["app.kubernetes.io/component"] == "mirrormaker"
    volumes = {v["name"]: v for v in pod_template()["spec"]["volumes"]}
    assert {v["secret"]["secretName"] for v in volumes.values() if "secret" in v} == {"east-cluster-ca-cert", "east-west-mirrormaker-user"}
    hashed = pod_template()["metadata"]["annotations"]["streams.kafka/secrets-hash"]
    # no key in the log of the run
    assert "key of west at east" not in first.stdout and base64.b64encode(b"key of west at east\n").decode() not in first.stdout

    kubesim.clear_requests()
    second = run(tmp_path, hosts(["east"]))
    assert second.rc == 0, second.describe()
    assert kubesim.writes() == [], kubesim.writes()

    # east renews the certificate: the copy follows, and the workers roll
    renewed = secret("kafka-east", "east-west-mirrormaker-user", dict(identity, **{"tls.crt": "west at east, renewed\n"}),
                     "kubernetes.io/tls")
    outcome = run_tasks(tmp_path, [{"name": "Renew", "kubernetes.core.k8s": {"kubeconfig": kubeconfig, "definition": renewed}}])
    assert outcome.rc == 0, outcome.describe()
    renewal = run(tmp_path, hosts(["east"]))
    assert renewal.rc == 0, renewal.describe()
    assert kubesim.get("v1", "Secret", NS, "east-west-mirrormaker-user")["data"] == renewed["data"]
    assert pod_template()["metadata"]["annotations"]["streams.kafka/secrets-hash"] != hashed

    third = run(tmp_path, hosts(["north"]))
    assert third.rc == 0, third.describe()
    assert sorted(fake.connectors) == ["north-to-west.MirrorCheckpointConnector", "north-to-west.MirrorHeartbeatConnector",
                                       "north-to-west.MirrorSourceConnector"]
    deleted = [w[1] for w in fake.writes if w[0] == "DELETE"]
    assert sorted(deleted) == ["/connectors/east-to-west.MirrorCheckpointConnector",
                               "/connectors/east-to-west.MirrorHeartbeatConnector", "/connectors/east-to-west.MirrorSourceConnector"]


def test_mirrormaker_refuses_a_missing_source_secret_naming_it(kubesim, kubeconfig, tmp_path):
    kubesim.route_proxy_pattern(NS, r"west-mirrormaker-.*", 8083, FakeConnect())
    hosts = inventory(tmp_path, kubeconfig, {"east": dict(SECURE, test_components=[], streams_namespace="kafka-east"),
                                             "west": {"test_components": ["mirrormaker"], "mirrormaker_sources": ["east"]}})
    outcome = run(tmp_path, hosts)
    assert outcome.rc != 0
    messages = " ".join(msg for _task, _host, msg in outcome.failures("west"))
    assert "Secret east-cluster-ca-cert in namespace kafka-east, east-west-mirrormaker-user in namespace kafka-east does not exist" \
        in messages, messages
    assert kubesim.get("apps/v1", "Deployment", NS, "west-mirrormaker") is None


# --- bridge -------------------------------------------------------------------------------------

@pytest.mark.parametrize("recording, status", [("bridge_ready_0.31.json", 204), ("bridge_ready_1.0.json", 200)])
def test_bridge_applies_gates_and_then_changes_nothing(kubesim, kubeconfig, tmp_path, recording, status):
    kubesim.route_proxy_pattern(NS, r"dev-bridge-.*", 8080, recorded_bridge(recording))
    hosts = inventory(tmp_path, kubeconfig, {"dev": {"test_components": ["bridge"], "bridge_replicas": 2}})
    first = run(tmp_path, hosts)
    assert first.rc == 0, first.describe()
    gate = first.result_of(BRIDGE_GATE)
    assert gate["ready"] is True and len(gate["pods"]) == 2
    assert {p["status"] for p in gate["pods"].values()} == {status}
    assert {p["bridge_version"] for p in gate["pods"].values()} == {"0.31.1"}
    assert kubesim.get("v1", "Service", NS, "dev-bridge")["spec"]["ports"][0]["port"] == 8080
    kubesim.clear_requests()
    second = run(tmp_path, hosts)
    assert second.rc == 0, second.describe()
    assert kubesim.writes() == [], kubesim.writes()


def test_bridge_not_ready_fails_naming_the_pod(kubesim, kubeconfig, tmp_path):
    kubesim.route_proxy_pattern(NS, r"dev-bridge-.*", 8080, recorded_bridge("bridge_not_ready.json"))
    result = run(tmp_path, inventory(tmp_path, kubeconfig, {"dev": {"test_components": ["bridge"], "bridge_ready_timeout": 3}}))
    assert result.rc != 0
    failures = result.failures("dev")
    assert [task for task, _host, _msg in failures] == [BRIDGE_GATE]
    assert failures[0][2].startswith("Kafka Bridge dev in namespace kafka is not ready after 3s: pod dev-bridge-")
    assert failures[0][2].endswith(": GET /ready answered 500")


# --- exporter ---------------------------------------------------------------------------------

def test_exporter_applies_gates_and_then_changes_nothing(kubesim, kubeconfig, tmp_path):
    kubesim.route_proxy_pattern(NS, r"dev-exporter-.*", 9404, exporter_metrics)
    hosts = inventory(tmp_path, kubeconfig, {"dev": {"test_components": ["exporter"]}})
    first = run(tmp_path, hosts)
    assert first.rc == 0, first.describe()
    gate = first.result_of(EXPORTER_GATE)
    assert gate["ready"] is True and [p["kafka_brokers"] for p in gate["pods"].values()] == [3]
    assert kubesim.get("monitoring.coreos.com/v1", "ServiceMonitor", NS, "dev-exporter") is not None
    kubesim.clear_requests()
    second = run(tmp_path, hosts)
    assert second.rc == 0, second.describe()
    assert kubesim.writes() == [], kubesim.writes()


def test_exporter_missing_brokers_fails_naming_the_pod(kubesim, kubeconfig, tmp_path):
    kubesim.route_proxy_pattern(NS, r"dev-exporter-.*", 9404, exporter_metrics)
    result = run(tmp_path, inventory(tmp_path, kubeconfig, {"dev": {"test_components": ["exporter"], "kafka_replicas": 5,
                                                                    "exporter_ready_timeout": 3}}))
    assert result.rc != 0
    msg = result.failures("dev")[0][2]
    assert msg.startswith("Kafka Exporter dev in namespace kafka is not ready after 3s: pod dev-exporter-"), msg
    assert msg.endswith(": kafka_brokers is 3, expected 5 (brokers missing from the cluster metadata)"), msg


# --- uninstall -------------------------------------------------------------------------------------

def test_uninstall_removes_components_in_reverse_order_and_keeps_the_claims(kubesim, kubeconfig, tmp_path):
    serve_admin(kubesim)
    kubesim.route_proxy_pattern(NS, r"dev-connect-.*", 8083, FakeConnect())
    kubesim.route_proxy_pattern(NS, r"dev-bridge-.*", 8080, recorded_bridge("bridge_ready_0.31.json"))
    kubesim.route_proxy_pattern(NS, r"dev-exporter-.*", 9404, exporter_metrics)
    hosts = inventory(tmp_path, kubeconfig, {"dev": {"test_components": ["zookeeper", "connect", "bridge", "exporter"]}})
    deployed = run(tmp_path, hosts)
    assert deployed.rc == 0, deployed.describe()
    # another instance in the same namespace must survive
    kubesim.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "other-connect-config", "namespace": NS, "labels": {
            "app.kubernetes.io/instance": "other", "app.kubernetes.io/component": "connect",
            "app.kubernetes.io/managed-by": "streams.kafka"}}, "data": {}})
    claims = sorted(c["metadata"]["name"] for c in kubesim.objects("v1", "PersistentVolumeClaim", NS))
    assert claims == ["data-dev-zookeeper-0", "data-dev-zookeeper-1", "data-dev-zookeeper-2"]

    kubesim.clear_requests()
    removed = run_playbook(tmp_path, hosts, playbook=UNINSTALL)
    assert removed.rc == 0, removed.describe()
    for api_version, kind in (("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("v1", "Service"), ("v1", "ConfigMap"),
                              ("policy/v1", "PodDisruptionBudget"), ("monitoring.coreos.com/v1", "ServiceMonitor")):
        left = [o["metadata"]["name"] for o in kubesim.objects(api_version, kind, NS)
                if o["metadata"].get("labels", {}).get("app.kubernetes.io/instance") == "dev"]
        assert left == [], (kind, left)
    assert kubesim.get("v1", "ConfigMap", NS, "other-connect-config") is not None
    assert kubesim.get("v1", "Namespace", None, NS) is not None
    # the data stays
    assert sorted(c["metadata"]["name"] for c in kubesim.objects("v1", "PersistentVolumeClaim", NS)) == claims
    assert not [r for r in kubesim.writes() if "persistentvolumeclaims" in r["path"]]
    # workloads went last deployed first
    deleted = [r["path"].rsplit("/", 1)[1] for r in kubesim.writes() if r["method"] == "DELETE"
               and ("/deployments/" in r["path"] or "/statefulsets/" in r["path"])]
    assert deleted == ["dev-exporter", "dev-bridge", "dev-connect", "dev-zookeeper"], deleted

    # again: nothing left to change; a kind the cluster does not serve (no such CRD) is skipped
    again = run_playbook(tmp_path, hosts, playbook=UNINSTALL, extra_vars={"uninstall_kinds": [
        {"api_version": "v1", "kind": "ConfigMap"}, {"api_version": "widgets.example.com/v1", "kind": "Widget"}]})
    assert again.rc == 0, again.describe()
    assert again.report["stats"]["dev"]["changed"] == 0
    widget = [r for r in again.result_of("Delete the other objects of the components")["results"] if r["item"]["kind"] == "Widget"]
    assert widget and "Failed to find exact match" in widget[0]["msg"] and not widget[0].get("failed")

    purged = run_playbook(tmp_path, hosts, playbook=UNINSTALL, extra_vars={"streams_delete_claims": True})
    assert purged.rc == 0, purged.describe()
    assert kubesim.objects("v1", "PersistentVolumeClaim", NS) == []


def test_uninstall_skips_hosts_in_directory_mode(kubesim, kubeconfig, tmp_path):
    hosts = inventory(tmp_path, kubeconfig, {"dev": {"streams_deploy_to": "directory"}})
    result = run_playbook(tmp_path, hosts, playbook=UNINSTALL)
    assert result.rc == 0, result.describe()
    assert kubesim.writes() == []
    ran = [task for task, _host, _result in result.results("dev")]
    assert "streams.kafka.common : Check streams_cluster_name" in ran
    assert not [task for task in ran if task.startswith(("Stop the workloads", "Delete the"))], ran
