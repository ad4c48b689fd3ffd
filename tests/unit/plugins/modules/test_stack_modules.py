"""connect_ready, bridge_ready, exporter_ready and kafka_connector as Ansible runs them.

The API is replaced by tests/fake_connect.ProxyApi; the real API path is covered by
tests/integration/test_stack_playbooks.py on kubesim.
"""

import json
import pathlib
from unittest import mock

from ansible_collections.streams.kafka.plugins.module_utils import k8s_api
from ansible_collections.streams.kafka.plugins.modules import bridge_ready, connect_ready, exporter_ready, kafka_connector
from tests.fake_connect import FakeConnect, ProxyApi

from .module_run import run_main

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures"
NS = "kafka"


def pod(name, ready=True, waiting=None):
    container = {"name": "c", "ready": ready, "state": {"running": {}}}
    if waiting:
        container["state"] = {"waiting": {"reason": waiting, "message": "back-off 10s"}}
    return {"metadata": {"name": name, "namespace": NS},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                       "containerStatuses": [container]}}


def deployment(name, replicas=1):
    return {"metadata": {"name": name, "generation": 2}, "spec": {"replicas": replicas},
            "status": {"observedGeneration": 2, "replicas": replicas, "updatedReplicas": replicas,
                       "readyReplicas": replicas, "availableReplicas": replicas}}


def run(module, args, api, capsys, check_mode=False, diff=False):
    with mock.patch.object(k8s_api, "PodApi", return_value=api):
        return run_main(module, capsys, args, check_mode, diff)


SINK = {"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "tasks.max": 1, "topics": "orders",
        "file": "/tmp/orders.txt", "connection.password": "hunter2"}
CONNECTOR = {"namespace": NS, "cluster_name": "dev", "name": "orders", "config": SINK, "timeout": 5}


def connect_api(fake):
    return ProxyApi([pod("dev-connect-abc-1")], {("dev-connect-abc-1", 8083): fake}, deployment("dev-connect"))


def test_kafka_connector_lifecycle_with_diff(capsys):
    fake = FakeConnect()
    api = connect_api(fake)
    created = run(kafka_connector, CONNECTOR, api, capsys, diff=True)
    assert created["_rc"] == 0 and created["changed"] and created["actions"] == ["created"]
    assert created["diff"]["before"] == {"state": "absent", "config": None}
    assert created["diff"]["after"]["config"]["connection.password"] == "********"
    assert created["connector"]["state"] == "running" and created["pod"] == "dev-connect-abc-1"
    # (Ansible echoes the module arguments in `invocation`; the module's own results mask the secret)
    assert "hunter2" not in json.dumps({k: v for k, v in created.items() if k != "invocation"})
    assert ("list", NS, "app.kubernetes.io/instance=dev,app.kubernetes.io/name=connect") in api.calls
    same = run(kafka_connector, CONNECTOR, api, capsys, diff=True)
    assert same["changed"] is False and same["actions"] == [] and "diff" not in same
    paused = run(kafka_connector, dict(CONNECTOR, state="paused"), api, capsys, diff=True)
    assert paused["actions"] == ["paused"] and paused["diff"]["before"]["state"] == "running"
    assert paused["diff"]["after"]["state"] == "paused"
    deleted = run(kafka_connector, {"namespace": NS, "cluster_name": "dev", "name": "orders", "state": "absent"}, api, capsys)
    assert deleted["actions"] == ["deleted"] and fake.connectors == {}


def test_kafka_connector_check_mode_writes_nothing(capsys):
    fake = FakeConnect()
    result = run(kafka_connector, dict(CONNECTOR, state="stopped"), connect_api(fake), capsys, check_mode=True)
    assert result["changed"] and result["actions"] == ["created", "stopped"]
    assert fake.writes == [] and fake.connectors == {}


def test_kafka_connector_check_mode_before_connect_exists(capsys):
    # Ansible keeps warnings process-wide; look at the call rather than the result's copy.
    with mock.patch("ansible.module_utils.basic.AnsibleModule.warn") as warn:
        result = run(kafka_connector, CONNECTOR, ProxyApi([], {}), capsys, check_mode=True, diff=True)
    assert result["_rc"] == 0 and result["changed"] and result["actions"] == ["created"]
    assert result["diff"]["before"] == {"state": "absent", "config": None}
    assert "no worker is ready, so the connector is reported as to be created" in warn.call_args.args[0]


