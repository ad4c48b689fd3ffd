"""The Kafka gate's logic: metrics parsing, one broker's read, the verdict on a cluster, waiting."""

import pytest

from ansible_collections.streams.kafka.plugins.module_utils import kafka, metrics
from ansible_collections.streams.kafka.plugins.module_utils.k8s_api import ApiError
from ansible_collections.streams.kafka.plugins.module_utils.readiness import NotReady
from tests.kafka_metrics import broker_metrics

from .test_zookeeper import NS, pod

NAMES = ["dev-kafka-0", "dev-kafka-1", "dev-kafka-2"]


class FakeApi:
    """PodApi's two calls: pods from a list, /metrics from a dict of pod -> text (or exception)."""

    def __init__(self, pods=None, answers=None, list_error=None):
        self.pods = pods or []
        self.answers = answers or {}
        self.list_error = list_error
        self.calls = []
        self.selectors = []

    def list_pods(self, namespace, selector):
        assert namespace == NS
        self.selectors.append(selector)
        if self.list_error:
            raise self.list_error
        return sorted(self.pods, key=lambda p: p["metadata"]["name"])

    def proxy_get(self, namespace, name, port, path):
        assert namespace == NS
        self.calls.append((name, port, path))
        answer = self.answers.get(name, ApiError(
            "%s:%s/%s answered 503: error trying to reach service: dial tcp 10.0.0.1:%s: connect: connection refused"
            % (name, port, path.lstrip("/"), port), 503))
        if isinstance(answer, Exception):
            raise answer
        return answer


def healthy(controller=0, replicas=3, brokers=None):
    """Metrics of every broker; `brokers` maps an ordinal to broker_metrics() arguments."""
    return {"dev-kafka-%d" % i: broker_metrics(controller=i == controller, **(brokers or {}).get(i, {})) for i in range(replicas)}


def cluster(answers=None, pods=None):
    return FakeApi([pod(n) for n in NAMES] if pods is None else pods, healthy() if answers is None else answers)


def gate(api, replicas=3, **kwargs):
    return kafka.BrokersGate(api, NS, replicas, kafka.selector_for("dev"), kafka.expected_pods("dev", replicas), **kwargs)


# --- metrics --------------------------------------------------------------------------------

def test_metrics_parse_by_sample_name():
    samples = metrics.parse(broker_metrics(controller=True, under_replicated=2)
                            + 'kafka_server_x_total{topic="a"} 3\nkafka_server_x_total{topic="b"} 4\nnan_metric NaN\n')
    assert samples.total(kafka.BROKER_STATE) == 3
    assert samples.total(kafka.ACTIVE_CONTROLLER) == 1 and samples.total(kafka.UNDER_REPLICATED) == 2
    assert samples.total("kafka_server_x_total") == 7 and samples.values("kafka_server_x_total", topic="b") == [4]
    assert samples.total("missing") is None and samples.total("nan_metric") is None
    assert kafka.BROKER_STATE in samples and "jvm_threads_current" in samples.names()


@pytest.mark.parametrize("text", ["<html><title>Error 500</title></html>", "kafka_server_kafkaserver_brokerstate three\n"])
def test_metrics_refuse_what_is_not_prometheus_text(text):
    with pytest.raises(metrics.MetricsError, match="not Prometheus text") as error:
        metrics.parse(text)
    assert error.value.detail in str(error.value)


# --- one broker -----------------------------------------------------------------------------

def test_read_running_broker():
    read = kafka.read_broker(cluster(), NS, "dev-kafka-0")
    assert read == {"answered": True, "broker_state": 3, "active_controller": True, "under_replicated_partitions": 0,
                    "offline_partitions": 0, "at_min_isr_partitions": 0, "under_min_isr_partitions": 0, "problem": None,
                    "replicas": [], "leads": {}}


@pytest.mark.parametrize("answer, answered, problem", [
    (broker_metrics(state=2), True, "broker state is RECOVERY (2), not RUNNING (3)"),
    (broker_metrics(state=7), True, "broker state is SHUTTING_DOWN (7), not RUNNING (3)"),
    (broker_metrics(state=42), True, "broker state is state 42 (42), not RUNNING (3)"),
    (broker_metrics(leave_out=[kafka.BROKER_STATE, kafka.UNDER_REPLICATED]), True,
     "metrics on port 9404 have no kafka_server_kafkaserver_brokerstate, kafka_server_replicamanager_underreplicatedpartitions; "
     "the JMX exporter must run with the kafka role's rules"),
    ("", True, "metrics on port 9404 have no kafka_server_kafkaserver_brokerstate, "),
    ("<html><head><title>Error 500 boom</title></head><body>" + "x" * 3000 + "</body></html>", True,
     "metrics on port 9404/metrics are not Prometheus text: Error 500 boom"),
    (ApiError("dev-kafka-0:9404/metrics answered 503: connection refused", 503), False,
     "metrics on port 9404 do not answer: dev-kafka-0:9404/metrics answered 503: connection refused"),
])
def test_read_names_what_is_wrong(answer, answered, problem):
    read = kafka.read_broker(FakeApi(answers={"dev-kafka-0": answer}), NS, "dev-kafka-0")
    assert read["answered"] is answered
    assert read["problem"] is not None and read["problem"].startswith(problem), read["problem"]
    assert len(read["problem"]) < 400


# --- the cluster ----------------------------------------------------------------------------

def test_healthy_cluster_is_ready_with_its_controller():
    report = gate(cluster(healthy(controller=1))).observe()
    assert report["ready"] and report["reason"] == "ready" and report["controller"] == "dev-kafka-1"
    assert sorted(report["brokers"]) == NAMES
    broker = report["brokers"]["dev-kafka-2"]
    assert broker == {"pod": "dev-kafka-2", "broker_id": 2, "state": "serving", "broker_state": 3,
                      "broker_state_name": "RUNNING", "active_controller": False, "under_replicated_partitions": 0,
                      "offline_partitions": 0, "at_min_isr_partitions": 0, "under_min_isr_partitions": 0, "problem": None}


