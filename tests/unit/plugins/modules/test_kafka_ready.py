"""kafka_ready as Ansible runs it: options, check mode, results and failure messages.

The API is replaced by the FakeApi of the module_utils tests; the real API path is covered by
tests/integration (kubesim, with broker metrics behind its pod proxy).
"""

from unittest import mock

import pytest

from ansible_collections.streams.kafka.plugins.module_utils import k8s_api, metrics
from ansible_collections.streams.kafka.plugins.modules import kafka_ready
from tests.kafka_metrics import broker_metrics

from ..module_utils.test_kafka import NAMES, NS, FakeApi, healthy
from ..module_utils.test_zookeeper import pod
from .module_run import run_main


def run_module(args, api, capsys, check_mode=False):
    with mock.patch.object(k8s_api, "PodApi", return_value=api) as pod_api:
        result = run_main(kafka_ready, capsys, args, check_mode)
    result["_pod_api_kwargs"] = pod_api.call_args.kwargs if pod_api.call_args else None
    return result


BASE = {"namespace": NS, "cluster_name": "dev", "replicas": 3, "timeout": 5}


def test_ready_cluster(capsys):
    api = FakeApi([pod(n) for n in NAMES], healthy(controller=2))
    result = run_module(BASE, api, capsys)
    assert result["_rc"] == 0 and not result.get("failed")
    assert result["ready"] is True and result["changed"] is False and result["reason"] == "ready"
    assert result["controller"] == "dev-kafka-2"
    assert sorted(result["brokers"]) == NAMES
    assert result["brokers"]["dev-kafka-0"]["broker_state_name"] == "RUNNING"
    assert result["brokers"]["dev-kafka-2"]["active_controller"] is True
    assert result["waited"] < 1
    assert api.selectors == ["app.kubernetes.io/instance=dev,app.kubernetes.io/name=kafka"]
    assert {call[1:] for call in api.calls} == {(9404, "/metrics")}
    assert result["_pod_api_kwargs"] == {"request_timeout": 5}


def test_under_replicated_partitions_fail_naming_the_broker(capsys):
    api = FakeApi([pod(n) for n in NAMES], healthy(brokers={1: {"under_replicated": 7}}))
    result = run_module(dict(BASE, timeout=1), api, capsys)
    assert result["failed"] and result["_rc"] == 1
    assert result["msg"] == ("Kafka cluster dev in namespace kafka is not ready after 1s: "
                             "pod dev-kafka-1: 7 under-replicated partition(s)")
    assert result["ready"] is False and result["controller"] == "dev-kafka-0"
    assert result["brokers"]["dev-kafka-1"]["under_replicated_partitions"] == 7


def test_stuck_pod_fails_before_the_timeout(capsys):
    pods = [pod(NAMES[0], ready=False, waiting="ImagePullBackOff")] + [pod(n) for n in NAMES[1:]]
    result = run_module(dict(BASE, timeout=300, stuck_grace=0), FakeApi(pods, healthy(controller=1)), capsys)
    assert result["failed"]
    assert ("cannot become ready without a change (gave up after 0s): pod dev-kafka-0: container zookeeper is "
            "ImagePullBackOff") in result["msg"]
    assert result["brokers"]["dev-kafka-0"]["state"] == "pod_not_ready"


def test_check_mode_looks_once_and_does_not_fail(capsys):
    api = FakeApi([pod(n) for n in NAMES[:1]], {})
    result = run_module(dict(BASE, timeout=300), api, capsys, check_mode=True)
    assert result["_rc"] == 0 and not result.get("failed")
    assert result["ready"] is False and result["waited"] == 0
    assert "pod dev-kafka-1: pod does not exist" in result["reason"]
    assert len(api.selectors) == 1


def test_selector_mode_and_port(capsys):
    pods = [pod("k-0"), pod("k-1")]
    api = FakeApi(pods, {"k-0": broker_metrics(controller=True), "k-1": broker_metrics()})
    result = run_module({"namespace": NS, "selector": "app=k", "replicas": 2, "metrics_port": 9405,
                         "metrics_path": "/prometheus"}, api, capsys)
    assert result["ready"] and result["controller"] == "k-0"
    assert api.selectors == ["app=k"] and {call[1:] for call in api.calls} == {(9405, "/prometheus")}


def test_forbidden_fails_at_once(capsys):
    api = FakeApi(list_error=k8s_api.ApiError("cannot list pods in namespace kafka: pods is forbidden", 403))
    result = run_module(BASE, api, capsys)
    assert result["failed"]
    assert result["msg"] == ("Kafka cluster dev in namespace kafka cannot be checked: "
                             "cannot list pods in namespace kafka: pods is forbidden")


def test_missing_prometheus_client_is_named(capsys, monkeypatch):
    monkeypatch.setattr(metrics, "HAS_PROMETHEUS_CLIENT", False)
    result = run_module(BASE, FakeApi(), capsys)
    assert result["failed"] and "prometheus_client" in result["msg"]


@pytest.mark.parametrize("args, message", [
    (dict(BASE, selector="app=k"), "parameters are mutually exclusive: cluster_name|selector"),
    ({"namespace": NS, "replicas": 3}, "one of the following is required: cluster_name, selector"),
    (dict(BASE, replicas=0), "replicas must be at least 1, got 0"),
    (dict(BASE, stuck_grace=-1), "timeout and stuck_grace must not be negative"),
])
def test_bad_options(args, message, capsys):
    result = run_module(args, FakeApi(), capsys)
    assert result["failed"] and message in result["msg"]
