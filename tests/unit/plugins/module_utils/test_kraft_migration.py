"""The ZooKeeper -> KRaft migration's phase machine: order, skip refusal, rollback rule, the
annotation, and the judgement of the controllers' ZkMigrationState from Prometheus text."""

import pytest

from ansible_collections.streams.kafka.plugins.module_utils import kraft_migration as km
from ansible_collections.streams.kafka.plugins.module_utils import metrics
from ansible_collections.streams.kafka.plugins.module_utils.k8s_api import ApiError

NS = "kafka"
CONTROLLERS = ["dev-kafka-controller-0", "dev-kafka-controller-1", "dev-kafka-controller-2"]


def controller_text(active=False, state=km.PRE_MIGRATION, with_state=True):
    """A dedicated controller's exporter text, as the kafka role's rules name the metrics."""
    lines = ["# HELP kafka_controller_kafkacontroller_activecontrollercount Attribute exposed for management",
             "# TYPE kafka_controller_kafkacontroller_activecontrollercount gauge",
             "kafka_controller_kafkacontroller_activecontrollercount %.1f" % (1 if active else 0)]
    if with_state:
        lines += ["# HELP kafka_controller_kafkacontroller_zkmigrationstate Attribute exposed for management",
                  "# TYPE kafka_controller_kafkacontroller_zkmigrationstate gauge",
                  "kafka_controller_kafkacontroller_zkmigrationstate %.1f" % state]
    lines += ['kafka_server_raftmetrics_current_state{current_state="%s"} 1.0' % ("leader" if active else "follower")]
    return "\n".join(lines) + "\n"


def pod(name, ready=True, waiting=None):
    container = {"name": "kafka", "ready": ready, "state": {"running": {}}}
    if waiting:
        container["state"] = {"waiting": {"reason": waiting, "message": "back-off"}}
    return {"metadata": {"name": name, "namespace": NS},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                       "containerStatuses": [container]}}


class FakePodApi:
    """PodApi's list and proxy reads; `answers` maps a pod to its text, a list of texts (one per
    read, the last repeated) or an exception."""

    def __init__(self, pods, answers):
        self.pods, self.answers, self.selectors, self.calls = pods, answers, [], []

    def list_pods(self, namespace, selector):
        assert namespace == NS
        self.selectors.append(selector)
        return list(self.pods)

    def proxy_get(self, namespace, name, port, path):
        self.calls.append((name, port, path))
        answer = self.answers.get(name, ApiError("%s:%s answered 503: connection refused" % (name, port), 503))
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


# -- phases -------------------------------------------------------------------------------------

def test_phases_come_in_kafkas_order():
    assert km.PHASES == ("controllers", "brokers-migrating", "brokers-kraft", "controllers-kraft", "zookeeper-removed")
    assert km.next_phase(None) == "controllers"
    assert [km.next_phase(p) for p in km.PHASES] == [
        "brokers-migrating", "brokers-kraft", "controllers-kraft", "zookeeper-removed", None]
    assert km.remaining("brokers-migrating") == ["brokers-kraft", "controllers-kraft", "zookeeper-removed"]
    assert km.remaining(None) == list(km.PHASES) and km.remaining("zookeeper-removed") == []
    with pytest.raises(km.PhaseError, match="unknown migration phase 'brokers'"):
        km.next_phase("brokers")


def test_the_next_phase_is_recorded_the_same_is_idempotent():
    assert km.check_transition(None, "controllers") is True
    assert km.check_transition("controllers", "brokers-migrating") is True
    assert km.check_transition("brokers-kraft", "brokers-kraft") is False


@pytest.mark.parametrize("current, requested, message", [
    (None, "brokers-migrating",
     "cannot record phase brokers-migrating: the migration is at not started, and phase controllers must come first"),
    ("controllers", "brokers-kraft",
     "cannot record phase brokers-kraft: the migration is at controllers, and phase brokers-migrating must come first"),
    ("brokers-migrating", "zookeeper-removed",
     "cannot record phase zookeeper-removed: the migration is at brokers-migrating, and phase brokers-kraft must come first"),
])
def test_a_skip_is_refused_naming_current_requested_and_first(current, requested, message):
    with pytest.raises(km.PhaseError) as refused:
        km.check_transition(current, requested)
    assert str(refused.value) == message


