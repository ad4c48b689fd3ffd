"""playbooks/site.yml with ZooKeeper and Kafka against kubesim, in cluster mode.

kubesim runs both StatefulSets' pods (Ready after its ready_delay) and answers the pod proxy:
ZooKeeper's AdminServer with tests/integration/test_zookeeper_playbook.py's fake, the brokers'
metrics port with tests/kafka_metrics.py (a healthy cluster whose controller is broker 0,
unless a test says otherwise). The request log shows what was written, and when.
"""

import pytest

from tests.helpers import REPO, run_playbook, write_inventory
from tests.integration.test_zookeeper_playbook import serve_admin
from tests.kafka_metrics import serve_metrics

NS = "kafka"
ZOOKEEPER_GATE = "streams.kafka.zookeeper : Wait for a leader and every follower in sync"
KAFKA_GATE = "streams.kafka.kafka : Wait for every broker running, one controller and no under-replicated or offline partitions"
KAFKA_PLAYBOOK = REPO / "playbooks" / "kafka.yml"
ZOOKEEPER_PLAYBOOK = REPO / "playbooks" / "zookeeper.yml"


def inventory(tmp_path, kubeconfig, **variables):
    host = {"streams_kubeconfig": kubeconfig, "streams_namespace": NS, "zookeeper_ready_timeout": 30,
            "kafka_ready_timeout": 30}
    host.update(variables)
    return write_inventory(tmp_path / "hosts.yml", {"dev": host})


def is_kafka(request):
    """Whether a request concerns one of cluster dev's Kafka objects (creates carry the name in the body)."""
    return "/dev-kafka" in request["path"] or (request["name"] or "").startswith("dev-kafka")


def is_zookeeper_gate(request):
    return request["path"].endswith("/proxy/commands/mntr")


def is_kafka_gate(request):
    return ":9404/proxy/metrics" in request["path"]


@pytest.mark.parametrize("kubesim", [2.0], indirect=True)
def test_kafka_is_written_only_after_zookeeper_passed_its_gate_and_reruns_write_nothing(kubesim, kubeconfig, tmp_path):
    serve_admin(kubesim)
    serve_metrics(kubesim, NS)
    hosts = inventory(tmp_path, kubeconfig)

    first = run_playbook(tmp_path, hosts)
    assert first.rc == 0, first.describe()
    assert first.result_of(ZOOKEEPER_GATE)["ready"] is True
    gate = first.result_of(KAFKA_GATE)
    assert gate["ready"] is True and gate["controller"] == "dev-kafka-0" and gate["reason"] == "ready", gate
    assert sorted(gate["brokers"]) == ["dev-kafka-0", "dev-kafka-1", "dev-kafka-2"]
    assert {b["broker_state_name"] for b in gate["brokers"].values()} == {"RUNNING"}
    # the brokers' pods took ready_delay to become Ready; the gate passed only after the last did
    last_ready = max(t for key, t in kubesim.pod_ready_times().items() if key.startswith(NS + "/dev-kafka-"))
    passing = [r["time"] for r in kubesim.requests if is_kafka_gate(r) and r["status"] == 200]
    assert passing and passing[-1] > last_ready, (passing[-1:], last_ready)

    requests = kubesim.requests
    zookeeper_passed = max(i for i, r in enumerate(requests) if is_zookeeper_gate(r) and r["status"] == 200)
    kafka_writes = [i for i, r in enumerate(requests) if r["write"] and is_kafka(r)]
    created = {requests[i]["name"] for i in kafka_writes}
    assert {"dev-kafka-config", "dev-kafka-brokers", "dev-kafka-bootstrap", "dev-kafka"} <= created, created
    # the first Kafka write comes after the ZooKeeper gate's last answer, and after every
    # ZooKeeper pod became Ready; the Kafka gate reads metrics only after the StatefulSet exists
    assert min(kafka_writes) > zookeeper_passed, (min(kafka_writes), zookeeper_passed)
    zookeeper_ready = max(t for key, t in kubesim.pod_ready_times().items() if key.startswith(NS + "/dev-zookeeper-"))
    assert requests[min(kafka_writes)]["time"] > zookeeper_ready
    sts_write = max(i for i in kafka_writes if "/statefulsets" in requests[i]["path"])
    assert min(i for i, r in enumerate(requests) if is_kafka_gate(r)) > sts_write
    assert not [r for r in requests[zookeeper_passed:] if r["write"] and not is_kafka(r)]

    sts = kubesim.get("apps/v1", "StatefulSet", NS, "dev-kafka")
    assert sts["spec"]["updateStrategy"] == {"type": "OnDelete"} and sts["spec"]["serviceName"] == "dev-kafka-brokers"
    assert kubesim.get("policy/v1", "PodDisruptionBudget", NS, "dev-kafka") is not None
    assert "zookeeper.connect=dev-zookeeper-0.dev-zookeeper-nodes.kafka.svc:2181" in \
        kubesim.get("v1", "ConfigMap", NS, "dev-kafka-config")["data"]["server.properties"]

    kubesim.clear_requests()
    second = run_playbook(tmp_path, hosts)
    assert second.rc == 0, second.describe()
    assert kubesim.writes() == [], kubesim.writes()
    assert second.report["stats"]["dev"]["changed"] == 0, second.report["stats"]
    assert second.result_of(KAFKA_GATE)["ready"] is True

    # switching the live ZooKeeper cluster to KRaft by changing the variable is refused before any
    # write: that move is playbooks/migrate_to_kraft.yml's
    kubesim.clear_requests()
    switched = run_playbook(tmp_path, inventory(tmp_path, kubeconfig, streams_metadata_mode="kraft"))
    assert switched.rc != 0 and kubesim.writes() == []
    message = " ".join(msg for _task, _host, msg in switched.failures("dev"))
    assert "streams_metadata_mode" in message and "migrate_to_kraft.yml" in message, message
    hosts = inventory(tmp_path, kubeconfig)

    # Kafka alone: it checks this host's ensemble first (reading only), then its own brokers
    kubesim.clear_requests()
    alone = run_playbook(tmp_path, hosts, playbook=KAFKA_PLAYBOOK)
    assert alone.rc == 0, alone.describe()
    assert kubesim.writes() == []
    assert alone.result_of(ZOOKEEPER_GATE)["ready"] is True and alone.result_of(KAFKA_GATE)["ready"] is True
    requests = kubesim.requests
    assert max(i for i, r in enumerate(requests) if is_zookeeper_gate(r)) < min(i for i, r in enumerate(requests) if is_kafka_gate(r))

    # ZooKeeper alone leaves Kafka alone
    kubesim.clear_requests()
    zookeeper_only = run_playbook(tmp_path, hosts, playbook=ZOOKEEPER_PLAYBOOK)
    assert zookeeper_only.rc == 0, zookeeper_only.describe()
    assert kubesim.writes() == [] and not [r for r in kubesim.requests if is_kafka(r) or is_kafka_gate(r)]
    assert zookeeper_only.result_of(ZOOKEEPER_GATE)["ready"] is True


