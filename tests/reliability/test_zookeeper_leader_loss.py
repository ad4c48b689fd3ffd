"""The ZooKeeper leader dies while a deployment waits on the ensemble: the gates wait for the
re-election and the member's return instead of failing, and the run succeeds.

The ensemble is real: Debian's ZooKeeper 3.8 run on loopback from the zoo.cfg the role renders
(tests/zookeeper_ensemble.py), its members' AdminServers behind kubesim's pod proxy for
dev-zookeeper-0..2, as in tests/integration/test_zookeeper_ensemble.py. Kafka's brokers are
scripted metrics (tests/kafka_metrics.py). The Kafka gate reads broker metrics only, so it
cannot itself depend on ZooKeeper in kubesim; the ZooKeeper gates in front of it are what is
tested. Two runs on one kubesim and one ensemble:

1. `playbooks/site.yml` (ZooKeeper and Kafka): the moment kubesim answers the write of the
   StatefulSet dev-zookeeper, the test SIGKILLs the ensemble's leader (kubesim's pods become
   Ready 5 s after creation, so the gate has not looked at the ensemble yet). Once the
   ZooKeeper gate (`Wait for a leader and every follower in sync`) has looked at the ensemble and the two
   survivors have elected a new leader (which has 1 synced follower of the 2 expected), the test
   waits 2 s more and starts the killed member again, as the kubelet would restart its
   container. The brokers' pods too become Ready 5 s after creation, then the Kafka gate
   passes on their metrics. The run must pass: the gate saw the lost member's AdminServer refuse (kubesim's proxy answers 503),
   waited (`waited` > 0) and passed naming the new leader, the old one following it.
2. `playbooks/kafka.yml` (Kafka alone, whose first step, `Gate on the ZooKeeper ensemble before
   Kafka`, runs the ZooKeeper gate read only): the test kills the current leader just before
   starting it and restarts that member 2 s after the re-election, once the gate has looked.
   The run must pass in the same way, and write nothing.
"""

import threading
import time

import pytest

from tests.helpers import REPO, by_kind, load_manifests, run_playbook, write_inventory
from tests.integration.test_zookeeper_ensemble import require_zookeeper
from tests.kafka_metrics import serve_metrics
from tests.kubesim import KubeSim
from tests.zookeeper_ensemble import Ensemble

NS = "kafka"
ZOOKEEPER_GATE = "streams.kafka.zookeeper : Wait for a leader and every follower in sync"
KAFKA_GATE = "streams.kafka.kafka : Wait for every broker running, one controller and no under-replicated or offline partitions"
AWAY_AFTER_ELECTION = 2.0
# Pods become Ready this long after they are created, so the gate is already waiting (on the
# pods) when the leader goes, and looks at the ensemble only after.
READY_DELAY = 5.0


def pod_of(member_id):
    return "dev-zookeeper-%d" % (member_id - 1)


def is_zookeeper_read(entry):
    return "/pods/dev-zookeeper-" in entry["path"] and "/proxy/" in entry["path"]