def test_going_back_is_refused_and_unknown_phases_too():
    with pytest.raises(km.PhaseError, match="already at phase brokers-kraft; phases are recorded forward only"):
        km.check_transition("brokers-kraft", "controllers")
    with pytest.raises(km.PhaseError, match="unknown migration phase 'done'"):
        km.check_transition("controllers", "done")


def test_rollback_only_before_the_controllers_leave_migration_mode():
    assert [km.rollback_possible(p) for p in (None,) + km.PHASES] == [True, True, True, True, False, False]
    # the active controller finalized it (POST_MIGRATION): no way back, whatever the annotation says
    assert km.rollback_possible("brokers-kraft", migration_state=km.POST_MIGRATION) is False
    assert km.rollback_possible("brokers-kraft", migration_state=km.MIGRATION) is True
    assert km.rollback_steps("controllers-kraft") == [] and km.rollback_steps(None) == []
    steps = km.rollback_steps("brokers-migrating", "dev")
    assert steps[0].startswith("delete the KRaft controllers: StatefulSet dev-kafka-controller,")
    assert "delete /controller" in steps[1] and "delete /migration" in steps[1]
    # from brokers-kraft: first back to ZooKeeper mode with migration still on, the second roll last
    back = km.rollback_steps("brokers-kraft", "dev")
    assert "migration still enabled" in back[0] and "second time" in back[3]
    assert back[-1] == "remove the annotation streams.kafka/kraft-migration from StatefulSet dev-kafka"
    assert [p["phase"] for p in km.plan("brokers-migrating")] == ["brokers-kraft", "controllers-kraft", "zookeeper-removed"]
    assert [p["rollback_possible_after"] for p in km.plan("brokers-migrating")] == [True, False, False]


def test_the_annotation_is_read_from_the_statefulset():
    sts = {"metadata": {"name": "dev-kafka", "annotations": {km.ANNOTATION: "brokers-kraft"}}}
    assert km.read_phase(sts) == "brokers-kraft"
    assert km.read_phase({"metadata": {"name": "dev-kafka"}}) is None
    assert km.read_phase({"metadata": {"name": "dev-kafka", "annotations": {km.ANNOTATION: ""}}}) is None
    with pytest.raises(km.PhaseError, match="StatefulSet dev-kafka has annotation streams.kafka/kraft-migration='half'"):
        km.read_phase({"metadata": {"name": "dev-kafka", "annotations": {km.ANNOTATION: "half"}}})
    assert km.annotation_patch("controllers", "42") == {
        "metadata": {"annotations": {"streams.kafka/kraft-migration": "controllers"}, "resourceVersion": "42"}}


# -- the controllers' ZkMigrationState ----------------------------------------------------------

def test_the_state_values_are_kafkas():
    # org.apache.kafka.metadata.migration.ZkMigrationState since Kafka 3.5
    assert km.MIGRATION_STATES == {0: "NONE", 1: "MIGRATION", 2: "PRE_MIGRATION", 3: "POST_MIGRATION", 4: "ZK"}
    assert km.describe_state(2) == ("PRE_MIGRATION (2): the controllers wait for every broker to register with "
                                    "migration enabled")


def test_a_controller_read_from_prometheus_text():
    read = km.controller_read(metrics.parse(controller_text(active=True, state=km.MIGRATION)))
    assert read == {"answered": True, "active": True, "migration_state": 1, "problem": None}
    follower = km.controller_read(metrics.parse(controller_text(with_state=False)))
    assert follower["active"] is False and follower["migration_state"] is None and follower["problem"] is None
    bare = km.controller_read(metrics.parse("jvm_threads_current 12.0\n"))
    assert "have no kafka_controller_kafkacontroller_activecontrollercount" in bare["problem"]


def reads(active=0, state=km.PRE_MIGRATION, **overrides):
    out = {name: km.controller_read(metrics.parse(controller_text(active=i == active, state=state)))
           for i, name in enumerate(CONTROLLERS)}
    out.update(overrides)
    return out


