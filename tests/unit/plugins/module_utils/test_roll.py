"""roll: which pods are outdated, the order, stuck pods first, resume, and blocking."""

import pytest

from ansible_collections.streams.kafka.plugins.module_utils import roll
from ansible_collections.streams.kafka.plugins.module_utils.readiness import NotReady


def pod(name, revision="new", uid=None, stuck=False):
    status = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}], "containerStatuses": []}
    if stuck:
        status = {"phase": "Running", "containerStatuses": [
            {"name": "zookeeper", "ready": False, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
    return {"metadata": {"name": name, "uid": uid or name + "-uid", "labels": {roll.REVISION_LABEL: revision}}, "status": status}


def sts(generation=2, observed=2, revision="new"):
    return {"metadata": {"name": "dev-zookeeper", "generation": generation},
            "status": {"observedGeneration": observed, "updateRevision": revision}}


class FakeCluster:
    """A StatefulSet whose deleted pods come back on the update revision at once."""

    def __init__(self, pods, statefulset=None):
        self.pods = dict((p["metadata"]["name"], p) for p in pods)
        self.sts = statefulset or sts()
        self.deleted = []

    def read_statefulset(self, namespace, name):
        return self.sts

    def list_pods(self, namespace, selector):
        return [self.pods[name] for name in sorted(self.pods)]

    def delete_pod(self, namespace, name, uid):
        assert self.pods[name]["metadata"]["uid"] == uid
        self.deleted.append(name)
        self.pods[name] = pod(name, "new", uid=name + "-v2")
        return True


class LeaderLast:
    """Policy: the named leader goes last; `blocked` reasons make pick wait."""

    def __init__(self, leader, blocked=()):
        self.leader = leader
        self.blocked = list(blocked)

    def order(self, names):
        return sorted(n for n in names if n != self.leader) + [n for n in names if n == self.leader]

    def pick(self, pods, outdated):
        if self.blocked:
            raise NotReady(self.blocked.pop(0))
        return self.order(outdated)[0]

    def ready(self):
        return True


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def roller(cluster, policy, timeout=30):
    clock = Clock()
    return roll.Roller(cluster, "kafka", "dev-zookeeper", "sel", policy, timeout, clock=clock, sleep=clock.sleep)


def test_outdated_is_the_revision_label_and_waits_for_the_controller():
    pods = [pod("zk-0", "old"), pod("zk-1", "new"), pod("zk-10", "old"), pod("zk-2", "old")]
    assert roll.outdated_pods(sts(), pods) == ["zk-0", "zk-2", "zk-10"]
    with pytest.raises(NotReady, match="has not observed generation 3"):
        roll.outdated_pods(sts(generation=3, observed=2), pods)


def test_leader_goes_last_and_each_pod_once():
    cluster = FakeCluster([pod("zk-0", "old"), pod("zk-1", "old"), pod("zk-2", "old")])
    restarted = roller(cluster, LeaderLast("zk-1")).run()
    assert cluster.deleted == ["zk-0", "zk-2", "zk-1"]
    assert [r["pod"] for r in restarted] == cluster.deleted
    assert roller(cluster, LeaderLast("zk-1")).run() == []


def test_stuck_outdated_pod_goes_first_even_when_the_policy_blocks():
    cluster = FakeCluster([pod("zk-0", "old"), pod("zk-1", "old"), pod("zk-2", "old", stuck=True)])
    policy = LeaderLast("zk-1", blocked=["ensemble not healthy"])
    r = roller(cluster, policy)
    assert r.plan() == ["zk-2", "zk-0", "zk-1"]
    r.run()
    assert cluster.deleted[0] == "zk-2"


def test_waits_with_a_reason_then_goes_on():
    cluster = FakeCluster([pod("zk-0", "old")])
    restarted = roller(cluster, LeaderLast("zk-9", blocked=["partition t-0 at min ISR"] * 3)).run()
    assert restarted[0]["waited_for"] == ["partition t-0 at min ISR"]
    assert restarted[0]["waited_before"] > 0


def test_blocked_roll_fails_naming_why_and_restarts_nothing():
    cluster = FakeCluster([pod("zk-0", "old")])
    with pytest.raises(roll.RollBlocked, match="cannot go on: broker 2 holds under-replicated t-1"):
        roller(cluster, LeaderLast("zk-9", blocked=["broker 2 holds under-replicated t-1"] * 1000), timeout=5).run()
    assert cluster.deleted == []


def test_pod_that_does_not_come_back_fails_the_roll():
    cluster = FakeCluster([pod("zk-0", "old"), pod("zk-1", "old")])

    class NeverBack(LeaderLast):
        def ready(self):
            raise NotReady("pod zk-0: readiness probe failing")

    with pytest.raises(roll.RollBlocked, match="pod zk-0 did not come back ready: pod zk-0: readiness probe failing"):
        roller(cluster, NeverBack("zk-1"), timeout=3).run()
    assert cluster.deleted == ["zk-0"]
