# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a Kafka broker may restart, and when brokers may go away, judged from their metrics.

Every broker's JMX exporter serves, per partition, the replicas it holds
(``kafka_log_log_size{topic,partition}``) and, for the partitions it leads, the in-sync and
assigned replica counts and the under-replicated / at-min-ISR / under-min-ISR flags
(``kafka_cluster_partition_*``). From those, Strimzi's KafkaRoller rules:

- a broker waits while any partition it holds is under-replicated (fewer in-sync replicas than
  replicas) or has no leader reporting it: restarting it could take the partition below
  ``min.insync.replicas`` or offline;
- partitions whose ``min.insync.replicas`` is at least their replication factor are unavailable
  to ``acks=all`` producers whenever any replica restarts, in whatever order; like Strimzi, the
  roll does not wait for them (it never could), and names them in its notes;
- brokers that are not the active controller go first, the controller last.

In KRaft mode (the gate is a kafka_quorum.KRaftGate) the dedicated controllers roll first, with
:class:`ControllerRollPolicy`: followers first, the active controller last, each only while the
other voters that are caught up still form a majority of all voters (Strimzi's
KafkaQuorumCheck). Then the brokers under the rules above; in combined mode, where the brokers
are the voters, the majority rule applies to them too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.streams.kafka.plugins.module_utils.k8s_api import ApiError
from ansible_collections.streams.kafka.plugins.module_utils.kafka import broker_id, read_broker, selector_for, statefulset_name
from ansible_collections.streams.kafka.plugins.module_utils.kafka_quorum import majority_without
from ansible_collections.streams.kafka.plugins.module_utils.readiness import SERVING, NotReady, pod_problem, probeable

LISTED = 10


def listing(names, limit=LISTED):
    names = sorted(names)
    if len(names) <= limit:
        return ", ".join(names)
    return "%s and %d more" % (", ".join(names[:limit]), len(names) - limit)


def partition_states(reads):
    """Partition -> its leader's view (leader pod, isr, replicas, flags), from every broker's read."""
    states = {}
    for pod, read in reads.items():
        for partition, state in (read.get("leads") or {}).items():
            states[partition] = dict(state, leader=pod)
    return states


def restart_blockers(read, states):
    """(blocking, unavoidable): the partitions of this broker a restart must wait for, each with
    why, and those it cannot protect whatever it does (min.insync.replicas >= replicas)."""
    blocking, unavoidable = [], []
    for partition in read.get("replicas") or []:
        state = states.get(partition)
        if state is None:
            blocking.append("%s (no broker reports leading it)" % partition)
        elif state["under_replicated"] or (state["replicas"] is not None and state["isr"] < state["replicas"]):
            blocking.append("%s (%s of %s replicas in sync)" % (partition, state["isr"], state["replicas"] or "?"))
        elif state["at_min_isr"] or state["under_min_isr"]:
            unavoidable.append(partition)
    return blocking, unavoidable


def quorum_blocker(quorum, name):
    """Why voter `name` may not restart now under the majority rule, or None (also when it is
    not a voter, or there is no quorum: ZooKeeper mode)."""
    if not quorum or name not in quorum["voters"]:
        return None
    allowed, caught_up, needed = majority_without(quorum, name)
    if allowed:
        return None
    behind = sorted(other for other, voter in quorum["voters"].items() if other != name and not voter["caught_up"])
    return ("pod %s (node %s) waits for the quorum: without it %d of the %d voters are caught up, fewer than a majority "
            "(%d); not caught up: %s" % (name, quorum["voters"][name]["node_id"], caught_up, len(quorum["voters"]), needed,
                                         ", ".join(behind) or "none"))


class _GatePolicy(object):
    """What both roll policies share: the gate they observe through, and the notes they collect."""

    members = "pods"

    def __init__(self, gate):
        self.gate = gate
        self.notes = []

    def _report(self):
        try:
            return self.gate.observe()
        except ApiError as error:
            raise NotReady("cannot read the %s: %s" % (self.members, error))

    def _note(self, text):
        if text not in self.notes:
            self.notes.append(text)

    def ready(self):
        return self.gate.probe()


