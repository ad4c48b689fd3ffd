"""Rolling restarts and scaling of Kafka against kubesim, with scripted per-partition metrics.

Topic orders has 6 partitions with 3 replicas on the 3 brokers (tests/kafka_metrics.py), so
every broker holds every partition; broker 0 is the active controller.
"""

import threading

import pytest

from tests.helpers import run_playbook
from tests.integration.test_kafka_playbook import NS, inventory
from tests.integration.test_zookeeper_playbook import serve_admin
from tests.integration.test_zookeeper_roll import deletes
from tests.kafka_metrics import broker_metrics, metrics_handler, serve_metrics, spread_partitions

ROLL = "streams.kafka.kafka : Restart outdated Kafka brokers safely"
SCALE_CHECK = "streams.kafka.kafka : Refuse removing brokers that still hold partitions"


def serve(kubesim, replicas=3):
    held, leads = spread_partitions("orders", 6, replicas)
    return serve_metrics(kubesim, NS, replicas=replicas,
                         brokers=dict((b, {"held": held[b], "leads": leads[b]}) for b in range(replicas)))


def under_replicate(state, partition="orders-1", under=True):
    """Make `partition`'s leader report it under-replicated (2 of 3 in sync), or in sync again."""
    for broker in state.values():
        if partition in broker["leads"]:
            broker["leads"][partition] = {"isr": 2 if under else 3, "replicas": 3, "underreplicated": 1 if under else 0}
            broker["under_replicated"] = 1 if under else 0


def when(condition, action, delay=0.0):
    """Run `action` `delay` seconds after `condition()` first holds (checked every 0.1 s)."""
    def check():
        if condition():
            timer = threading.Timer(delay, action)
        else:
            timer = threading.Timer(0.1, check)
        timer.daemon = True
        timer.start()
    check()


def roll_blocked(kubesim):
    """True once the run applied changed()'s setting and the roll has read every broker twice
    since (its plan, then its first blocked pick)."""
    seen = []

    def check():
        if not seen:
            if "log.retention.hours=72" not in kubesim.get("v1", "ConfigMap", NS, "dev-kafka-config")["data"]["server.properties"]:
                return False
            seen.append(len(kubesim.requests))
        scrapes = [r for r in kubesim.requests[seen[0]:] if ":9404/proxy/metrics" in r["path"]]
        return len(scrapes) >= 6

    return check


def deploy(kubesim, kubeconfig, tmp_path, **variables):
    serve_admin(kubesim)
    state = serve(kubesim)
    hosts = inventory(tmp_path, kubeconfig, **variables)
    first = run_playbook(tmp_path, hosts)
    assert first.rc == 0, first.describe()
    assert first.result_of(ROLL)["restarted"] == []
    return state


def changed(tmp_path, kubeconfig, **variables):
    return inventory(tmp_path, kubeconfig, **dict({"kafka_config": {"log.retention.hours": 72}, "kafka_roll_timeout": 20}, **variables))


@pytest.mark.parametrize("kubesim", [0.5], indirect=True)
def test_config_change_rolls_one_broker_at_a_time_controller_last(kubesim, kubeconfig, tmp_path):
    deploy(kubesim, kubeconfig, tmp_path)
    kubesim.clear_requests()

    run = run_playbook(tmp_path, changed(tmp_path, kubeconfig))
    assert run.rc == 0, run.describe()
    order = [pod for _t, pod in deletes(kubesim)]
    assert order == ["dev-kafka-1", "dev-kafka-2", "dev-kafka-0"]
    assert [r["pod"] for r in run.result_of(ROLL)["restarted"]] == order
    ready = kubesim.pod_ready_times()
    times = deletes(kubesim)
    for (_t, previous), (later, _pod) in zip(times, times[1:]):
        assert ready[NS + "/" + previous] < later, (previous, ready[NS + "/" + previous], later)

    kubesim.clear_requests()
    again = run_playbook(tmp_path, changed(tmp_path, kubeconfig))
    assert again.rc == 0, again.describe()
    assert deletes(kubesim) == [] and kubesim.writes() == []


def test_roll_waits_for_under_replicated_partitions_then_goes_on(kubesim, kubeconfig, tmp_path):
    state = deploy(kubesim, kubeconfig, tmp_path)
    under_replicate(state)
    when(roll_blocked(kubesim), lambda: under_replicate(state, under=False), delay=3.0)
    kubesim.clear_requests()

    run = run_playbook(tmp_path, changed(tmp_path, kubeconfig))
    assert run.rc == 0, run.describe()
    first = run.result_of(ROLL)["restarted"][0]
    assert first["pod"] == "dev-kafka-1" and first["waited_before"] >= 2.5, first
    assert any("pod dev-kafka-1 (broker 1) holds partitions that are under-replicated or leaderless: "
               "orders-1 (2 of 3 replicas in sync)" in reason for reason in first["waited_for"]), first


