"""The Bridge and Exporter gates on recorded answers, and the rollout checks they share."""

import json
import pathlib

import pytest

from ansible_collections.streams.kafka.plugins.module_utils import bridge, exporter, metrics, workload
from tests.fake_connect import ProxyApi

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures"
NS = "kafka"


def fixture(name):
    return (FIXTURES / name).read_text()


def pod(name, ready=True, waiting=None, phase="Running"):
    container = {"name": "c", "ready": ready, "state": {"running": {}}}
    if waiting:
        container["state"] = {"waiting": {"reason": waiting, "message": "Back-off pulling image"}}
    return {"metadata": {"name": name, "namespace": NS},
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                       "containerStatuses": [container]}}


def deployment(name, want=1, **status):
    replicas = want
    full = {"observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": replicas,
            "availableReplicas": replicas}
    full.update(status)
    return {"metadata": {"name": name, "generation": 1}, "spec": {"replicas": want}, "status": full}


def recorded(name):
    """A handler answering /ready with a recorded Bridge answer and / with the recorded root."""
    answer = json.loads(fixture(name))

    def handler(method, path, _query, _body):
        assert method == "GET"
        if path == answer["path"]:
            return answer["status"], answer["headers"], answer["body"]
        if path == "/":
            return 200, {"Content-Type": "application/json"}, fixture("bridge_root.json")
        return 404, {}, ""
    return handler


# --- rollout ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dep, expected", [
    (None, "Deployment d does not exist"),
    (deployment("d", 2, observedGeneration=0), "Deployment d: its controller has not observed generation 1 yet"),
    (deployment("d", 2, updatedReplicas=1), "Deployment d: rollout in progress, 1 of 2 pods run the current template"),
    (deployment("d", 2, replicas=3), "Deployment d: rollout in progress, 1 old pod(s) still running"),
    (deployment("d", 2, availableReplicas=1), "Deployment d: 1 of 2 pods available"),
    (deployment("d", 3), "Deployment d asks for 3 replicas, expected 2 (scaled by someone else?)"),
    (dict(deployment("d", 2), status=dict(deployment("d", 2)["status"], conditions=[
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
         "message": 'ReplicaSet "d-5c9f" has timed out progressing.'}])), 'Deployment d: ReplicaSet "d-5c9f" has timed out progressing.'),
])
def test_rollout_problems(dep, expected):
    assert workload.rollout_problems(dep, "d", 2) == [expected]
    assert workload.rollout_problems(deployment("d", 2), "d", 2) == []


def test_api_server_message_tells_the_proxy_from_the_pod():
    assert workload.api_server_message(fixture("proxy_error_503.json")).startswith("error trying to reach service")
    assert workload.api_server_message(fixture("connect_error_404.json")) is None
    assert workload.api_server_message("") is None


# --- bridge -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, status", [("bridge_ready_0.31.json", 204), ("bridge_ready_1.0.json", 200)])
def test_bridge_ready_in_both_forms(name, status):
    answer = json.loads(fixture(name))
    assert bridge.ready_problem(answer["status"], answer["body"]) is None
    api = ProxyApi([pod("dev-bridge-abc-1")], {("dev-bridge-abc-1", 8080): recorded(name)}, deployment("dev-bridge"))
    report = bridge.BridgeGate(api, NS, "sel", 1, 8080, deployment="dev-bridge").observe()
    assert report["ready"], report["reason"]
    assert report["pods"]["dev-bridge-abc-1"] == {"pod": "dev-bridge-abc-1", "state": "serving", "problem": None,
                                                  "status": status, "bridge_version": "0.31.1"}


def test_bridge_not_ready_answer_names_the_pod():
    answer = json.loads(fixture("bridge_not_ready.json"))
    assert bridge.ready_problem(answer["status"], answer["body"]) == "GET /ready answered 500"
    api = ProxyApi([pod("b-1"), pod("b-2")], {("b-1", 8080): recorded("bridge_ready_0.31.json"),
                                              ("b-2", 8080): recorded("bridge_not_ready.json")}, deployment("b", 2))
    report = bridge.BridgeGate(api, NS, "sel", 2, 8080, deployment="b").observe()
    assert not report["ready"]
    assert report["reason"] == "pod b-2: GET /ready answered 500"
    assert report["pods"]["b-2"]["state"] == "not_serving" and report["pods"]["b-1"]["state"] == "serving"


