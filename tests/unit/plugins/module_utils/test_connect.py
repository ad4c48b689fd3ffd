"""Kafka Connect's REST answers, the Connect gate's verdict, and the connector lifecycle.

The parsers run on answers recorded from a Kafka 3.9 worker (tests/unit/fixtures/); the gate
and ConnectorManager run against tests/fake_connect.py, a Connect REST API that keeps state.
"""

import json
import pathlib

import pytest

from ansible_collections.streams.kafka.plugins.module_utils import connect
from ansible_collections.streams.kafka.plugins.module_utils.readiness import NotReady
from tests.fake_connect import FakeConnect, ProxyApi

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures"
NS = "kafka"
PODS = ["dev-connect-6d9f7c8b5-x2x4k", "dev-connect-6d9f7c8b5-z7q9w"]


def fixture(name):
    return (FIXTURES / name).read_text()


def pod(name, ready=True, waiting=None):
    container = {"name": "connect", "ready": ready, "state": {"running": {}}}
    if waiting:
        container["state"] = {"waiting": {"reason": waiting, "message": "back-off 40s"}}
    return {"metadata": {"name": name, "namespace": NS},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                       "containerStatuses": [container]}}


def deployment(replicas=2, updated=None, available=None, generation=1, observed=1, total=None):
    return {"metadata": {"name": "dev-connect", "generation": generation}, "spec": {"replicas": replicas},
            "status": {"observedGeneration": observed, "replicas": replicas if total is None else total,
                       "updatedReplicas": replicas if updated is None else updated,
                       "readyReplicas": replicas if available is None else available,
                       "availableReplicas": replicas if available is None else available}}


# --- parsing recorded answers -----------------------------------------------------------------

def test_parse_root():
    assert connect.parse_root(fixture("connect_root.json")) == {
        "version": "3.9.0", "commit": "a60e31147e6b01ee", "kafka_cluster_id": "5nWpTfKuQpCzDaZ1b0Zf4A"}
    with pytest.raises(ValueError, match="no Kafka Connect version"):
        connect.parse_root('{"bridge_version": "0.31.1"}')
    with pytest.raises(ValueError, match="not JSON: <html>"):
        connect.parse_root("<html><body>502 Bad Gateway</body></html>")


def test_parse_connectors_expanded():
    connectors = connect.parse_connectors(fixture("connect_connectors_expanded.json"))
    assert sorted(connectors) == ["audit-file-source", "legacy-jdbc-sink", "orders-file-sink",
                                  "prod-east-to-prod-west.MirrorCheckpointConnector"]
    sink = connectors["orders-file-sink"]
    assert sink["type"] == "sink" and sink["state"] == "RUNNING" and sink["worker_id"] == "10.128.2.15:8083"
    assert sink["class"] == "org.apache.kafka.connect.file.FileStreamSinkConnector"
    assert [t["state"] for t in sink["tasks"]] == ["RUNNING", "FAILED"]
    # only the exception line of a stack trace is kept
    assert sink["tasks"][1]["trace"] == ("org.apache.kafka.connect.errors.ConnectException: "
                                         "Exiting WorkerSinkTask due to unrecoverable exception.")
    assert connectors["prod-east-to-prod-west.MirrorCheckpointConnector"]["tasks"] == []
    assert connectors["legacy-jdbc-sink"]["trace"].startswith("org.apache.kafka.connect.errors.ConnectException: "
                                                              "Failed to find any class that implements Connector")
    assert "\n" not in connectors["legacy-jdbc-sink"]["trace"]
    assert "config" not in sink, "the gate's report must not carry connector configs (secrets)"


def test_parse_connectors_refuses_a_list():
    with pytest.raises(ValueError, match="expected an object of connectors"):
        connect.parse_connectors('["orders-file-sink"]')


@pytest.mark.parametrize("name, status, message, from_connect", [
    ("connect_error_409.json", 409, "Cannot complete request momentarily due to stale configuration", True),
    ("connect_error_404.json", 404, "Connector orders-file-sink not found", True),
    ("connect_error_400.json", 400, "Connector configuration is invalid and contains the following 1 error(s):", True),
    ("proxy_error_503.json", 503, "error trying to reach service: dial tcp 10.128.2.15:8083: connect: connection refused", False),
])
def test_parse_error(name, status, message, from_connect):
    text, came_from_connect = connect.parse_error(status, fixture(name))
    assert text.startswith(message) and came_from_connect is from_connect
    assert connect.ConnectError(status, text, came_from_connect).retryable is (status in (409, 503) or not from_connect)


# --- the verdict --------------------------------------------------------------------------------