def test_zookeeper_that_never_becomes_ready_keeps_kafka_unwritten(kubesim, kubeconfig, tmp_path):
    serve_admin(kubesim)
    serve_metrics(kubesim, NS)
    kubesim.set_pod_behaviour(NS, r"^dev-zookeeper-2$", "never_ready")

    run = run_playbook(tmp_path, inventory(tmp_path, kubeconfig, zookeeper_ready_timeout=4))
    assert run.rc != 0, run.describe()
    failures = run.failures("dev")
    assert [task for task, _host, _msg in failures] == [ZOOKEEPER_GATE], run.describe()
    msg = failures[0][2]
    assert "is not ready after 4s" in msg and "pod dev-zookeeper-2: readiness probe failing" in msg, msg
    # ZooKeeper was written; nothing of Kafka ever was, and its gate never ran
    assert [w for w in kubesim.writes() if "/dev-zookeeper" in w["path"] or (w["name"] or "").startswith("dev-zookeeper")]
    assert [w for w in kubesim.writes() if is_kafka(w)] == []
    assert not [r for r in kubesim.requests if is_kafka_gate(r)]
    assert kubesim.get("apps/v1", "StatefulSet", NS, "dev-kafka") is None
    assert [o["metadata"]["name"] for o in kubesim.objects("v1", "ConfigMap", NS)] == ["dev-zookeeper-config"]


def test_kafka_gate_names_the_broker_with_under_replicated_partitions(kubesim, kubeconfig, tmp_path):
    serve_admin(kubesim)
    serve_metrics(kubesim, NS, brokers={1: {"under_replicated": 5, "at_min_isr": 5}})

    run = run_playbook(tmp_path, inventory(tmp_path, kubeconfig, kafka_ready_timeout=4))
    assert run.rc != 0, run.describe()
    failures = run.failures("dev")
    assert [task for task, _host, _msg in failures] == [KAFKA_GATE], run.describe()
    msg = failures[0][2]
    assert msg == "Kafka cluster dev in namespace kafka is not ready after 4s: pod dev-kafka-1: 5 under-replicated partition(s)", msg
    gate = run.result_of(KAFKA_GATE)
    assert gate["controller"] == "dev-kafka-0"
    assert gate["brokers"]["dev-kafka-1"]["under_replicated_partitions"] == 5
    assert gate["brokers"]["dev-kafka-1"]["at_min_isr_partitions"] == 5
    assert gate["brokers"]["dev-kafka-0"]["under_replicated_partitions"] == 0
    assert kubesim.get("apps/v1", "StatefulSet", NS, "dev-kafka") is not None


def test_bad_kafka_setting_with_good_zookeeper_settings_writes_nothing(kubesim, kubeconfig, tmp_path):
    listeners = [{"name": "plain", "port": 9092, "type": "internal"}, {"name": "other", "port": 9092, "type": "internal"}]
    run = run_playbook(tmp_path, inventory(tmp_path, kubeconfig, kafka_listeners=listeners))
    assert run.rc != 0
    assert [msg for _task, _host, msg in run.failures()] == [
        "kafka_listeners uses port 9092 for plain and other: every listener needs its own port."], run.describe()
    assert kubesim.writes() == []
    assert kubesim.get("v1", "Namespace", None, NS) is None


def test_check_mode_writes_nothing_and_both_gates_report_without_failing(kubesim, kubeconfig, tmp_path):
    run = run_playbook(tmp_path, inventory(tmp_path, kubeconfig), check=True)
    assert run.rc == 0, run.describe()
    assert kubesim.writes() == []
    zookeeper, kafka = run.result_of(ZOOKEEPER_GATE), run.result_of(KAFKA_GATE)
    assert zookeeper["ready"] is False and not zookeeper.get("failed") and zookeeper["waited"] == 0
    assert kafka["ready"] is False and not kafka.get("failed") and kafka["waited"] == 0
    assert "pod dev-kafka-0: pod does not exist" in kafka["reason"]