class Scenario:
    def __init__(self, sim, ensemble, tmp_path):
        self.sim = sim
        self.ensemble = ensemble
        self.tmp_path = tmp_path
        serve_metrics(sim, NS)
        for member in ensemble.members():
            sim.route_proxy(NS, pod_of(member), 8080, ensemble.admin_url(member))
        kubeconfig = sim.write_kubeconfig(str(tmp_path / "kubeconfig"))
        self.inventory = write_inventory(tmp_path / "hosts.yml", {"dev": {
            "streams_kubeconfig": kubeconfig, "streams_namespace": NS, "zookeeper_ready_timeout": 90,
            "kafka_ready_timeout": 90, "zookeeper_ready_stuck_grace": 5, "kafka_ready_stuck_grace": 5}})

    def _until(self, predicate, thread, timeout=600, what="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            if not thread.is_alive():
                raise AssertionError("the playbook ended before %s" % what)
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %s" % what)

    def run(self, playbook, kill_when):
        """Run `playbook` in a thread; in this (the ensemble's) thread kill the leader when
        `kill_when(requests)` holds, and restart it AWAY_AFTER_ELECTION seconds after the gate
        looked and the others elected a new leader. Returns (run, killed, new leader)."""
        outcome = {}
        thread = threading.Thread(target=lambda: outcome.update(run=run_playbook(
            self.tmp_path, self.inventory, playbook=playbook, timeout=600)), daemon=True)
        self.sim.clear_requests()
        thread.start()
        try:
            self._until(lambda: kill_when(self.sim.requests), thread, what="the moment to kill the leader")
            killed = self.ensemble.wait_for_leader(timeout=30, synced_followers=2)
            seen = len(self.sim.requests)
            self.ensemble.kill(killed)
            # the gate looks at the ensemble with its leader gone
            self._until(lambda: any(is_zookeeper_read(r) for r in self.sim.requests[seen:]), thread,
                        what="the ZooKeeper gate to look after the kill")
            elected = self.ensemble.wait_for_leader(timeout=30, synced_followers=1, exclude=(killed,))
            time.sleep(AWAY_AFTER_ELECTION)
            self.ensemble.restart(killed, timeout=30)
        finally:
            thread.join(600)
        return outcome["run"], killed, elected, seen


@pytest.fixture(scope="module", name="rendered")
def rendered_fixture(tmp_path_factory):
    """The ZooKeeper objects the role renders for cluster 'dev' (3 members), in directory mode."""
    tmp = tmp_path_factory.mktemp("render")
    inventory = write_inventory(tmp / "hosts.yml", {"dev": {"kafka_enabled": False}}, group_vars={
        "streams_deploy_to": "directory", "streams_manifest_dir": "out", "streams_namespace": NS})
    run = run_playbook(tmp, inventory)
    assert run.rc == 0, run.describe()
    return by_kind(load_manifests(tmp / "out" / "dev" / "10-zookeeper.yaml"))


@pytest.fixture(scope="module", name="scenario")
def scenario_fixture(rendered, tmp_path_factory):
    require_zookeeper()
    tmp_path = tmp_path_factory.mktemp("zookeeper-leader-loss")
    with KubeSim(ready_delay=READY_DELAY) as sim, Ensemble(rendered["ConfigMap"]["data"]["zoo.cfg"], tmp_path / "zk") as ensemble:
        sim.start()
        ensemble.start(timeout=30)
        scenario = Scenario(sim, ensemble, tmp_path)
        site = scenario.run(REPO / "playbooks" / "site.yml", kill_when=lambda requests: any(
            r["write"] and "/statefulsets" in r["path"] and "dev-zookeeper" in (r["name"] or "") + r["path"] for r in requests))
        site_requests = sim.requests
        kafka = scenario.run(REPO / "playbooks" / "kafka.yml", kill_when=lambda requests: True)
        yield {"site": site, "site_requests": site_requests, "kafka": kafka, "kafka_requests": sim.requests}


def reads_of(requests, pod):
    return [r["status"] for r in requests if is_zookeeper_read(r) and "/pods/%s:" % pod in r["path"]]


def check_waited_for_reelection(run, requests, killed, elected, seen):
    assert run.rc == 0, run.describe()
    gate = run.result_of(ZOOKEEPER_GATE)
    assert gate["ready"] is True, gate
    assert gate["waited"] > 0, gate
    # no look at the ensemble before the kill; then the lost member's AdminServer did not answer
    # (kubesim's proxy: 503 connection refused) until it came back and answered
    assert not any(is_zookeeper_read(r) for r in requests[:seen])
    statuses = reads_of(requests[seen:], pod_of(killed))
    assert 503 in statuses and statuses[-1] == 200, statuses
    assert gate["leader"] == pod_of(elected) != pod_of(killed), gate
    assert gate["members"][pod_of(killed)]["server_state"] == "follower", gate
    assert gate["members"][pod_of(elected)]["synced_followers"] == 2, gate
    return gate


def test_site_waits_for_the_reelection_and_deploys_kafka(scenario):
    run, killed, elected, seen = scenario["site"]
    check_waited_for_reelection(run, scenario["site_requests"], killed, elected, seen)
    kafka = run.result_of(KAFKA_GATE)
    assert kafka["ready"] is True, kafka
    # Kafka was delivered only after the ensemble passed its gate
    requests = scenario["site_requests"]
    kafka_writes = [i for i, r in enumerate(requests) if r["write"] and "dev-kafka" in (r["name"] or "") + r["path"]]
    zookeeper_reads = [i for i, r in enumerate(requests) if is_zookeeper_read(r)]
    assert kafka_writes and zookeeper_reads and max(zookeeper_reads) < min(kafka_writes)


def test_kafka_playbook_gates_on_zookeeper_through_the_reelection(scenario):
    run, killed, elected, seen = scenario["kafka"]
    check_waited_for_reelection(run, scenario["kafka_requests"], killed, elected, seen)
    assert run.result_of(KAFKA_GATE)["ready"] is True
    assert [r for r in scenario["kafka_requests"] if r["write"]] == []