def test_connector_problems_of_the_recorded_cluster():
    connectors = connect.parse_connectors(fixture("connect_connectors_expanded.json"))
    problems = connect.connector_problems(connectors, expected={"audit-file-source": "PAUSED"},
                                          required=["orders-file-sink", "payments-sink"])
    assert len(problems) == 3
    assert problems[0] == "connector payments-sink does not exist"
    # a connector's own failure: its state, worker and the exception line, cut to stay readable
    assert problems[1].startswith(
        "connector legacy-jdbc-sink is FAILED on worker 10.128.2.15:8083: org.apache.kafka.connect.errors.ConnectException: "
        "Failed to find any class that implements Connector and which name matches io.confluent.connect.jdbc.JdbcSinkConnector")
    assert problems[1].endswith("...") and len(problems[1]) < 400
    assert problems[2] == ("connector orders-file-sink task 1 is FAILED on worker 10.131.0.22:8083: "
                           "org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.")
    # the paused connector is expected paused; the MirrorMaker connector without tasks runs
    assert not [p for p in problems if "audit-file-source" in p or "MirrorCheckpointConnector" in p]


def test_paused_connector_is_a_problem_unless_expected():
    connectors = connect.parse_connectors(fixture("connect_connectors_expanded.json"))
    audit = {"audit-file-source": connectors["audit-file-source"]}
    assert connect.connector_problems(audit) == ["connector audit-file-source is PAUSED, expected RUNNING on worker 10.131.0.22:8083"]
    assert connect.connector_problems(audit, expected={"audit-file-source": "PAUSED"}) == []
    assert connect.connector_problems(audit, expected={"audit-file-source": "STOPPED"}) == [
        "connector audit-file-source is PAUSED, expected STOPPED on worker 10.131.0.22:8083"]


def test_connector_without_tasks_is_ready_when_running():
    connectors = connect.parse_connectors(fixture("connect_connectors_expanded.json"))
    mm2 = "prod-east-to-prod-west.MirrorCheckpointConnector"
    assert connect.connector_problems({mm2: connectors[mm2]}, required=[mm2]) == []


# --- configs and plans --------------------------------------------------------------------------

def test_normalize_config_stores_strings_as_connect_does():
    config = connect.normalize_config("s", {"connector.class": "X", "tasks.max": 2, "errors.tolerance": "all",
                                            "value.converter.schemas.enable": False, "topics": ["a", "b"]})
    assert config == {"name": "s", "connector.class": "X", "tasks.max": "2", "errors.tolerance": "all",
                      "value.converter.schemas.enable": "false", "topics": "a,b"}
    with pytest.raises(ValueError, match="config sets name=other"):
        connect.normalize_config("s", {"name": "other"})
    with pytest.raises(ValueError, match="config key transforms must be a string"):
        connect.normalize_config("s", {"transforms": {"a": 1}})


def test_mask_hides_secret_looking_values():
    masked = connect.mask({"connection.password": "hunter2", "sasl.jaas.config": "x", "connection.user": "app",
                           "aws.secret.key": "k", "topics": "orders"})
    assert masked == {"connection.password": "********", "sasl.jaas.config": "********", "connection.user": "app",
                      "aws.secret.key": "********", "topics": "orders"}


@pytest.mark.parametrize("current, state, desired, expected", [
    (None, None, "running", ["created"]),
    (None, None, "paused", ["created", "paused"]),
    (None, None, "stopped", ["created", "stopped"]),
    (None, None, "absent", []),
    ("same", "RUNNING", "running", []),
    ("same", "FAILED", "running", []),
    ("other", "RUNNING", "running", ["updated"]),
    ("same", "RUNNING", "paused", ["paused"]),
    ("other", "PAUSED", "paused", ["updated"]),
    ("same", "PAUSED", "running", ["resumed"]),
    ("same", "STOPPED", "running", ["resumed"]),
    ("same", "PAUSED", "stopped", ["stopped"]),
    ("same", "RUNNING", "absent", ["deleted"]),
])
def test_plan(current, state, desired, expected):
    wanted = {"name": "c", "connector.class": "X"}
    configs = {None: None, "same": dict(wanted), "other": {"name": "c", "connector.class": "Y"}}
    assert connect.plan(configs[current], state, None if desired == "absent" else wanted, desired) == expected


def test_connector_names_that_cannot_travel_in_the_path_are_refused():
    for bad in ("a/b", "a b", "-a", "a?b", "", "x" * 250):
        with pytest.raises(ValueError, match="is not valid"):
            connect.connector_path(bad)
    assert connect.connector_path("prod-east-to-prod-west.MirrorSourceConnector", "/status") == \
        "/connectors/prod-east-to-prod-west.MirrorSourceConnector/status"


