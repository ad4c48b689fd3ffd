"""playbooks/site.yml in KRaft mode against kubesim: dedicated controllers, no ZooKeeper.

The controllers' metrics port answers with a scripted quorum (tests/kafka_metrics.py
serve_quorum: node ids 1000+N, the leader also the active controller); the brokers answer as
KRaft brokers, which report no controller metrics of their own.
"""

import json

import pytest

from tests.helpers import run_playbook
from tests.integration.test_kafka_playbook import KAFKA_GATE, NS, inventory
from tests.integration.test_zookeeper_roll import deletes
from tests.kafka_metrics import serve_metrics, serve_quorum, spread_partitions

ROLL = "streams.kafka.kafka : Restart outdated Kafka brokers safely"
NO_CONTROLLER = ("kafka_controller_kafkacontroller_activecontrollercount", "kafka_controller_kafkacontroller_offlinepartitionscount")


def serve_brokers(kubesim, replicas=3):
    held, leads = spread_partitions("orders", 6, replicas)
    return serve_metrics(kubesim, NS, replicas=replicas, controller=None,
                         brokers=dict((b, {"held": held[b], "leads": leads[b], "leave_out": NO_CONTROLLER}) for b in range(replicas)))


def kraft(tmp_path, kubeconfig, **variables):
    return inventory(tmp_path, kubeconfig, streams_metadata_mode="kraft", kafka_roll_timeout=30, **variables)


@pytest.mark.parametrize("kubesim", [0.5], indirect=True)
def test_kraft_deploys_controllers_and_brokers_without_zookeeper_and_a_rerun_writes_nothing(kubesim, kubeconfig, tmp_path):
    serve_quorum(kubesim, NS, leader=1)
    serve_brokers(kubesim)
    hosts = kraft(tmp_path, kubeconfig)

    first = run_playbook(tmp_path, hosts)
    assert first.rc == 0, first.describe()
    gate = first.result_of(KAFKA_GATE)
    assert gate["ready"] is True, gate
    assert gate["controller"] == "dev-kafka-controller-1" and gate["quorum"]["leader"] == "dev-kafka-controller-1", gate
    assert sorted(gate["brokers"]) == ["dev-kafka-0", "dev-kafka-1", "dev-kafka-2"]

    assert kubesim.get("apps/v1", "StatefulSet", NS, "dev-zookeeper") is None
    assert not [w for w in kubesim.writes() if "zookeeper" in w["path"] or "zookeeper" in (w["name"] or "")]
    controllers = kubesim.get("apps/v1", "StatefulSet", NS, "dev-kafka-controller")
    assert controllers["spec"]["replicas"] == 3 and controllers["spec"]["updateStrategy"] == {"type": "OnDelete"}
    assert controllers["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] == "kafka-controller"
    brokers = kubesim.get("apps/v1", "StatefulSet", NS, "dev-kafka")
    assert brokers["metadata"]["annotations"]["streams.kafka/metadata-mode"] == "kraft"
    properties = kubesim.get("v1", "ConfigMap", NS, "dev-kafka-config")["data"]["server.properties"]
    assert "process.roles=broker" in properties and "zookeeper.connect" not in properties
    cluster_id = kubesim.get("v1", "ConfigMap", NS, "dev-kafka-kraft")["data"]["cluster.id"]
    assert len(cluster_id) == 22, cluster_id

    kubesim.clear_requests()
    second = run_playbook(tmp_path, hosts)
    assert second.rc == 0, second.describe()
    assert kubesim.writes() == [], kubesim.writes()
    assert second.report["stats"]["dev"]["changed"] == 0, second.report["stats"]
    assert kubesim.get("v1", "ConfigMap", NS, "dev-kafka-kraft")["data"]["cluster.id"] == cluster_id

    # the live cluster is KRaft: going back to ZooKeeper mode is refused before any write
    kubesim.clear_requests()
    back = run_playbook(tmp_path, inventory(tmp_path, kubeconfig))
    assert back.rc != 0
    assert kubesim.writes() == []
    message = " ".join(msg for _task, _host, msg in back.failures("dev"))
    assert "streams_metadata_mode" in message and "kraft" in message and "zookeeper" in message, message


@pytest.mark.parametrize("kubesim", [0.5], indirect=True)
def test_kraft_roll_restarts_controllers_first_followers_then_the_leader_then_the_brokers(kubesim, kubeconfig, tmp_path):
    serve_quorum(kubesim, NS, leader=1)
    serve_brokers(kubesim)
    first = run_playbook(tmp_path, kraft(tmp_path, kubeconfig))
    assert first.rc == 0, first.describe()
    kubesim.clear_requests()

    # the log level is in both the brokers' and the controllers' configuration
    run = run_playbook(tmp_path, kraft(tmp_path, kubeconfig, kafka_log_level="DEBUG"))
    assert run.rc == 0, run.describe()
    order = [pod for _t, pod in deletes(kubesim)]
    assert order == ["dev-kafka-controller-0", "dev-kafka-controller-2", "dev-kafka-controller-1",
                     "dev-kafka-0", "dev-kafka-1", "dev-kafka-2"], order
    assert [r["pod"] for r in run.result_of(ROLL)["restarted"]] == order
    ready = kubesim.pod_ready_times()
    times = deletes(kubesim)
    for (_t, previous), (later, _pod) in zip(times, times[1:]):
        assert ready[NS + "/" + previous] < later, (previous, ready[NS + "/" + previous], later)


def test_kraft_gate_fails_naming_the_voter_that_fell_behind(kubesim, kubeconfig, tmp_path):
    serve_quorum(kubesim, NS, leader=0, voters={2: {"log_end_offset": 100}})
    serve_brokers(kubesim)
    run = run_playbook(tmp_path, kraft(tmp_path, kubeconfig, kafka_ready_timeout=4))
    assert run.rc != 0
    failures = run.failures("dev")
    assert [task for task, _host, _msg in failures] == [KAFKA_GATE], run.describe()
    assert "dev-kafka-controller-2" in failures[0][2] and "behind" in failures[0][2], failures[0][2]


def test_kraft_refuses_turning_the_authorizer_off_while_acls_exist(kubesim, kubeconfig, tmp_path):
    kubesim.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    acl = ["--allow-principal", "User:billing", "--allow-host", "*", "--operation", "Read", "--topic", "orders",
           "--resource-pattern-type", "literal"]
    kubesim.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dev-kafka-users-state", "namespace": NS},
                    "data": {"state.json": json.dumps({"users": {"billing": "scram-sha-512"}, "acls": [acl, acl]})}})
    kubesim.clear_requests()
    run = run_playbook(tmp_path, kraft(tmp_path, kubeconfig, kafka_authorization="none"))
    assert run.rc != 0
    messages = [message for _task, _host, message in run.failures("dev")]
    assert len(messages) == 1 and messages[0].startswith(
        "kafka_authorization='none': cluster dev runs in KRaft mode and holds 2 ACL(s) applied by the users Job "
        "(ConfigMap dev-kafka-users-state), for User:billing."), messages
    assert kubesim.writes() == []
