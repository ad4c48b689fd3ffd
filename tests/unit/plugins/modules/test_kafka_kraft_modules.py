"""kafka_ready and kafka_roll in KRaft mode as Ansible runs them: the quorum in the result, the
failure naming the controller pod, the roll's plan (controllers first, the leader last), and
ZooKeeper mode keeping its result."""

from ansible_collections.streams.kafka.plugins.module_utils import roll
from ansible_collections.streams.kafka.plugins.modules import kafka_ready, kafka_roll
from tests.kafka_metrics import controller_metrics

from ..module_utils.test_kafka import NAMES, NS, FakeApi, healthy
from ..module_utils.test_kafka_quorum import KRaftApi, kraft_cluster
from ..module_utils.test_zookeeper import pod
from .test_stack_modules import run


KRAFT = {"namespace": NS, "cluster_name": "dev", "replicas": 3, "timeout": 1, "metadata_mode": "kraft", "controller_replicas": 3}


def test_kraft_ready_returns_the_quorum(capsys):
    result = run(kafka_ready, KRAFT, kraft_cluster(leader=2), capsys)
    assert result["_rc"] == 0 and result["ready"] is True, result
    assert result["controller"] == "dev-kafka-controller-2"
    quorum = result["quorum"]
    assert quorum["leader"] == "dev-kafka-controller-2" and quorum["leader_node_id"] == 1002 and quorum["max_lag"] == 50
    assert quorum["voters"]["dev-kafka-controller-0"] == {"node_id": 1000, "state": "follower", "current_leader": 1002,
                                                          "log_end_offset": 1000, "lag": 0, "caught_up": True, "problem": None}


def test_kraft_gate_failure_names_the_controller_pod(capsys):
    result = run(kafka_ready, dict(KRAFT, quorum_max_lag=10), kraft_cluster(voters={1: {"log_end_offset": 980}}), capsys)
    assert result["failed"] and result["_rc"] == 1
    assert result["msg"] == ("Kafka cluster dev in namespace kafka is not ready after 1s: pod dev-kafka-controller-1 (node 1001): "
                             "log end offset 980 is 20 behind the leader's high watermark 1000 (quorum_max_lag 10)")
    assert result["quorum"]["voters"]["dev-kafka-controller-1"]["caught_up"] is False


def test_kraft_combined_in_check_mode(capsys):
    answers = dict(("dev-kafka-%d" % i, controller_metrics(broker={}, leader=0, state="leader" if i == 0 else "follower",
                                                           controller=i == 0)) for i in range(3))
    result = run(kafka_ready, dict(KRAFT, controller_replicas=0), KRaftApi([pod(n) for n in NAMES], answers), capsys, check_mode=True)
    assert result["ready"] is True and result["quorum"]["leader"] == "dev-kafka-0" and result["controller"] == "dev-kafka-0"


def test_zookeeper_mode_has_no_quorum_and_kraft_options_are_checked(capsys):
    result = run(kafka_ready, {"namespace": NS, "cluster_name": "dev", "replicas": 3, "timeout": 1, "controller_replicas": 3},
                 FakeApi([pod(n) for n in NAMES], healthy(controller=1)), capsys)
    assert result["ready"] is True and "quorum" not in result and result["controller"] == "dev-kafka-1"
    bad = run(kafka_ready, dict(KRAFT, quorum_max_lag=-1), kraft_cluster(), capsys)
    assert bad["failed"] and bad["msg"] == "controller_replicas and quorum_max_lag must not be negative"


class RollApi(KRaftApi):
    """Both StatefulSets on revision `new`; every pod is on `old` unless listed in `updated`."""

    def __init__(self, base, updated=()):
        super().__init__(base.pods, base.answers)
        self.deleted = []
        for p in self.pods:
            p["metadata"]["uid"] = p["metadata"]["name"] + "-uid"
            p["metadata"].setdefault("labels", {})[roll.REVISION_LABEL] = "new" if p["metadata"]["name"] in updated else "old"

    def delete_pod(self, namespace, name, uid):
        self.deleted.append(name)
        back = pod(name)  # a new pod object: the roller holds the old one
        back["metadata"].update(uid=uid + "-v2", labels={roll.REVISION_LABEL: "new"})
        self.pods = [back if p["metadata"]["name"] == name else p for p in self.pods]
        return True

    def read_statefulset(self, namespace, name):
        assert name in ("dev-kafka", "dev-kafka-controller")
        return {"metadata": {"name": name, "generation": 1}, "status": {"observedGeneration": 1, "updateRevision": "new"}}


def test_kraft_roll_plan_controllers_first_leader_last(capsys):
    api = RollApi(kraft_cluster(leader=1))
    result = run(kafka_roll, dict(KRAFT, timeout=5), api, capsys, check_mode=True)
    assert result["_rc"] == 0 and result["changed"] is True, result
    assert result["planned"] == ["dev-kafka-controller-0", "dev-kafka-controller-2", "dev-kafka-controller-1",
                                 "dev-kafka-0", "dev-kafka-1", "dev-kafka-2"]
    assert result["restarted"] == []


def test_zookeeper_roll_plan_is_unchanged(capsys):
    base = FakeApi([pod(n) for n in NAMES], healthy(controller=0))
    api = RollApi(KRaftApi(base.pods, base.answers))
    result = run(kafka_roll, {"namespace": NS, "cluster_name": "dev", "replicas": 3, "timeout": 5}, api, capsys, check_mode=True)
    assert result["planned"] == ["dev-kafka-1", "dev-kafka-2", "dev-kafka-0"]


def test_kraft_roll_restarts_controllers_then_brokers(capsys):
    api = RollApi(kraft_cluster(leader=0))
    result = run(kafka_roll, dict(KRAFT, timeout=5), api, capsys)
    assert result["_rc"] == 0 and not result.get("failed"), result
    assert [r["pod"] for r in result["restarted"]] == [
        "dev-kafka-controller-1", "dev-kafka-controller-2", "dev-kafka-controller-0", "dev-kafka-0", "dev-kafka-1", "dev-kafka-2"]
    assert api.deleted == [r["pod"] for r in result["restarted"]]


def test_kraft_roll_waits_for_a_lagging_follower_and_names_it(capsys):
    # controller-2 lags and is already on the new revision: controller-1 and the leader must wait
    api = RollApi(kraft_cluster(voters={2: {"log_end_offset": 10}}), updated=["dev-kafka-controller-2"])
    result = run(kafka_roll, dict(KRAFT, timeout=0), api, capsys)
    assert result["failed"] and api.deleted == []
    assert ("pod dev-kafka-controller-1 (node 1001) waits for the quorum: without it 1 of the 3 voters are caught up, fewer "
            "than a majority (2); not caught up: dev-kafka-controller-2") in result["msg"]