# --- the gate -------------------------------------------------------------------------------------

def gate_api(fake=None, pods=None, dep=None):
    fake = fake or FakeConnect()
    pods = pods if pods is not None else [pod(n) for n in PODS]
    return ProxyApi(pods, {(p["metadata"]["name"], 8083): fake for p in pods}, deployment(len(PODS)) if dep is None else dep), fake


def make_gate(api, **kwargs):
    return connect.ConnectGate(api, NS, "app.kubernetes.io/instance=dev,app.kubernetes.io/name=connect", len(PODS),
                               deployment="dev-connect", **kwargs)


def test_gate_ready_with_running_connectors():
    api, fake = gate_api()
    fake.connectors["s"] = {"config": {"name": "s", "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
                                       "tasks.max": "2"}, "target": "RUNNING"}
    report = make_gate(api, required=["s"]).observe()
    assert report["ready"], report["reason"]
    assert report["version"] == "3.9.0" and report["kafka_cluster_id"] == "5nWpTfKuQpCzDaZ1b0Zf4A"
    assert report["connectors"]["s"]["tasks"] == [{"id": 0, "state": "RUNNING", "worker_id": "10.128.2.15:8083", "trace": None},
                                                  {"id": 1, "state": "RUNNING", "worker_id": "10.128.2.15:8083", "trace": None}]
    assert sorted(report["pods"]) == PODS and all(p["state"] == "serving" for p in report["pods"].values())
    # every worker's root was read, the connectors from one worker only
    assert sorted(c[1] for c in api.calls if c[0] == "GET" and c[3] == "/") == PODS
    assert len([c for c in api.calls if c[0] == "GET" and c[3] == "/connectors"]) == 1


def test_gate_names_the_failed_task():
    api, fake = gate_api()
    fake.connectors["s"] = {"config": {"name": "s", "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
                                       "simulate.failure": "task"}, "target": "RUNNING"}
    report = make_gate(api).observe()
    assert not report["ready"]
    assert report["reason"] == ("connector s task 0 is FAILED on worker 10.128.2.15:8083: "
                                "org.apache.kafka.connect.errors.ConnectException: simulated failure")


def test_gate_without_connector_check_ignores_connector_states_but_lists_them():
    api, fake = gate_api()
    fake.connectors["s"] = {"config": {"name": "s", "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
                                       "simulate.failure": "connector"}, "target": "RUNNING"}
    report = make_gate(api, check_connectors=False).observe()
    assert report["ready"], report["reason"]
    assert report["connectors"]["s"]["state"] == "FAILED"


def test_gate_names_the_pod_whose_rest_api_does_not_answer():
    api, _fake = gate_api()
    del api.handlers[(PODS[1], 8083)]
    report = make_gate(api).observe()
    assert not report["ready"]
    assert report["pods"][PODS[1]]["state"] == "unreachable"
    assert report["reason"] == ("pod %s: REST API on port 8083 does not answer: error trying to reach service: "
                                "dial tcp 10.0.0.1:8083: connect: connection refused" % PODS[1])


def test_gate_reports_workers_on_different_kafka_clusters():
    api, _fake = gate_api()
    api.handlers[(PODS[1], 8083)] = FakeConnect(root=dict(FakeConnect().root, kafka_cluster_id="OTHERxxxxxxxxxxxxxxxxx"))
    report = make_gate(api).observe()
    assert not report["ready"]
    assert report["reason"].startswith("workers use different Kafka clusters (5nWpTfKuQpCzDaZ1b0Zf4A, OTHERxxxxxxxxxxxxxxxxx)")


def test_gate_waits_for_the_rollout_and_names_stuck_pods():
    api, _fake = gate_api(pods=[pod(PODS[0]), pod(PODS[1], ready=False, waiting="ImagePullBackOff")],
                          dep=deployment(2, updated=1, available=1))
    report = make_gate(api).observe()
    assert not report["ready"]
    assert report["problems"][0] == "Deployment dev-connect: rollout in progress, 1 of 2 pods run the current template"
    assert "pod %s: container connect is ImagePullBackOff: back-off 40s" % PODS[1] in report["problems"]
    assert report["stuck"] == [PODS[1]]
    clock = iter([0.0, 0.0, 5.0, 5.0]).__next__
    gate = connect.ConnectGate(api, NS, "x", 2, deployment="dev-connect", stuck_grace=5, clock=clock)
    with pytest.raises(NotReady):
        gate.probe()
    with pytest.raises(Exception, match="ImagePullBackOff"):
        gate.probe()


# --- the connector lifecycle ------------------------------------------------------------------

