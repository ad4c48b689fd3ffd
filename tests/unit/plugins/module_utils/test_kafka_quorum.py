"""The KRaft gate: the quorum's verdict (leader, voters naming it, lag, active controller), the
brokers in KRaft mode, combined mode, reading the leader first, and the roll's majority rule."""

import pytest

from ansible_collections.streams.kafka.plugins.module_utils import kafka, kafka_quorum, kafka_roll
from ansible_collections.streams.kafka.plugins.module_utils.readiness import NotReady
from tests.kafka_metrics import broker_metrics, controller_metrics, quorum_state

from .test_kafka import NAMES, FakeApi
from .test_zookeeper import NS, pod

CONTROLLERS = ["dev-kafka-controller-0", "dev-kafka-controller-1", "dev-kafka-controller-2"]
KRAFT_BROKER = dict(leave_out=(kafka.ACTIVE_CONTROLLER, kafka.OFFLINE))


class KRaftApi(FakeApi):
    """FakeApi whose pod list follows the selector: name=kafka-controller lists the controllers."""

    def list_pods(self, namespace, selector):
        pods = super().list_pods(namespace, selector)
        controllers = selector.endswith("app.kubernetes.io/name=kafka-controller")
        return [p for p in pods if ("-kafka-controller-" in p["metadata"]["name"]) == controllers]


def quorum_answers(replicas=3, leader=0, voters=None):
    return dict(("dev-kafka-controller-%d" % ordinal, controller_metrics(**args))
                for ordinal, args in quorum_state(replicas, leader, voters=voters).items())


def kraft_cluster(voters=None, leader=0, brokers=None, answers=None, pods=None, controllers=3):
    text = dict(("dev-kafka-%d" % i, broker_metrics(**dict(KRAFT_BROKER, **(brokers or {}).get(i, {})))) for i in range(3))
    text.update(quorum_answers(controllers, leader, voters))
    text.update(answers or {})
    names = NAMES + ["dev-kafka-controller-%d" % i for i in range(controllers)]
    return KRaftApi([pod(n) for n in names] if pods is None else pods, text)


def kraft_gate(api, controllers=3, max_lag=50, **kwargs):
    return kafka_quorum.KRaftGate(api, NS, 3, kafka.selector_for("dev"), kafka.expected_pods("dev", 3),
                                  kafka_quorum.controller_voters("dev", controllers), kafka_quorum.controller_selector_for("dev"),
                                  max_lag, **kwargs)


def combined_gate(api, max_lag=50):
    expected = kafka.expected_pods("dev", 3)
    return kafka_quorum.KRaftGate(api, NS, 3, kafka.selector_for("dev"), expected, kafka_quorum.combined_voters(expected),
                                  None, max_lag)


# --- one controller -------------------------------------------------------------------------

def test_a_controller_reads_its_raft_metrics():
    api = FakeApi(answers={"c-0": controller_metrics(state="leader", leader=1000, epoch=7, high_watermark=5121, controller=True,
                                                     zk_migration_state=1)})
    read = kafka_quorum.read_controller(api, NS, "c-0")
    assert read == {"answered": True, "problem": None, "raft_state": "leader", "current_leader": 1000, "epoch": 7,
                    "high_watermark": 5121, "log_end_offset": 5121, "active_controller": True, "offline_partitions": 0,
                    "zk_migration_state": 1}


def test_missing_raft_metrics_are_named():
    api = FakeApi(answers={"c-0": controller_metrics(leave_out=(kafka_quorum.CURRENT_STATE, kafka_quorum.HIGH_WATERMARK))})
    read = kafka_quorum.read_controller(api, NS, "c-0")
    assert read["problem"] == ("metrics on port 9404 have no kafka_server_raftmetrics_current_state, "
                               "kafka_server_raftmetrics_high_watermark; the JMX exporter must run with the kafka role's rules")


def test_no_leader_known_reads_as_none():
    read = kafka_quorum.read_controller(FakeApi(answers={"c-0": controller_metrics(state="unattached", leader=None)}), NS, "c-0")
    assert read["current_leader"] is None and read["raft_state"] == "unattached" and read["problem"] is None


# --- the cluster ----------------------------------------------------------------------------