def test_roll_blocked_for_good_fails_naming_broker_and_partitions_and_restarts_nothing(kubesim, kubeconfig, tmp_path):
    state = deploy(kubesim, kubeconfig, tmp_path)
    under_replicate(state, "orders-4")
    kubesim.clear_requests()

    run = run_playbook(tmp_path, changed(tmp_path, kubeconfig, kafka_roll_timeout=3))
    assert run.rc != 0
    msg = [m for task, _h, m in run.failures() if task == ROLL][0]
    assert "the roll of StatefulSet dev-kafka cannot go on" in msg, msg
    assert "pod dev-kafka-1 (broker 1) holds partitions that are under-replicated or leaderless: orders-4 (2 of 3 replicas in sync)" in msg
    assert "pod dev-kafka-2 (broker 2)" in msg
    assert deletes(kubesim) == []


def under_replicated_once_restarted(kubesim, state, pod="dev-kafka-1", partition="orders-2", replicas=3):
    """From `pod`'s restart on, `partition` reports under-replicated, so a roll stops after that
    pod. Decided at each scrape of the brokers' metrics, so there is no race with the roll's poll.
    Returns a function that ends it (the partition is in sync again)."""
    first_uid = kubesim.get("v1", "Pod", NS, pod)["metadata"]["uid"]
    armed = [True]

    def scripted(ordinal):
        def text():
            current = kubesim.get("v1", "Pod", NS, pod)
            if armed and current is not None and current["metadata"]["uid"] != first_uid:
                under_replicate(state, partition)
            return broker_metrics(**state[ordinal])
        return text

    for ordinal in range(replicas):
        kubesim.route_proxy_handler(NS, "dev-kafka-%d" % ordinal, 9404, metrics_handler(scripted(ordinal)))

    def disarm():
        armed.clear()
        under_replicate(state, partition, under=False)
    return disarm


def test_interrupted_roll_resumes_without_restarting_a_broker_twice(kubesim, kubeconfig, tmp_path):
    state = deploy(kubesim, kubeconfig, tmp_path)
    disarm = under_replicated_once_restarted(kubesim, state)
    kubesim.clear_requests()
    run = run_playbook(tmp_path, changed(tmp_path, kubeconfig, kafka_roll_timeout=4))
    assert run.rc != 0
    assert [pod for _t, pod in deletes(kubesim)] == ["dev-kafka-1"]

    disarm()
    kubesim.clear_requests()
    resumed = run_playbook(tmp_path, changed(tmp_path, kubeconfig))
    assert resumed.rc == 0, resumed.describe()
    assert [pod for _t, pod in deletes(kubesim)] == ["dev-kafka-2", "dev-kafka-0"]


def test_stuck_outdated_broker_is_rolled_first(kubesim, kubeconfig, tmp_path):
    deploy(kubesim, kubeconfig, tmp_path)
    kubesim.set_pod_behaviour(NS, r"^dev-kafka-2$", "crashloop")
    kubesim.clear_requests()
    run = run_playbook(tmp_path, changed(tmp_path, kubeconfig, kafka_roll_timeout=3, kafka_ready_stuck_grace=600))
    assert run.rc != 0
    assert [pod for _t, pod in deletes(kubesim)][0] == "dev-kafka-2"

    kubesim.clear_pod_behaviours()
    fixed = run_playbook(tmp_path, changed(tmp_path, kubeconfig))
    assert fixed.rc == 0, fixed.describe()


def test_scale_down_with_partitions_on_removed_brokers_is_refused_before_any_write(kubesim, kubeconfig, tmp_path):
    deploy(kubesim, kubeconfig, tmp_path)
    kubesim.clear_requests()
    run = run_playbook(tmp_path, inventory(tmp_path, kubeconfig, kafka_replicas=2))
    assert run.rc != 0
    msg = [m for task, _h, m in run.failures() if task == SCALE_CHECK][0]
    assert msg.startswith("kafka_replicas=2 for dev in kafka is refused: going from 3 to 2 brokers would remove "
                          "broker 2 (pod dev-kafka-2), which still hold partitions: broker 2: orders-0, orders-1"), msg
    assert kubesim.writes() == []