def manager(fake, timeout=5):
    api = ProxyApi([pod(PODS[0])], {(PODS[0], 8083): fake})
    return connect.ConnectorManager(api, NS, "sel", timeout=timeout, sleep=lambda _s: None), api


SINK = {"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "tasks.max": 1,
        "topics": "orders", "file": "/tmp/orders.txt"}


def test_lifecycle_create_unchanged_update_pause_resume_stop_delete():
    fake = FakeConnect()
    mgr, _api = manager(fake)
    steps, before, after = mgr.ensure("orders", SINK, "running")
    assert steps == ["created"] and before == {"state": "absent", "config": None}
    assert after["config"]["tasks.max"] == "1" and fake.connectors["orders"]["target"] == "RUNNING"
    assert mgr.ensure("orders", SINK, "running")[0] == []
    steps, before, after = mgr.ensure("orders", dict(SINK, **{"tasks.max": 2}), "running")
    assert steps == ["updated"] and before["config"]["tasks.max"] == "1" and after["config"]["tasks.max"] == "2"
    assert fake.connectors["orders"]["config"]["tasks.max"] == "2"
    assert mgr.ensure("orders", dict(SINK, **{"tasks.max": 2}), "paused")[0] == ["paused"]
    assert fake.connectors["orders"]["target"] == "PAUSED"
    assert mgr.ensure("orders", dict(SINK, **{"tasks.max": 2}), "paused")[0] == []
    assert mgr.ensure("orders", dict(SINK, **{"tasks.max": 2}), "running")[0] == ["resumed"]
    assert mgr.ensure("orders", dict(SINK, **{"tasks.max": 2}), "stopped")[0] == ["stopped"]
    assert fake.connectors["orders"]["target"] == "STOPPED"
    assert mgr.ensure("orders", None, "absent")[0] == ["deleted"]
    assert "orders" not in fake.connectors
    assert mgr.ensure("orders", None, "absent")[0] == []
    assert [w[0] for w in fake.writes] == ["PUT", "PUT", "PUT", "PUT", "PUT", "DELETE"]


def test_check_mode_plans_without_writing():
    fake = FakeConnect()
    mgr, _api = manager(fake)
    steps, _before, after = mgr.ensure("orders", SINK, "paused", check_mode=True)
    assert steps == ["created", "paused"] and after["state"] == "paused"
    assert fake.writes == [] and fake.connectors == {}


def test_rebalance_conflicts_are_retried():
    fake = FakeConnect()
    fake.conflicts = 3
    mgr, api = manager(fake)
    assert mgr.ensure("orders", SINK, "running")[0] == ["created"]
    assert fake.conflicts == 0 and "orders" in fake.connectors
    assert len([c for c in api.calls if c[0] == "PUT"]) == 4


def test_conflicts_past_the_timeout_fail_with_connects_message():
    fake = FakeConnect()
    fake.conflicts = 10 ** 6
    clock = iter(range(0, 10 ** 6)).__next__
    api = ProxyApi([pod(PODS[0])], {(PODS[0], 8083): fake})
    mgr = connect.ConnectorManager(api, NS, "sel", timeout=3, clock=clock, sleep=lambda _s: None)
    with pytest.raises(NotReady, match="answered 409: Cannot complete request momentarily"):
        mgr.ensure("orders", SINK, "running")


def test_invalid_config_fails_at_once_with_connects_message():
    fake = FakeConnect()
    mgr, api = manager(fake)
    with pytest.raises(connect.ConnectError, match="answered 500: Failed to find any class that implements Connector"):
        mgr.ensure("orders", dict(SINK, **{"connector.class": "com.example.Missing"}), "running")
    assert len([c for c in api.calls if c[0] == "PUT"]) == 1


def test_no_ready_pod_is_not_ready_naming_the_pods():
    api = ProxyApi([pod(PODS[0], ready=False, waiting="CrashLoopBackOff")], {})
    mgr = connect.ConnectorManager(api, NS, "app=x", timeout=0, sleep=lambda _s: None)
    with pytest.raises(NotReady, match="no Connect pod is ready .selector app=x.: pod %s: container connect is CrashLoopBackOff" % PODS[0]):
        mgr.ensure("orders", SINK, "running")


def test_masked_diff_never_shows_secrets():
    fake = FakeConnect()
    mgr, _api = manager(fake)
    config = dict(SINK, **{"connection.password": "hunter2"})
    _steps, _before, after = mgr.ensure("orders", config, "running")
    assert after["config"]["connection.password"] == "********"
    _steps, before, _after = mgr.ensure("orders", dict(config, **{"connection.password": "hunter3"}), "running")
    assert before["config"]["connection.password"] == "********"
    assert json.dumps(before).find("hunter") < 0