@pytest.mark.parametrize("state, migrated, finalized", [
    (km.MIGRATION, True, False), (km.POST_MIGRATION, True, True),
    (km.PRE_MIGRATION, False, False), (km.NONE, False, False), (km.ZK, False, False)])
def test_what_counts_as_migrated(state, migrated, finalized):
    report = km.evaluate([pod(n) for n in CONTROLLERS], reads(active=1, state=state), CONTROLLERS)
    assert report["migrated"] is migrated and report["ready"] is migrated and report["finalized"] is finalized
    assert report["active_controller"] == "dev-kafka-controller-1" and report["migration_state"] == state
    assert report["reason"].startswith("active controller dev-kafka-controller-1 reports %s (%d): "
                                       % (km.MIGRATION_STATES[state], state))


def test_not_yet_migrated_says_why_naming_the_pod():
    report = km.evaluate([pod(n) for n in CONTROLLERS], reads(active=2, state=km.PRE_MIGRATION), CONTROLLERS)
    assert report["reason"] == ("active controller dev-kafka-controller-2 reports PRE_MIGRATION (2): the controllers "
                                "wait for every broker to register with migration enabled")
    assert report["migration_state_name"] == "PRE_MIGRATION"
    assert report["controllers"]["dev-kafka-controller-0"]["migration_state_name"] == "PRE_MIGRATION"


def test_no_or_several_active_controllers_and_a_missing_metric():
    none = km.evaluate([pod(n) for n in CONTROLLERS], reads(active=None), CONTROLLERS)
    assert not none["migrated"] and none["active_controller"] is None
    assert none["reason"].startswith("no controller is active (asked dev-kafka-controller-0, dev-kafka-controller-1")
    two = reads(active=0)
    two["dev-kafka-controller-2"] = dict(two["dev-kafka-controller-0"])
    several = km.evaluate([pod(n) for n in CONTROLLERS], two, CONTROLLERS)
    assert "pods dev-kafka-controller-0, dev-kafka-controller-2 all report being the active controller" in several["reason"]
    bare = reads(active=0)
    bare["dev-kafka-controller-0"] = km.controller_read(metrics.parse(controller_text(active=True, with_state=False)))
    missing = km.evaluate([pod(n) for n in CONTROLLERS], bare, CONTROLLERS)
    assert missing["reason"] == ("active controller dev-kafka-controller-0: its metrics have no "
                                 "kafka_controller_kafkacontroller_zkmigrationstate; the JMX exporter must run with "
                                 "the kafka role's rules")


def test_pod_problems_are_named_when_not_migrated():
    pods = [pod(CONTROLLERS[0]), pod(CONTROLLERS[1], ready=False, waiting="CrashLoopBackOff")]
    some = reads(active=0)
    del some[CONTROLLERS[1]], some[CONTROLLERS[2]]
    report = km.evaluate(pods, some, CONTROLLERS)
    assert "pod dev-kafka-controller-1: container kafka is CrashLoopBackOff" in report["reason"]
    assert "pod dev-kafka-controller-2: pod does not exist" in report["reason"]
    assert report["stuck"] == ["dev-kafka-controller-1"]


def test_the_gate_waits_until_the_state_moves_from_2_to_1():
    api = FakePodApi([pod(n) for n in CONTROLLERS], {
        CONTROLLERS[0]: controller_text(),
        CONTROLLERS[1]: [controller_text(active=True, state=2), controller_text(active=True, state=2),
                         controller_text(active=True, state=1)],
        CONTROLLERS[2]: controller_text()})
    gate = km.MigrationGate(api, NS, "dev", 3)
    gate.ask_due = lambda signature: True  # ask every look: the pods' status never changes here
    result = km.wait_migrated(gate, timeout=10)
    assert result["migrated"] and result["active_controller"] == CONTROLLERS[1] and result["migration_state"] == 1
    assert result["migration_state_name"] == "MIGRATION" and result["rollback_possible"] is True
    assert api.selectors[0] == "app.kubernetes.io/instance=dev,app.kubernetes.io/name=kafka-controller"
    assert {call[1:] for call in api.calls} == {(9404, "/metrics")}
    assert sum(1 for call in api.calls if call[0] == CONTROLLERS[1]) == 3