def test_healthy_kraft_cluster_is_ready():
    api = kraft_cluster(leader=1)
    report = kraft_gate(api).observe()
    assert report["ready"], report["reason"]
    assert report["controller"] == "dev-kafka-controller-1"
    quorum = report["quorum"]
    assert quorum["leader"] == "dev-kafka-controller-1" and quorum["leader_node_id"] == 1001
    assert [quorum["voters"][n]["node_id"] for n in CONTROLLERS] == [1000, 1001, 1002]
    assert all(quorum["voters"][n]["caught_up"] and quorum["voters"][n]["lag"] == 0 for n in CONTROLLERS)
    # brokers need not report the controller metrics in KRaft mode
    assert report["brokers"]["dev-kafka-0"]["active_controller"] is None and report["brokers"]["dev-kafka-0"]["problem"] is None
    assert api.selectors == [kafka.selector_for("dev"), "app.kubernetes.io/instance=dev,app.kubernetes.io/name=kafka-controller"]
    public = kafka_quorum.public_quorum(quorum)
    assert public["voters"]["dev-kafka-controller-0"] == {"node_id": 1000, "state": "follower", "current_leader": 1001,
                                                          "log_end_offset": 1000, "lag": 0, "caught_up": True, "problem": None}


def test_two_leaders():
    report = kraft_gate(kraft_cluster(voters={2: {"state": "leader", "leader": 1002}})).observe()
    assert not report["ready"]
    assert "pods dev-kafka-controller-0, dev-kafka-controller-2 all report current_state leader; expected exactly one" in report["problems"]
    assert report["quorum"]["leader"] is None


def test_no_leader():
    report = kraft_gate(kraft_cluster(leader=None)).observe()
    assert ("no quorum node reports current_state leader (dev-kafka-controller-0 unattached, dev-kafka-controller-1 unattached, "
            "dev-kafka-controller-2 unattached)") in report["problems"]
    assert "no quorum node is the active controller (asked %s)" % ", ".join(CONTROLLERS) in report["problems"]
    assert report["controller"] is None


def test_follower_behind_the_leaders_high_watermark():
    report = kraft_gate(kraft_cluster(voters={2: {"log_end_offset": 900}}), max_lag=50).observe()
    assert report["problems"] == ["pod dev-kafka-controller-2 (node 1002): log end offset 900 is 100 behind the leader's "
                                  "high watermark 1000 (quorum_max_lag 50)"]
    voter = report["quorum"]["voters"]["dev-kafka-controller-2"]
    assert voter["lag"] == 100 and voter["caught_up"] is False
    # within quorum_max_lag it counts as caught up
    report = kraft_gate(kraft_cluster(voters={2: {"log_end_offset": 950}}), max_lag=50).observe()
    assert report["ready"] and report["quorum"]["voters"]["dev-kafka-controller-2"]["lag"] == 50


def test_voter_naming_another_leader():
    report = kraft_gate(kraft_cluster(voters={1: {"leader": 1002}, 2: {"leader": None, "state": "unattached"}})).observe()
    assert report["problems"] == [
        "pod dev-kafka-controller-1 (node 1001) names node 1002 as the quorum leader, not node 1000 (pod dev-kafka-controller-0)",
        "pod dev-kafka-controller-2 (node 1002) names no node as the quorum leader, not node 1000 (pod dev-kafka-controller-0)"]
    assert report["quorum"]["voters"]["dev-kafka-controller-1"]["caught_up"] is False


def test_missing_raft_metrics_name_the_pod():
    report = kraft_gate(kraft_cluster(answers={"dev-kafka-controller-1": controller_metrics(
        leader=1000, leave_out=(kafka_quorum.CURRENT_STATE,))})).observe()
    assert report["problems"] == ["pod dev-kafka-controller-1: metrics on port 9404 have no kafka_server_raftmetrics_current_state; "
                                  "the JMX exporter must run with the kafka role's rules"]
    assert report["quorum"]["voters"]["dev-kafka-controller-1"]["pod_state"] == "not_serving"


def test_active_controller_count_and_offline_partitions_on_the_controllers():
    two = kraft_gate(kraft_cluster(voters={1: {"controller": True}})).observe()
    assert two["problems"] == ["pods dev-kafka-controller-0, dev-kafka-controller-1 all report being the active controller; "
                               "expected exactly one"]
    offline = kraft_gate(kraft_cluster(voters={0: {"offline": 2}})).observe()
    assert offline["problems"] == ["pod dev-kafka-controller-0 (the active controller): 2 offline partition(s)"]
    # offline partitions on a dedicated broker's (stale) metrics are not KRaft's business
    broker = kraft_gate(kraft_cluster(brokers={1: {"leave_out": (kafka.ACTIVE_CONTROLLER,), "offline": 4}})).observe()
    assert broker["ready"], broker["reason"]