def test_under_replicated_partitions_name_the_broker():
    report = gate(cluster(healthy(brokers={1: {"under_replicated": 4, "at_min_isr": 4}}))).observe()
    assert not report["ready"]
    assert report["problems"] == ["pod dev-kafka-1: 4 under-replicated partition(s)"]
    assert report["brokers"]["dev-kafka-1"]["at_min_isr_partitions"] == 4
    assert report["controller"] == "dev-kafka-0"


def test_offline_partitions_name_the_controller():
    report = gate(cluster(healthy(controller=2, brokers={2: {"offline": 3}}))).observe()
    assert report["problems"] == ["pod dev-kafka-2 (the active controller): 3 offline partition(s)"]


def test_no_controller_and_two_controllers():
    none = gate(cluster(healthy(controller=None))).observe()
    assert none["problems"] == ["no broker is the active controller (asked dev-kafka-0, dev-kafka-1, dev-kafka-2)"]
    answers = healthy(controller=0)
    answers["dev-kafka-2"] = broker_metrics(controller=True)
    two = gate(cluster(answers)).observe()
    assert two["problems"] == ["pods dev-kafka-0, dev-kafka-2 all report being the active controller; expected exactly one"]
    assert two["controller"] is None


def test_pod_problems_and_missing_pods():
    pods = [pod(NAMES[0]), pod(NAMES[1], ready=False, waiting="CrashLoopBackOff")]
    report = gate(FakeApi(pods, healthy())).observe()
    assert report["problems"][:2] == ["pod dev-kafka-1: container zookeeper is CrashLoopBackOff: back-off 40s restarting failed container",
                                      "pod dev-kafka-2: pod does not exist"]
    assert report["brokers"]["dev-kafka-2"]["state"] == "missing"
    assert report["brokers"]["dev-kafka-1"]["state"] == "pod_not_ready"
    assert report["stuck"] == ["dev-kafka-1"]


def test_unreachable_and_not_ready_pod():
    answers = healthy()
    del answers["dev-kafka-2"]
    pods = [pod(NAMES[0]), pod(NAMES[1], ready=False), pod(NAMES[2])]
    report = gate(FakeApi(pods, answers)).observe()
    assert report["brokers"]["dev-kafka-1"]["state"] == "pod_not_ready"
    assert "pod dev-kafka-1: readiness probe failing" in report["reason"]
    assert report["brokers"]["dev-kafka-2"]["state"] == "unreachable"
    assert "pod dev-kafka-2: metrics on port 9404 do not answer" in report["reason"]


def test_selector_mode_counts_the_pods():
    api = FakeApi([pod("k-0"), pod("k-1")], {"k-0": broker_metrics(controller=True), "k-1": broker_metrics()})
    report = kafka.BrokersGate(api, NS, 3, "app=k").observe()
    assert report["problems"] == ["found 2 Kafka pod(s) (k-0, k-1), expected 3"]
    assert api.selectors == ["app=k"]


def test_wait_passes_when_the_cluster_becomes_ready():
    answers = healthy(brokers={0: {"state": 2}})
    api = cluster(answers)
    clock = [0.0]

    def sleep(seconds):
        clock[0] += seconds
        answers["dev-kafka-0"] = broker_metrics(controller=True)

    report, waited = gate(api, clock=lambda: clock[0]).wait(10, sleep=sleep)
    assert report["ready"] and 0 < waited < 1
    assert {call[2] for call in api.calls} == {"/metrics"} and {call[1] for call in api.calls} == {9404}


def test_wait_times_out_with_the_last_reason():
    clock = [0.0]

    def sleep(seconds):
        clock[0] += seconds

    with pytest.raises(NotReady, match="pod dev-kafka-1: 2 under-replicated partition"):
        gate(cluster(healthy(brokers={1: {"under_replicated": 2}})), clock=lambda: clock[0]).wait(3, sleep=sleep)
    assert clock[0] <= 3


def test_stuck_pod_ends_the_wait_after_the_grace():
    clock = [0.0]

    def sleep(seconds):
        clock[0] += seconds

    pods = [pod(NAMES[0]), pod(NAMES[1]), pod(NAMES[2], ready=False, waiting="ImagePullBackOff")]
    with pytest.raises(kafka.BrokersStuck, match="pod dev-kafka-2: container zookeeper is ImagePullBackOff") as stuck:
        gate(FakeApi(pods, healthy()), stuck_grace=5, clock=lambda: clock[0]).wait(300, sleep=sleep)
    assert 5 <= clock[0] < 7
    assert stuck.value.report["stuck"] == ["dev-kafka-2"]


def test_forbidden_is_fatal_and_a_missing_namespace_is_no_brokers():
    with pytest.raises(ApiError):
        gate(FakeApi(list_error=ApiError("pods is forbidden", 403))).probe()
    report = gate(FakeApi(list_error=ApiError("namespace not found", 404))).observe()
    assert report["brokers"]["dev-kafka-0"]["state"] == "missing"


def test_names():
    assert kafka.statefulset_name("dev") == "dev-kafka"
    assert kafka.expected_pods("dev", 2) == ["dev-kafka-0", "dev-kafka-1"]
    assert kafka.broker_id("my-long-name-kafka-11") == 11 and kafka.broker_id("nothing") is None
    assert kafka.selector_for("dev") == "app.kubernetes.io/instance=dev,app.kubernetes.io/name=kafka"