def test_bridge_unreachable_and_stuck_pods():
    api = ProxyApi([pod("b-1"), pod("b-2", ready=False, waiting="ImagePullBackOff")], {}, deployment("b", 2, availableReplicas=0))
    report = bridge.BridgeGate(api, NS, "sel", 2, 8080, deployment="b").observe()
    assert report["problems"] == [
        "Deployment b: 0 of 2 pods available",
        "pod b-1: HTTP API on port 8080 does not answer: error trying to reach service: dial tcp 10.0.0.1:8080: connect: connection refused",
        "pod b-2: container c is ImagePullBackOff: Back-off pulling image"]
    assert report["pods"]["b-1"]["state"] == "unreachable" and report["stuck"] == ["b-2"]
    # a stuck pod is not asked through the proxy
    assert not [c for c in api.calls if c[1] == "b-2"]


def test_parse_version():
    assert bridge.parse_version(fixture("bridge_root.json")) == "0.31.1"
    assert bridge.parse_version("not json") is None


# --- exporter --------------------------------------------------------------------------------

def metrics_handler(text):
    def handler(method, path, _query, _body):
        assert method == "GET"
        return (200, {"Content-Type": "text/plain; version=0.0.4"}, text) if path == "/metrics" else (404, {}, "")
    return handler


def test_recorded_exporter_metrics_are_parsed_by_the_shared_parser():
    samples = metrics.parse(fixture("kafka_exporter_metrics.txt"))
    assert samples.total(exporter.BROKERS) == 3
    assert samples.total("kafka_consumergroup_lag_sum", consumergroup="billing", topic="orders") == 15
    assert len(samples.values("kafka_broker_info")) == 3


@pytest.mark.parametrize("brokers, ready, reason", [
    (3, True, "ready"),
    (4, False, "pod e-1: kafka_brokers is 3, expected 4 (brokers missing from the cluster metadata)"),
])
def test_exporter_gate_compares_kafka_brokers(brokers, ready, reason):
    api = ProxyApi([pod("e-1")], {("e-1", 9404): metrics_handler(fixture("kafka_exporter_metrics.txt"))}, deployment("e"))
    report = exporter.ExporterGate(api, NS, "sel", 1, brokers, deployment="e").observe()
    assert report["ready"] is ready and report["reason"] == reason
    assert report["pods"]["e-1"]["kafka_brokers"] == 3


def test_exporter_without_kafka_brokers_or_with_garbage():
    text = "\n".join(line for line in fixture("kafka_exporter_metrics.txt").splitlines() if "kafka_brokers" not in line)
    api = ProxyApi([pod("e-1"), pod("e-2")], {("e-1", 9404): metrics_handler(text + "\n"),
                                              ("e-2", 9404): metrics_handler("<html>oops</html>")}, deployment("e", 2))
    report = exporter.ExporterGate(api, NS, "sel", 2, 3, deployment="e").observe()
    assert report["problems"][0] == "pod e-1: its metrics have no kafka_brokers (it has not read the Kafka cluster's metadata)"
    assert report["problems"][1].startswith("pod e-2: metrics on port 9404/metrics are not Prometheus text")
    assert report["pods"]["e-2"]["state"] == "not_serving"


def test_exporter_gate_from_params_refuses_zero_brokers():
    params = {"cluster_name": "dev", "selector": None, "deployment": None, "namespace": NS, "replicas": 1, "brokers": 0,
              "port": 9404, "path": "/metrics", "stuck_grace": 60}
    with pytest.raises(ValueError, match="brokers must be at least 1"):
        exporter.gate_from_params(params, None)
    gate = exporter.gate_from_params(dict(params, brokers=3), None)
    assert gate.selector == "app.kubernetes.io/instance=dev,app.kubernetes.io/name=exporter" and gate.deployment == "dev-exporter"