def test_brokers_in_kraft_mode():
    report = kraft_gate(kraft_cluster(brokers={1: {"under_replicated": 3}, 2: {"state": 2}})).observe()
    assert report["problems"] == ["pod dev-kafka-2: broker state is RECOVERY (2), not RUNNING (3)",
                                  "pod dev-kafka-1: 3 under-replicated partition(s)"]


def test_controller_pod_problems_and_missing_controllers():
    pods = [pod(n) for n in NAMES] + [pod(CONTROLLERS[0]), pod(CONTROLLERS[1], ready=False, waiting="CrashLoopBackOff")]
    report = kraft_gate(kraft_cluster(pods=pods)).observe()
    assert "pod dev-kafka-controller-1: container zookeeper is CrashLoopBackOff: back-off 40s restarting failed container" in report["problems"]
    assert "pod dev-kafka-controller-2: pod does not exist" in report["problems"]
    assert report["stuck"] == ["dev-kafka-controller-1"]
    assert report["quorum"]["voters"]["dev-kafka-controller-2"]["pod_state"] == "missing"


def test_the_leader_is_read_first_and_followers_read_before_it_again():
    calls = []

    def read(name):
        calls.append(name)
        return {"raft_state": "leader" if name == "c-2" else "follower"}

    kafka_quorum.read_leader_first(["c-0", "c-1", "c-2"], read)
    assert calls == ["c-0", "c-1", "c-2", "c-0", "c-1"]
    calls[:] = []
    kafka_quorum.read_leader_first(["c-0", "c-1", "c-2"], read, hint="c-2")
    assert calls == ["c-2", "c-0", "c-1"]


def test_the_gate_remembers_the_leader_and_reads_it_first():
    api = kraft_cluster(leader=2)
    gate = kraft_gate(api)
    gate.observe()
    controller_calls = [name for name, _port, _path in api.calls if "controller" in name]
    assert controller_calls == CONTROLLERS + CONTROLLERS[:2]
    api.calls[:] = []
    gate.last = None  # ask again
    gate.observe()
    assert [name for name, _port, _path in api.calls if "controller" in name] == [CONTROLLERS[2]] + CONTROLLERS[:2]


def test_combined_mode():
    answers = dict(("dev-kafka-%d" % i, controller_metrics(broker={}, leader=1, state="leader" if i == 1 else "follower",
                                                           controller=i == 1)) for i in range(3))
    api = KRaftApi([pod(n) for n in NAMES], answers)
    report = combined_gate(api).observe()
    assert report["ready"], report["reason"]
    assert report["controller"] == "dev-kafka-1" and report["quorum"]["leader"] == "dev-kafka-1"
    assert [report["quorum"]["voters"][n]["node_id"] for n in NAMES] == [0, 1, 2]
    assert api.selectors == [kafka.selector_for("dev")]  # no controller pods to list
    # every pod read once, the leader read second and the one before it again
    assert [name for name, _port, _path in api.calls] == ["dev-kafka-0", "dev-kafka-1", "dev-kafka-0", "dev-kafka-2"]
    # a combined node with a problem is named once
    answers["dev-kafka-2"] = controller_metrics(broker={"state": 2}, leader=1)
    report = combined_gate(KRaftApi([pod(n) for n in NAMES], answers)).observe()
    assert report["problems"] == ["pod dev-kafka-2: broker state is RECOVERY (2), not RUNNING (3)"]
    # a combined node lagging
    answers["dev-kafka-2"] = controller_metrics(broker={}, leader=1, log_end_offset=10)
    report = combined_gate(KRaftApi([pod(n) for n in NAMES], answers)).observe()
    assert report["problems"] == ["pod dev-kafka-2 (node 2): log end offset 10 is 990 behind the leader's high watermark 1000 "
                                  "(quorum_max_lag 50)"]


def test_gate_from_params_dispatches_on_the_metadata_mode():
    params = {"namespace": NS, "cluster_name": "dev", "selector": None, "replicas": 3, "metrics_port": 9404,
              "metrics_path": "/metrics", "stuck_grace": 60, "timeout": 10, "metadata_mode": "zookeeper",
              "controller_replicas": 3, "quorum_max_lag": 50}
    assert isinstance(kafka_quorum.gate_from_params(params, None), kafka.BrokersGate)
    gate = kafka_quorum.gate_from_params(dict(params, metadata_mode="kraft"), None)
    assert isinstance(gate, kafka_quorum.KRaftGate) and gate.voters == kafka_quorum.controller_voters("dev", 3)
    combined = kafka_quorum.gate_from_params(dict(params, metadata_mode="kraft", controller_replicas=0), None)
    assert combined.voter_selector is None and combined.voters == [("dev-kafka-0", 0), ("dev-kafka-1", 1), ("dev-kafka-2", 2)]
    with pytest.raises(ValueError, match="needs cluster_name"):
        kafka_quorum.gate_from_params(dict(params, metadata_mode="kraft", cluster_name=None, selector="a=b"), None)
    with pytest.raises(ValueError, match="must not be negative"):
        kafka_quorum.gate_from_params(dict(params, metadata_mode="kraft", quorum_max_lag=-1), None)


