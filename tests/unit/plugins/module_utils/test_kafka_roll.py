"""The Kafka roll's rules: partitions read per broker, who may restart, controller last, scale-down."""

import pytest

from ansible_collections.streams.kafka.plugins.module_utils import kafka, kafka_roll
from ansible_collections.streams.kafka.plugins.module_utils.readiness import NotReady
from tests.kafka_metrics import broker_metrics, spread_partitions

from .test_kafka import NAMES, FakeApi, gate
from .test_zookeeper import NS, pod


def metrics_of(controller=1, replicas=3, under=(), leaderless=(), min_isr_is_rf=(), down=()):
    """Every broker's metrics for topic orders (6 partitions, 3 replicas each, spread round robin).

    `under` partitions have 2 of 3 replicas in sync; `leaderless` ones are reported by no leader;
    `min_isr_is_rf` ones are fully in sync but at min ISR; `down` brokers answer nothing.
    """
    held, leads = spread_partitions("orders", 6, replicas)
    answers = {}
    for ordinal in range(replicas):
        led = {}
        for name, state in leads[ordinal].items():
            if name in leaderless:
                continue
            state = dict(state)
            if name in under:
                state.update(isr=2, underreplicated=1)
            if name in min_isr_is_rf:
                state.update(atminisr=1)
            led[name] = state
        if ordinal not in down:
            answers["dev-kafka-%d" % ordinal] = broker_metrics(controller=ordinal == controller, held=held[ordinal], leads=led,
                                                               under_replicated=sum(1 for n in led if n in under))
    return answers


def policy(answers, pods=None):
    api = FakeApi([pod(n) for n in NAMES] if pods is None else pods, answers)
    return kafka_roll.RollPolicy(gate(api))


def test_a_broker_reads_the_partitions_it_holds_and_the_state_of_those_it_leads():
    read = kafka.read_broker(FakeApi(answers=metrics_of(under=("orders-1",))), NS, "dev-kafka-1")
    assert read["replicas"] == ["orders-%d" % n for n in range(6)]  # three replicas on three brokers: all of them
    assert read["leads"] == {
        "orders-1": {"isr": 2, "replicas": 3, "under_replicated": True, "at_min_isr": False, "under_min_isr": False},
        "orders-4": {"isr": 3, "replicas": 3, "under_replicated": False, "at_min_isr": False, "under_min_isr": False}}


def test_followers_report_no_isr_and_are_not_taken_for_leaders():
    text = broker_metrics(held=["orders-0"], leads={"orders-0": {"isr": 0, "replicas": 0}})
    read = kafka.read_broker(FakeApi(answers={"dev-kafka-0": text}), NS, "dev-kafka-0")
    assert read["replicas"] == ["orders-0"] and read["leads"] == {}


def test_controller_goes_last_and_the_others_in_broker_id_order():
    assert policy(metrics_of(controller=0)).pick(None, NAMES) == "dev-kafka-1"
    assert policy(metrics_of(controller=1)).pick(None, ["dev-kafka-1", "dev-kafka-2"]) == "dev-kafka-2"
    assert policy(metrics_of(controller=1)).pick(None, ["dev-kafka-1"]) == "dev-kafka-1"
    assert policy(metrics_of(controller=2)).order(NAMES) == ["dev-kafka-0", "dev-kafka-1", "dev-kafka-2"]
    assert policy(metrics_of(controller=0)).order(NAMES) == ["dev-kafka-1", "dev-kafka-2", "dev-kafka-0"]


def test_a_broker_holding_an_under_replicated_partition_waits_and_another_goes():
    # three replicas on three brokers: every broker holds orders-1, so every one waits
    with pytest.raises(NotReady) as error:
        policy(metrics_of(controller=2, under=("orders-1",))).pick(None, NAMES)
    message = str(error.value)
    assert "pod dev-kafka-0 (broker 0) holds partitions that are under-replicated or leaderless: orders-1 (2 of 3 replicas in sync)" in message
    assert "dev-kafka-1 (broker 1)" in message


