# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kafka gate in KRaft mode: the brokers and the metadata quorum, judged from their metrics.

The voters are the dedicated controllers (pods ``<cluster>-kafka-controller-N``, node.id 1000+N)
or, in combined mode, the broker pods themselves (node.id N). Each serves the raft metrics the
kafka role's exporter rules name (``kafka_server_raftmetrics_*``). The cluster is ready when:

- every broker answers RUNNING with no under-replicated partitions (in KRaft the active
  controller count and the offline partitions live on the controllers, not on brokers);
- every voter answers; exactly one reports ``current_state`` leader; every voter names that
  node as ``current_leader``; every voter's log end offset is at least the leader's high
  watermark minus ``quorum_max_lag`` (the leader is read first, so a follower read after it
  cannot look behind only because the leader moved on between the two reads);
- the active controller count summed over the voters is 1, and the active controller reports
  no offline partitions.

:func:`evaluate_quorum` and :func:`evaluate` are pure; :class:`KRaftGate` gathers the reads
through the API server's pod proxy. :func:`majority_without` is the roll's quorum rule
(Strimzi's KafkaQuorumCheck).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.streams.kafka.plugins.module_utils import kafka
from ansible_collections.streams.kafka.plugins.module_utils.readiness import (
    POD_NOT_READY,
    Gate,
    check_gate_params,
    is_stuck,
    list_pods,
    member_state,
    pod_signature,
    probeable,
)

CURRENT_STATE = "kafka_server_raftmetrics_current_state"
CURRENT_LEADER = "kafka_server_raftmetrics_current_leader"
CURRENT_EPOCH = "kafka_server_raftmetrics_current_epoch"
HIGH_WATERMARK = "kafka_server_raftmetrics_high_watermark"
LOG_END_OFFSET = "kafka_server_raftmetrics_log_end_offset"
ZK_MIGRATION_STATE = "kafka_controller_kafkacontroller_zkmigrationstate"
RAFT_METRICS = (CURRENT_STATE, CURRENT_LEADER, CURRENT_EPOCH, HIGH_WATERMARK, LOG_END_OFFSET)

LEADER = "leader"
CONTROLLER_NODE_ID_BASE = 1000


def controller_statefulset_name(cluster_name):
    return "%s-kafka-controller" % cluster_name


def controller_selector_for(cluster_name):
    """The label selector of a cluster's dedicated controller pods."""
    return "app.kubernetes.io/instance=%s,app.kubernetes.io/name=kafka-controller" % cluster_name


def controller_voters(cluster_name, replicas):
    """(pod, node.id) of the dedicated controllers."""
    return [("%s-%d" % (controller_statefulset_name(cluster_name), ordinal), CONTROLLER_NODE_ID_BASE + ordinal)
            for ordinal in range(replicas)]


def combined_voters(names):
    """(pod, node.id) of combined broker-controllers: the node.id is the ordinal."""
    return [(name, kafka.broker_id(name)) for name in names]


def _number(value):
    return None if value is None else int(value)


def voter_fields(read, samples, port=kafka.DEFAULT_METRICS_PORT):
    """Fill a voter's read from its samples: raft state, leader, epoch, offsets, active
    controller, offline partitions (read on the active controller) and ZK migration state."""
    states = sorted(labels.get("current_state") for labels, value in samples.series(CURRENT_STATE) if value >= 1)
    read["raft_state"] = states[0] if states else None
    leader = _number(samples.total(CURRENT_LEADER))
    read["current_leader"] = None if leader is None or leader < 0 else leader
    read["epoch"] = _number(samples.total(CURRENT_EPOCH))
    read["high_watermark"] = _number(samples.total(HIGH_WATERMARK))
    read["log_end_offset"] = _number(samples.total(LOG_END_OFFSET))
    controller = samples.total(kafka.ACTIVE_CONTROLLER)
    read["active_controller"] = None if controller is None else controller >= 1
    read["offline_partitions"] = _number(samples.total(kafka.OFFLINE))
    read["zk_migration_state"] = _number(samples.total(ZK_MIGRATION_STATE))
    missing = [name for name, value in ((CURRENT_STATE, read["raft_state"]), (CURRENT_LEADER, leader),
                                        (HIGH_WATERMARK, read["high_watermark"]), (LOG_END_OFFSET, read["log_end_offset"]),
                                        (kafka.ACTIVE_CONTROLLER, controller)) if value is None]
    if missing and not read.get("problem"):
        read["problem"] = kafka.missing_problem(port, missing)
    return read


def _blank_voter_read():
    return {"answered": False, "problem": None, "raft_state": None, "current_leader": None, "epoch": None,
            "high_watermark": None, "log_end_offset": None, "active_controller": None, "offline_partitions": None,
            "zk_migration_state": None}


def read_controller(api, namespace, pod, port=kafka.DEFAULT_METRICS_PORT, path=kafka.DEFAULT_METRICS_PATH):
    """Read a dedicated controller's metrics through the pod proxy."""
    read = _blank_voter_read()
    samples = kafka.scrape(api, namespace, pod, read, port, path)
    if samples is not None:
        voter_fields(read, samples, port)
    return read


def read_combined(api, namespace, pod, port=kafka.DEFAULT_METRICS_PORT, path=kafka.DEFAULT_METRICS_PATH):
    """Read a combined broker-controller once: its broker values and its voter values."""
    read = dict(_blank_voter_read(), **kafka._blank_read())
    samples = kafka.scrape(api, namespace, pod, read, port, path)
    if samples is not None:
        kafka.broker_fields(read, samples, port, kraft=True)
        voter_fields(read, samples, port)
    return read


def read_leader_first(names, read, hint=None):
    """Read every name, the last known leader (`hint`) first; when the leader turns out to be
    another, read again those read before it, so every follower's log end offset is read after
    the leader's high watermark and a follower never looks behind only because of the order."""
    order = ([hint] if hint in names else []) + [name for name in names if name != hint]
    reads = {}
    before = []
    for name in order:
        reads[name] = read(name)
        if before is None:
            continue
        if reads[name].get("raft_state") == LEADER:
            for earlier in before:
                reads[earlier] = read(earlier)
            before = None
        else:
            before.append(name)
    return reads


def _voter(name, node_id, pod, read):
    read = (read or {}) if pod is not None else {}
    pod_state, problem = member_state(pod, read if read else None)
    return {"pod": name, "node_id": node_id, "pod_state": pod_state, "state": read.get("raft_state"),
            "current_leader": read.get("current_leader"), "epoch": read.get("epoch"),
            "high_watermark": read.get("high_watermark"), "log_end_offset": read.get("log_end_offset"), "lag": None,
            "caught_up": False, "active_controller": read.get("active_controller"),
            "offline_partitions": read.get("offline_partitions"), "zk_migration_state": read.get("zk_migration_state"),
            "problem": problem}


def _states(names, voters):
    return ", ".join("%s %s" % (name, voters[name]["state"] or "no answer") for name in names)


def evaluate_quorum(voters, pods, reads, max_lag):
    """Judge the quorum. `voters` lists (pod, node.id); `pods` are the pods as the API returns
    them, `reads` the voters' metric reads. Returns leader (pod or None), leader_node_id, epoch,
    high_watermark, max_lag, voters (pod -> entry), controller (the active controller's pod or
    None), problems and stuck."""
    by_name = dict(((pod.get("metadata") or {}).get("name"), pod) for pod in pods)
    names = [name for name, _node in voters]
    entries = dict((name, _voter(name, node, by_name.get(name), reads.get(name))) for name, node in voters)
    problems = ["pod %s: %s" % (name, entries[name]["problem"]) for name in names if entries[name]["problem"]]
    leaders = [name for name in names if entries[name]["state"] == LEADER]
    leader = leaders[0] if len(leaders) == 1 else None
    high_watermark = entries[leader]["high_watermark"] if leader else None
    if not leaders:
        problems.append("no quorum node reports current_state leader (%s)" % _states(names, entries))
    elif len(leaders) > 1:
        problems.append("pods %s all report current_state leader; expected exactly one" % ", ".join(leaders))
    else:
        leader_id = entries[leader]["node_id"]
        for name in names:
            entry = entries[name]
            if entry["state"] is None:
                continue  # its problem is named already
            if entry["current_leader"] != leader_id:
                problems.append("pod %s (node %s) names %s as the quorum leader, not node %s (pod %s)" % (
                    name, entry["node_id"], "no node" if entry["current_leader"] is None else "node %s" % entry["current_leader"],
                    leader_id, leader))
                continue
            if entry["problem"] or entry["log_end_offset"] is None or high_watermark is None:
                continue
            entry["lag"] = max(0, high_watermark - entry["log_end_offset"])
            entry["caught_up"] = name == leader or entry["log_end_offset"] >= high_watermark - max_lag
            if not entry["caught_up"]:
                problems.append("pod %s (node %s): log end offset %d is %d behind the leader's high watermark %d "
                                "(quorum_max_lag %d)" % (name, entry["node_id"], entry["log_end_offset"], entry["lag"],
                                                         high_watermark, max_lag))
    controller = kafka.single_active_controller(names, entries, names, "quorum node", problems)
    if controller is not None:
        offline = entries[controller]["offline_partitions"]
        if offline is None:
            problems.append("pod %s (the active controller): metrics have no %s" % (controller, kafka.OFFLINE))
        elif offline:
            problems.append("pod %s (the active controller): %d offline partition(s)" % (controller, offline))
    stuck = sorted(name for name in names if entries[name]["pod_state"] == POD_NOT_READY and is_stuck(entries[name]["problem"]))
    return {"leader": leader, "leader_node_id": entries[leader]["node_id"] if leader else None,
            "epoch": entries[leader]["epoch"] if leader else None, "high_watermark": high_watermark, "max_lag": max_lag,
            "voters": entries, "controller": controller, "problems": problems, "stuck": stuck}


def majority_without(quorum, pod):
    """Strimzi's KafkaQuorumCheck: (allowed, caught_up, needed). The voters other than `pod`
    that are caught up must still be a majority of all voters (n // 2 + 1) after it goes. A
    single voter may always restart: nothing can keep the quorum up while it does."""
    voters = quorum["voters"]
    needed = len(voters) // 2 + 1
    caught_up = sum(1 for name, voter in voters.items() if name != pod and voter["caught_up"])
    return len(voters) == 1 or caught_up >= needed, caught_up, needed


def evaluate(broker_pods, broker_reads, replicas, expected, voter_pods, voter_reads, voters, max_lag):
    """The KRaft verdict: the brokers (RUNNING, no under-replicated partitions) and the quorum.
    Returns the keys of kafka.evaluate (ready, controller, brokers, problems, reason, stuck)
    plus quorum."""
    names, brokers, problems = kafka.evaluate_brokers(broker_pods, broker_reads, replicas, expected)
    problems += kafka.under_replicated_problems(names, brokers)
    quorum = evaluate_quorum(voters, voter_pods, voter_reads, max_lag)
    # In combined mode a pod's own problem is named once, as a broker's.
    problems += [problem for problem in quorum["problems"] if problem not in problems]
    stuck = sorted(set(kafka.stuck_pods(brokers)) | set(quorum["stuck"]))
    return {"ready": not problems, "controller": quorum["controller"], "brokers": brokers, "quorum": quorum,
            "problems": problems, "reason": "; ".join(problems) or "ready", "stuck": stuck}


def public_quorum(quorum):
    """The quorum as the modules return it."""
    if quorum is None:
        return None
    keys = ("node_id", "state", "current_leader", "log_end_offset", "lag", "caught_up", "problem")
    return {"leader": quorum["leader"], "leader_node_id": quorum["leader_node_id"], "epoch": quorum["epoch"],
            "high_watermark": quorum["high_watermark"], "max_lag": quorum["max_lag"],
            "voters": dict((name, dict((key, voter[key]) for key in keys)) for name, voter in quorum["voters"].items())}


class KRaftGate(Gate):
    """Observe one KRaft cluster (brokers and quorum) through the API; wait for it with a deadline.

    `voters` lists (pod, node.id); None in selector mode means combined, every selected pod a
    voter. `voter_selector` is the dedicated controllers' selector; None in combined mode, where
    each broker pod is read once for both its broker and its voter values.
    """

    stuck_error = kafka.BrokersStuck
    subject = "the brokers and the controllers"

    def __init__(self, api, namespace, replicas, selector, expected, voters, voter_selector, max_lag,
                 port=kafka.DEFAULT_METRICS_PORT, path=kafka.DEFAULT_METRICS_PATH, stuck_grace=60, clock=time.monotonic):
        super(KRaftGate, self).__init__(stuck_grace, clock)
        self.api = api
        self.namespace = namespace
        self.replicas = replicas
        self.selector = selector
        self.expected = expected
        self.voters = voters
        self.voter_selector = voter_selector
        self.max_lag = max_lag
        self.port = port
        self.path = path
        self.reads = {}
        self.voter_reads = {}
        self.leader_hint = None

    @property
    def combined(self):
        return self.voter_selector is None

    def _probeable(self, pods, wanted):
        return [pod["metadata"]["name"] for pod in pods
                if (wanted is None or pod["metadata"]["name"] in wanted) and probeable(pod)]

    def observe(self):
        """One look: list the brokers and controllers, read each (the quorum leader first), evaluate."""
        pods = list_pods(self.api, self.namespace, self.selector)
        voter_pods = pods if self.combined else list_pods(self.api, self.namespace, self.voter_selector)
        if not self.ask_due(pod_signature(pods if self.combined else pods + voter_pods)):
            return self.last
        voters = self.voters
        if voters is None:
            voters = combined_voters(sorted(pod["metadata"]["name"] for pod in pods))
        voter_names = [name for name, _node in voters]
        broker_names = self._probeable(pods, set(self.expected) if self.expected is not None else None)
        if self.combined:
            reads = read_leader_first(broker_names, lambda name: read_combined(self.api, self.namespace, name, self.port, self.path),
                                      self.leader_hint)
            voter_reads = dict((name, read) for name, read in reads.items() if name in voter_names)
        else:
            voter_reads = read_leader_first(self._probeable(voter_pods, set(voter_names)),
                                            lambda name: read_controller(self.api, self.namespace, name, self.port, self.path),
                                            self.leader_hint)
            reads = dict((name, kafka.read_broker(self.api, self.namespace, name, self.port, self.path, kraft=True))
                         for name in broker_names)
        self.reads, self.voter_reads = reads, voter_reads
        self.last = evaluate(pods, reads, self.replicas, self.expected, voter_pods, voter_reads, voters, self.max_lag)
        self.leader_hint = self.last["quorum"]["leader"] or self.leader_hint
        return self.last


def check_kraft_params(params):
    """Option checks of KRaft mode; raises ValueError."""
    if params["controller_replicas"] < 0 or params["quorum_max_lag"] < 0:
        raise ValueError("controller_replicas and quorum_max_lag must not be negative")
    if params["controller_replicas"] and not params["cluster_name"]:
        raise ValueError("metadata_mode=kraft with dedicated controllers (controller_replicas > 0) needs cluster_name: "
                         "the controllers are <cluster_name>-kafka-controller-N")


def gate_from_params(params, api):
    """The gate the kafka_ready options describe: kafka.BrokersGate in ZooKeeper mode, KRaftGate in KRaft mode."""
    if params.get("metadata_mode") != "kraft":
        return kafka.gate_from_params(params, api)
    check_gate_params(params)
    check_kraft_params(params)
    cluster = params["cluster_name"]
    if cluster:
        selector, expected = kafka.selector_for(cluster), kafka.expected_pods(cluster, params["replicas"])
    else:
        selector, expected = params["selector"], None
    if params["controller_replicas"]:
        voters = controller_voters(cluster, params["controller_replicas"])
        voter_selector = controller_selector_for(cluster)
    else:
        voters = combined_voters(expected) if expected is not None else None
        voter_selector = None
    return KRaftGate(api, params["namespace"], params["replicas"], selector, expected, voters, voter_selector,
                     params["quorum_max_lag"], port=params["metrics_port"], path=params["metrics_path"],
                     stuck_grace=params["stuck_grace"])