# --- the roll: majority rule and order --------------------------------------------------------

def quorum_of(caught_up):
    """A quorum whose voters v0.. are caught up or not as listed."""
    return {"voters": dict(("v%d" % i, {"node_id": 1000 + i, "caught_up": up}) for i, up in enumerate(caught_up))}


def test_majority_rule_arithmetic():
    # 3 voters (majority 2), v1 lagging: v1 itself may go (v0 and v2 caught up = 2), v2 may not
    # (only v0 = 1), and neither may the leader v0 (only v2 = 1).
    quorum = quorum_of([True, False, True])
    assert kafka_quorum.majority_without(quorum, "v1") == (True, 2, 2)
    assert kafka_quorum.majority_without(quorum, "v2") == (False, 1, 2)
    assert kafka_quorum.majority_without(quorum, "v0") == (False, 1, 2)
    # all caught up: any one may go
    assert kafka_quorum.majority_without(quorum_of([True] * 3), "v2") == (True, 2, 2)
    # 5 voters (majority 3), two lagging: a caught-up one may not go (2 others), a lagging one may (3)
    five = quorum_of([True, True, False, False, True])
    assert kafka_quorum.majority_without(five, "v1") == (False, 2, 3)
    assert kafka_quorum.majority_without(five, "v2") == (True, 3, 3)
    # a single voter always may
    assert kafka_quorum.majority_without(quorum_of([True]), "v0") == (True, 0, 1)


def controller_policy(**kwargs):
    return kafka_roll.ControllerRollPolicy(kraft_gate(kraft_cluster(**kwargs)))


def test_controllers_roll_followers_first_and_the_leader_last():
    assert controller_policy(leader=0).order(CONTROLLERS) == [CONTROLLERS[1], CONTROLLERS[2], CONTROLLERS[0]]
    assert controller_policy(leader=1).pick(None, CONTROLLERS) == CONTROLLERS[0]
    assert controller_policy(leader=1).pick(None, [CONTROLLERS[1], CONTROLLERS[2]]) == CONTROLLERS[2]
    assert controller_policy(leader=1).pick(None, [CONTROLLERS[1]]) == CONTROLLERS[1]


def test_with_one_follower_lagging_only_that_follower_may_restart():
    lagging = {2: {"log_end_offset": 100}}
    # controller-2 lags: it may go (the leader and controller-1 are caught up: 2 of 3)
    assert controller_policy(voters=lagging).pick(None, CONTROLLERS) == CONTROLLERS[2]
    # controller-1 may not (only the leader would be caught up), nor the leader
    with pytest.raises(NotReady) as error:
        controller_policy(voters=lagging).pick(None, [CONTROLLERS[0], CONTROLLERS[1]])
    assert str(error.value) == ("pod dev-kafka-controller-1 (node 1001) waits for the quorum: without it 1 of the 3 voters are "
                                "caught up, fewer than a majority (2); not caught up: dev-kafka-controller-2")
    with pytest.raises(NotReady, match="pod dev-kafka-controller-0 .* waits for the quorum"):
        controller_policy(voters=lagging).pick(None, [CONTROLLERS[0]])


def test_no_controller_restarts_without_a_leader():
    with pytest.raises(NotReady, match="no controller restarts while the quorum has no single leader: no quorum node reports"):
        controller_policy(leader=None).pick(None, CONTROLLERS)


def test_a_single_controller_restarts_with_a_note():
    chosen = kafka_roll.ControllerRollPolicy(kraft_gate(kraft_cluster(controllers=1), controllers=1))
    assert chosen.pick(None, [CONTROLLERS[0]]) == CONTROLLERS[0]
    assert chosen.notes == ["pod dev-kafka-controller-0 is the only voter: the metadata quorum is down while it restarts"]


def test_dedicated_brokers_roll_by_partition_rules_with_the_controller_elsewhere():
    chosen = kafka_roll.RollPolicy(kraft_gate(kraft_cluster()))
    assert chosen.order(NAMES) == NAMES
    assert chosen.pick(None, NAMES) == "dev-kafka-0"