def test_only_the_brokers_holding_the_partition_wait():
    # 5 brokers: orders-0 is on brokers 0, 1, 2 only, so broker 3 may go although it is not first
    answers = metrics_of(controller=4, replicas=5, under=("orders-0",))
    names = ["dev-kafka-%d" % i for i in range(5)]
    chosen = policy(answers, pods=[pod(n) for n in names])
    chosen.gate.expected, chosen.gate.replicas = names, 5
    assert chosen.pick(None, names) == "dev-kafka-3"


def test_a_leaderless_partition_blocks_the_brokers_that_hold_it():
    with pytest.raises(NotReady, match=r"orders-2 \(no broker reports leading it\)"):
        policy(metrics_of(leaderless=("orders-2",))).pick(None, ["dev-kafka-0"])


def test_min_isr_equal_to_the_replicas_does_not_block_but_is_noted():
    chosen = policy(metrics_of(controller=2, min_isr_is_rf=("orders-0",)))
    assert chosen.pick(None, NAMES) == "dev-kafka-0"
    assert chosen.notes == ["pod dev-kafka-0: partitions orders-0 have min.insync.replicas >= replicas; "
                            "acks=all producers to them stall while it restarts"]


def test_nothing_restarts_while_a_broker_does_not_serve():
    with pytest.raises(NotReady, match="one broker restarts at a time, and these do not serve: dev-kafka-2"):
        policy(metrics_of(controller=0, down=(2,))).pick(None, ["dev-kafka-1"])


def test_a_long_list_of_partitions_is_cut():
    assert kafka_roll.listing(["p-%d" % i for i in range(12)], limit=3) == "p-0, p-1, p-10 and 9 more"


class ScaleApi(FakeApi):
    def __init__(self, current, answers, **kwargs):
        super().__init__([pod("dev-kafka-%d" % i) for i in range(current or 0)], answers, **kwargs)
        self.current = current

    def read_statefulset(self, namespace, name):
        assert name == "dev-kafka"
        return None if self.current is None else {"metadata": {"name": name}, "spec": {"replicas": self.current}}


def test_scale_down_is_refused_while_removed_brokers_hold_partitions():
    api = ScaleApi(5, metrics_of(controller=0, replicas=5))
    with pytest.raises(kafka_roll.ScaleDownRefused) as error:
        kafka_roll.check_scale_down(api, NS, "dev", 3, 9404, "/metrics")
    message = str(error.value)
    assert message.startswith("going from 5 to 3 brokers would remove broker 3 (pod dev-kafka-3), broker 4 (pod dev-kafka-4), "
                              "which still hold partitions: broker 3: orders-1, orders-2, orders-3; broker 4: ")
    assert "brokers 0-2 first" in message
    # only the brokers to remove were asked
    assert {name for name, _port, _path in api.calls} == {"dev-kafka-3", "dev-kafka-4"}


def test_scale_down_of_empty_brokers_scale_up_and_first_deploy_pass():
    held, leads = spread_partitions("orders", 6, 3)
    answers = dict(("dev-kafka-%d" % i, broker_metrics(controller=i == 0, held=held.get(i, []), leads=leads.get(i)))
                   for i in range(5))
    assert kafka_roll.check_scale_down(ScaleApi(5, answers), NS, "dev", 3, 9404, "/metrics") == 5
    assert kafka_roll.check_scale_down(ScaleApi(3, {}), NS, "dev", 5, 9404, "/metrics") == 3
    assert kafka_roll.check_scale_down(ScaleApi(None, {}), NS, "dev", 3, 9404, "/metrics") is None


def test_scale_down_is_refused_when_a_broker_to_remove_does_not_answer():
    answers = metrics_of(controller=0, replicas=4)
    del answers["dev-kafka-3"]
    with pytest.raises(NotReady, match="cannot tell which partitions pod dev-kafka-3 holds: metrics on port 9404 do not answer"):
        kafka_roll.check_scale_down(ScaleApi(4, answers), NS, "dev", 3, 9404, "/metrics")