def test_kafka_connector_failure_names_the_connector_and_connects_message(capsys):
    result = run(kafka_connector, dict(CONNECTOR, config=dict(SINK, **{"connector.class": "com.example.Missing"})),
                 connect_api(FakeConnect()), capsys)
    assert result["failed"] and result["status"] == 500
    assert result["msg"].startswith("connector orders of Kafka Connect dev in namespace kafka: PUT /connectors/orders/config "
                                    "on pod dev-connect-abc-1 answered 500: Failed to find any class")


def test_kafka_connector_requires_a_config(capsys):
    result = run(kafka_connector, {"namespace": NS, "cluster_name": "dev", "name": "x"}, connect_api(FakeConnect()), capsys)
    assert result["failed"] and "state is running but all of the following are missing: config" in result["msg"]


def test_connect_ready_reports_connectors(capsys):
    fake = FakeConnect()
    fake.connectors["orders"] = {"config": {"name": "orders", "connector.class": SINK["connector.class"]}, "target": "PAUSED"}
    args = {"namespace": NS, "cluster_name": "dev", "replicas": 1, "timeout": 1, "paused": ["orders"], "connectors": ["orders"]}
    result = run(connect_ready, args, connect_api(fake), capsys)
    assert result["_rc"] == 0 and result["ready"] and result["connectors"]["orders"]["state"] == "PAUSED"
    assert result["deployment"] == {"name": "dev-connect", "replicas": 1, "updated": 1, "ready": 1, "available": 1}
    failed = run(connect_ready, dict(args, paused=[]), connect_api(fake), capsys)
    assert failed["failed"] and failed["msg"] == ("Kafka Connect dev in namespace kafka is not ready after 1s: connector "
                                                  "orders is PAUSED, expected RUNNING on worker 10.128.2.15:8083")


def test_connect_ready_check_mode_does_not_wait_or_fail(capsys):
    result = run(connect_ready, {"namespace": NS, "cluster_name": "dev", "component": "mirrormaker", "replicas": 1,
                                 "timeout": 300}, ProxyApi([], {}, None), capsys, check_mode=True)
    assert result["_rc"] == 0 and result["ready"] is False and result["waited"] == 0
    assert result["reason"] == ("Deployment dev-mirrormaker does not exist; no Kafka Connect pods exist "
                                "(selector app.kubernetes.io/instance=dev,app.kubernetes.io/name=mirrormaker)")


def test_connect_ready_refuses_a_connector_both_paused_and_stopped(capsys):
    result = run(connect_ready, {"namespace": NS, "cluster_name": "dev", "replicas": 1, "paused": ["a"], "stopped": ["a"]},
                 connect_api(FakeConnect()), capsys)
    assert result["failed"] and result["msg"] == "connector a is listed as both paused and stopped"


def test_bridge_ready_stuck_pod_gives_up_early(capsys):
    api = ProxyApi([pod("dev-bridge-abc-1", ready=False, waiting="CrashLoopBackOff")], {}, deployment("dev-bridge"))
    result = run(bridge_ready, {"namespace": NS, "cluster_name": "dev", "replicas": 1, "timeout": 300, "stuck_grace": 0},
                 api, capsys)
    assert result["failed"] and result["waited"] < 5
    assert result["msg"].startswith("Kafka Bridge dev in namespace kafka cannot become ready without a change "
                                    "(gave up after 0s): pod dev-bridge-abc-1: container c is CrashLoopBackOff")


def test_exporter_ready_passes_on_recorded_metrics(capsys):
    text = (FIXTURES / "kafka_exporter_metrics.txt").read_text()
    api = ProxyApi([pod("dev-exporter-abc-1")], {("dev-exporter-abc-1", 9404): lambda *_a: (200, {}, text)},
                   deployment("dev-exporter"))
    result = run(exporter_ready, {"namespace": NS, "cluster_name": "dev", "replicas": 1, "brokers": 3, "timeout": 1}, api, capsys)
    assert result["_rc"] == 0 and result["ready"] and result["pods"]["dev-exporter-abc-1"]["kafka_brokers"] == 3