def test_combined_brokers_the_active_controller_last_and_the_majority_rule():
    def answers(lagging=()):
        return dict(("dev-kafka-%d" % i, controller_metrics(broker={}, leader=0, state="leader" if i == 0 else "follower",
                                                            controller=i == 0, log_end_offset=10 if i in lagging else None))
                    for i in range(3))

    healthy = kafka_roll.RollPolicy(combined_gate(KRaftApi([pod(n) for n in NAMES], answers())))
    assert healthy.order(NAMES) == ["dev-kafka-1", "dev-kafka-2", "dev-kafka-0"]
    assert healthy.pick(None, NAMES) == "dev-kafka-1"
    # broker 2 lags in the metadata log: broker 1 waits for it, broker 2 itself may go
    lagging = kafka_roll.RollPolicy(combined_gate(KRaftApi([pod(n) for n in NAMES], answers(lagging=(2,)))))
    with pytest.raises(NotReady, match=r"pod dev-kafka-1 \(node 1\) waits for the quorum: without it 1 of the 3 voters"):
        lagging.pick(None, ["dev-kafka-0", "dev-kafka-1"])
    assert lagging.pick(None, ["dev-kafka-1", "dev-kafka-2"]) == "dev-kafka-2"


# --- the exporter rules name what the gate reads ----------------------------------------------

def test_the_roles_exporter_rules_name_the_raft_metrics():
    from tests.monitoring_metrics import jmx_series, role_metrics_config

    prefix = "kafka.server<type=raft-metrics><>"
    attributes = [(prefix + "current-state", "follower", "string"), (prefix + "current-leader", "1000.0", "number"),
                  (prefix + "current-epoch", "7.0", "number"), (prefix + "high-watermark", "5121.0", "number"),
                  (prefix + "log-end-offset", "5121.0", "number"),
                  ("kafka.controller<type=KafkaController, name=ZkMigrationState><>Value", "1", "number")]
    series = jmx_series(role_metrics_config("kafka", kraft=True), attributes)
    # a ZooKeeper-mode cluster's exporter config leaves them out (its config hash stays as it was)
    assert not set(jmx_series(role_metrics_config("kafka"), attributes)) & set(kafka_quorum.RAFT_METRICS)
    assert set(series) == set(kafka_quorum.RAFT_METRICS) | {kafka_quorum.ZK_MIGRATION_STATE}
    assert series[kafka_quorum.CURRENT_STATE] == {"UNTYPED"} and series[kafka_quorum.HIGH_WATERMARK] == {"GAUGE"}


# --- tests/healthy_apps.py serves KRaft clusters --------------------------------------------

class FakeSim:
    def __init__(self, objects):
        self.objects_by_name = objects

    def get(self, api_version, kind, namespace, name):
        return self.objects_by_name.get(name)


def served(sim, pod_name, component):
    from tests.healthy_apps import HealthyApps

    port, handler = HealthyApps(sim).backend(NS, pod_name, component, "dev")
    status, _headers, body = handler("GET", "/metrics", None, None)
    assert port == 9404 and status == 200
    return body.decode()


@pytest.mark.parametrize("objects, voters", [
    ({"dev-kafka-controller": {"spec": {"replicas": 3}}, "dev-kafka": {}}, "dedicated"),
    ({"dev-kafka": {"metadata": {"annotations": {"streams.kafka/metadata-mode": "kraft"}}}}, "combined"),
])
def test_healthy_apps_serve_a_ready_kraft_cluster(objects, voters):
    sim = FakeSim(objects)
    answers = dict((name, served(sim, name, "kafka")) for name in NAMES)
    if voters == "dedicated":
        answers.update((name, served(sim, name, "kafka-controller")) for name in CONTROLLERS)
        report = kraft_gate(KRaftApi([pod(n) for n in NAMES + CONTROLLERS], answers)).observe()
        assert report["controller"] == CONTROLLERS[0]
        assert all(broker["active_controller"] is None for broker in report["brokers"].values())
    else:
        report = combined_gate(KRaftApi([pod(n) for n in NAMES], answers)).observe()
        assert report["controller"] == NAMES[0]
    assert report["ready"], report["reason"]


def test_healthy_apps_zookeeper_brokers_unchanged():
    sim = FakeSim({"dev-kafka": {}})
    report = kafka.BrokersGate(FakeApi([pod(n) for n in NAMES], dict((n, served(sim, n, "kafka")) for n in NAMES)), NS, 3,
                               kafka.selector_for("dev"), NAMES).observe()
    assert report["ready"] and report["controller"] == NAMES[0]