@pytest.mark.parametrize("state, ready", [(km.MIGRATION, False), (km.POST_MIGRATION, True), (km.PRE_MIGRATION, False)])
def test_finalized_waits_for_post_migration_only(state, ready):
    report = km.evaluate([pod(n) for n in CONTROLLERS], reads(active=1, state=state), CONTROLLERS, finalized=True)
    assert report["ready"] is ready and report["finalized"] is ready
    assert report["migrated"] is (state != km.PRE_MIGRATION)
    if state == km.MIGRATION:
        assert report["reason"].startswith("active controller dev-kafka-controller-1 reports MIGRATION (1): ")
        assert report["reason"].endswith(", not yet POST_MIGRATION (3)")


def test_the_finalized_gate_waits_past_migration():
    api = FakePodApi([pod(n) for n in CONTROLLERS], {
        CONTROLLERS[0]: [controller_text(active=True, state=1), controller_text(active=True, state=1),
                         controller_text(active=True, state=3)],
        CONTROLLERS[1]: controller_text(), CONTROLLERS[2]: controller_text()})
    gate = km.MigrationGate(api, NS, "dev", 3, finalized=True)
    gate.ask_due = lambda signature: True
    result = km.wait_migrated(gate, timeout=10)
    assert result["finalized"] and result["migration_state_name"] == "POST_MIGRATION"
    assert result["rollback_possible"] is False
    assert sum(1 for call in api.calls if call[0] == CONTROLLERS[0]) == 3


def test_the_gate_fails_on_timeout_naming_the_pod_and_the_state():
    api = FakePodApi([pod(n) for n in CONTROLLERS], {n: controller_text(active=i == 0, state=2) for i, n in enumerate(CONTROLLERS)})
    with pytest.raises(km.MigrationError) as failed:
        km.wait_migrated(km.MigrationGate(api, NS, "dev", 3), timeout=0)
    assert str(failed.value) == ("the ZooKeeper migration of Kafka cluster dev in namespace kafka is not done after 0s: "
                                 "active controller dev-kafka-controller-0 reports PRE_MIGRATION (2): the controllers wait "
                                 "for every broker to register with migration enabled")
    assert failed.value.result["migration_state"] == 2 and failed.value.result["migrated"] is False


def test_check_mode_looks_once_and_does_not_fail():
    api = FakePodApi([pod(n) for n in CONTROLLERS], {n: controller_text(active=i == 0, state=2) for i, n in enumerate(CONTROLLERS)})
    result = km.wait_migrated(km.MigrationGate(api, NS, "dev", 3), timeout=300, check_mode=True)
    assert result["migrated"] is False and result["waited"] == 0 and len(api.selectors) == 1


@pytest.mark.parametrize("current, undone, changed", [
    ("brokers-kraft", "brokers-kraft", True), ("brokers-migrating", "brokers-kraft", False),
    ("brokers-migrating", "brokers-migrating", True), (None, "brokers-migrating", False),
    ("controllers", "controllers", True), (None, "controllers", False)])
def test_a_phase_is_undone_once_and_in_reverse(current, undone, changed):
    assert km.check_revert(current, undone) is changed


def test_undoing_is_refused_past_the_point_of_no_return_and_out_of_order():
    with pytest.raises(km.PhaseError) as final:
        km.check_revert("controllers-kraft", "controllers-kraft")
    assert str(final.value).startswith("cannot undo phase controllers-kraft: phases are undone only before controllers-kraft "
                                       "(controllers, brokers-migrating, brokers-kraft)")
    with pytest.raises(km.PhaseError) as later:
        km.check_revert("brokers-kraft", "brokers-migrating")
    assert str(later.value) == ("cannot undo phase brokers-migrating: the migration is at phase brokers-kraft, which must "
                                "be undone first")
    assert km.REVERTS_TO == {"brokers-kraft": "brokers-migrating", "brokers-migrating": None, "controllers": None}