class RollPolicy(_GatePolicy):
    """Brokers that are not the controller first, the controller last; each only while every
    broker serves and no partition it holds is under-replicated."""

    members = "brokers"

    @staticmethod
    def _ordered(names, controller):
        others = sorted((name for name in names if name != controller), key=broker_id)
        return others + [name for name in names if name == controller]

    def order(self, names):
        try:
            controller = self._report()["controller"]
        except NotReady:
            controller = None
        return self._ordered(names, controller)

    def pick(self, pods, outdated):
        report = self._report()
        down = ["%s (%s)" % (name, broker["problem"]) for name, broker in sorted(report["brokers"].items())
                if broker["state"] != SERVING]
        if down:
            raise NotReady("one broker restarts at a time, and these do not serve: %s" % "; ".join(down))
        if report["controller"] is None:
            raise NotReady("no broker restarts while the cluster has no single active controller: %s" % report["reason"])
        states = partition_states(self.gate.reads)
        candidates = self._ordered(outdated, report["controller"])
        if report["controller"] in candidates and len(candidates) > 1:
            candidates.remove(report["controller"])  # the controller goes last, after every other
        waiting = []
        for name in candidates:
            blocking, unavoidable = restart_blockers(self.gate.reads.get(name) or {}, states)
            if unavoidable:
                self._note("pod %s: partitions %s have min.insync.replicas >= replicas; acks=all producers to them "
                           "stall while it restarts" % (name, listing(unavoidable)))
            quorum = quorum_blocker(report.get("quorum"), name)
            if not blocking and not quorum:
                return name
            if blocking:
                waiting.append("pod %s (broker %s) holds partitions that are under-replicated or leaderless: %s"
                               % (name, broker_id(name), listing(blocking)))
            if quorum:
                waiting.append(quorum)
        raise NotReady("; ".join(waiting))


class ControllerRollPolicy(_GatePolicy):
    """The dedicated KRaft controllers: followers first (by ordinal), the active controller (the
    quorum leader) last, each only while the quorum has one leader and the voters other than it
    that are caught up are still a majority of all voters."""

    members = "controllers"

    @staticmethod
    def _ordered(names, last):
        others = sorted((name for name in names if name not in last), key=broker_id)
        return others + sorted((name for name in names if name in last), key=broker_id)

    @staticmethod
    def _last(report):
        return set(name for name in (report["quorum"]["leader"], report["controller"]) if name)

    def order(self, names):
        try:
            last = self._last(self._report())
        except NotReady:
            last = set()
        return self._ordered(names, last)

    def pick(self, pods, outdated):
        report = self._report()
        quorum = report["quorum"]
        if quorum["leader"] is None:
            raise NotReady("no controller restarts while the quorum has no single leader: %s" % report["reason"])
        last = self._last(report)
        candidates = self._ordered(outdated, last)
        if len(candidates) > len([name for name in candidates if name in last]):
            candidates = [name for name in candidates if name not in last]  # the active controller after every other
        waiting = []
        for name in candidates:
            blocker = quorum_blocker(quorum, name)
            if not blocker:
                if len(quorum["voters"]) == 1:
                    self._note("pod %s is the only voter: the metadata quorum is down while it restarts" % name)
                return name
            waiting.append(blocker)
        raise NotReady("; ".join(waiting))


def scale_down_blockers(reads, replicas):
    """Broker pod -> the partitions it still holds, for the brokers at or above ordinal `replicas`
    (those a scale-down to `replicas` would remove). Raises NotReady when one of them did not answer."""
    held = {}
    for pod, read in sorted(reads.items()):
        if broker_id(pod) is None or broker_id(pod) < replicas:
            continue
        if not read.get("answered") or read.get("problem"):
            raise NotReady("cannot tell which partitions pod %s holds: %s" % (pod, read.get("problem") or "no answer"))
        if read.get("replicas"):
            held[pod] = read["replicas"]
    return held


class ScaleDownRefused(Exception):
    """Brokers a scale-down would remove still hold partitions; the message lists them."""


def check_scale_down(api, namespace, cluster_name, replicas, port, path):
    """The StatefulSet's current replicas (None when it does not exist yet). Raises
    ScaleDownRefused when going to `replicas` would remove brokers that hold partitions, and
    NotReady when that cannot be told (a broker to remove does not answer)."""
    sts = api.read_statefulset(namespace, statefulset_name(cluster_name))
    if sts is None:
        return None
    current = (sts.get("spec") or {}).get("replicas") or 0
    if replicas >= current:
        return current
    removed = ["%s-%d" % (statefulset_name(cluster_name), ordinal) for ordinal in range(replicas, current)]
    pods = dict((pod["metadata"]["name"], pod) for pod in api.list_pods(namespace, selector_for(cluster_name)))
    reads = {}
    for name in removed:
        if name in pods and probeable(pods[name]):
            reads[name] = read_broker(api, namespace, name, port, path)
        else:
            reads[name] = {"answered": False, "problem": pod_problem(pods[name]) if name in pods else "pod does not exist"}
    held = scale_down_blockers(reads, replicas)
    if held:
        raise ScaleDownRefused("going from %d to %d brokers would remove %s, which still hold partitions: %s. Move them to "
                               "brokers 0-%d first (kafka-reassign-partitions.sh), then scale down" % (
                                   current, replicas, ", ".join("broker %d (pod %s)" % (broker_id(pod), pod) for pod in sorted(held)),
                                   "; ".join("broker %d: %s" % (broker_id(pod), listing(parts)) for pod, parts in sorted(held.items())),
                                   replicas - 1))
    return current
