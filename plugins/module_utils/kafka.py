# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kafka readiness gate: read every broker's metrics and judge the cluster.

Each broker runs the Prometheus JMX exporter agent (port 9404) with rules the kafka role owns,
which name the metrics the way Strimzi does. Ready means every broker answers with
``kafka_server_kafkaserver_brokerstate`` 3 (RUNNING), the active controller count summed over
the brokers is exactly 1, and no broker reports under-replicated or offline partitions.
:func:`evaluate` is pure (pods and metric reads in, verdict out); :class:`BrokersGate` gathers
them through the API server's pod proxy and waits with :func:`readiness.wait_until`. This is
the ZooKeeper-mode gate; in KRaft mode :mod:`kafka_quorum` judges the brokers with the helpers
here and the metadata quorum itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.streams.kafka.plugins.module_utils import metrics
from ansible_collections.streams.kafka.plugins.module_utils.k8s_api import ApiError
from ansible_collections.streams.kafka.plugins.module_utils.readiness import (
    GateStuck,
    MembersGate,
    check_gate_params,
    member_state,
    stuck_pods,
)
from ansible_collections.streams.kafka.plugins.module_utils.zookeeper import short

DEFAULT_METRICS_PORT = 9404
DEFAULT_METRICS_PATH = metrics.DEFAULT_PATH
# KRaft: how many records a voter's log end offset may trail the quorum leader's high watermark
# and still count as caught up. The active controller appends a no-op record to the metadata log
# every 500 ms (metadata.max.idle.interval.ms) and a follower fetches continuously, so a healthy
# follower trails by at most the records of one fetch; one that stopped fetching falls behind by
# two records a second (50: about 25 s), one that restarted by all it missed.
DEFAULT_QUORUM_MAX_LAG = 50

# The metric names the kafka role's exporter rules produce (Strimzi's naming).
BROKER_STATE = "kafka_server_kafkaserver_brokerstate"
ACTIVE_CONTROLLER = "kafka_controller_kafkacontroller_activecontrollercount"
UNDER_REPLICATED = "kafka_server_replicamanager_underreplicatedpartitions"
OFFLINE = "kafka_controller_kafkacontroller_offlinepartitionscount"
AT_MIN_ISR = "kafka_server_replicamanager_atminisrpartitioncount"
UNDER_MIN_ISR = "kafka_server_replicamanager_underminisrpartitioncount"
GATE_METRICS = (BROKER_STATE, ACTIVE_CONTROLLER, UNDER_REPLICATED, OFFLINE, AT_MIN_ISR, UNDER_MIN_ISR)
# Per partition, for the safe roll: the replicas a broker holds (its log sizes), and the state of
# the partitions it leads (Kafka reports these on the leader only; followers report 0).
LOG_SIZE = "kafka_log_log_size"
PARTITION_ISR = "kafka_cluster_partition_insyncreplicascount"
PARTITION_REPLICAS = "kafka_cluster_partition_replicascount"
PARTITION_UNDER_REPLICATED = "kafka_cluster_partition_underreplicated"
PARTITION_AT_MIN_ISR = "kafka_cluster_partition_atminisr"
PARTITION_UNDER_MIN_ISR = "kafka_cluster_partition_underminisr"

# Kafka's BrokerState values.
RUNNING = 3
BROKER_STATES = {0: "NOT_RUNNING", 1: "STARTING", 2: "RECOVERY", 3: "RUNNING",
                 6: "PENDING_CONTROLLED_SHUTDOWN", 7: "SHUTTING_DOWN", 127: "UNKNOWN"}


class BrokersStuck(GateStuck):
    """A broker stays in a state that does not clear without a change."""


def statefulset_name(cluster_name):
    return "%s-kafka" % cluster_name


def selector_for(cluster_name):
    """The label selector of a cluster's broker pods (instance + name, as the role sets them)."""
    return "app.kubernetes.io/instance=%s,app.kubernetes.io/name=kafka" % cluster_name


def expected_pods(cluster_name, replicas):
    return ["%s-%d" % (statefulset_name(cluster_name), ordinal) for ordinal in range(replicas)]


def broker_id(pod_name):
    """The broker.id of a StatefulSet pod: its ordinal (None when it has no ordinal)."""
    match = re.search(r"-([0-9]+)$", pod_name)
    return int(match.group(1)) if match else None


def state_name(value):
    if value is None:
        return None
    return BROKER_STATES.get(int(value), "state %d" % int(value))


def _count(value):
    return None if value is None else int(value)


def _blank_read():
    return {"answered": False, "broker_state": None, "active_controller": None, "under_replicated_partitions": None,
            "offline_partitions": None, "at_min_isr_partitions": None, "under_min_isr_partitions": None,
            "problem": None, "replicas": [], "leads": {}}


def partition_name(labels):
    return "%s-%s" % (labels.get("topic"), labels.get("partition"))


def _partitions(samples):
    """(the partitions this broker holds a replica of, the state of those it leads)."""
    held = sorted(set(partition_name(labels) for labels, _value in samples.series(LOG_SIZE)))
    leads = {}
    for labels, isr in samples.series(PARTITION_ISR):
        if isr < 1:
            continue  # a follower's view: only the leader counts the ISR
        name = partition_name(labels)
        flags = dict((key, bool(samples.total(metric, topic=labels.get("topic"), partition=labels.get("partition"))))
                     for key, metric in (("under_replicated", PARTITION_UNDER_REPLICATED), ("at_min_isr", PARTITION_AT_MIN_ISR),
                                         ("under_min_isr", PARTITION_UNDER_MIN_ISR)))
        replicas = samples.total(PARTITION_REPLICAS, topic=labels.get("topic"), partition=labels.get("partition"))
        leads[name] = dict(flags, isr=int(isr), replicas=None if replicas is None else int(replicas))
    return held, leads


def scrape(api, namespace, pod, read, port=DEFAULT_METRICS_PORT, path=DEFAULT_METRICS_PATH):
    """The pod's metrics through the pod proxy, or None with read's answered and problem set."""
    try:
        samples = metrics.read(api, namespace, pod, port, path)
    except ApiError as error:
        read["problem"] = "metrics on port %s do not answer: %s" % (port, short(str(error)))
        return None
    except metrics.MetricsError as error:
        read["answered"] = True
        read["problem"] = "metrics on port %s%s are not Prometheus text: %s" % (port, path, short(error.detail))
        return None
    read["answered"] = True
    return samples


def missing_problem(port, missing):
    return "metrics on port %s have no %s; the JMX exporter must run with the kafka role's rules" % (port, ", ".join(missing))


def broker_fields(read, samples, port=DEFAULT_METRICS_PORT, kraft=False):
    """Fill a broker's read from its samples. In KRaft mode the active controller count and the
    offline partitions live on the controllers, so a broker need not report them."""
    state = samples.total(BROKER_STATE)
    read["broker_state"] = _count(state)
    controller = samples.total(ACTIVE_CONTROLLER)
    read["active_controller"] = None if controller is None else controller >= 1
    read["under_replicated_partitions"] = _count(samples.total(UNDER_REPLICATED))
    read["offline_partitions"] = _count(samples.total(OFFLINE))
    read["at_min_isr_partitions"] = _count(samples.total(AT_MIN_ISR))
    read["under_min_isr_partitions"] = _count(samples.total(UNDER_MIN_ISR))
    read["replicas"], read["leads"] = _partitions(samples)
    required = ((BROKER_STATE, state),) + (() if kraft else ((ACTIVE_CONTROLLER, controller),)) + (
        (UNDER_REPLICATED, read["under_replicated_partitions"]),) + (() if kraft else ((OFFLINE, read["offline_partitions"]),))
    missing = [name for name, value in required if value is None]
    if state is not None and int(state) != RUNNING:
        read["problem"] = "broker state is %s (%d), not RUNNING (%d)" % (state_name(state), int(state), RUNNING)
    elif missing:
        read["problem"] = missing_problem(port, missing)
    return read


def read_broker(api, namespace, pod, port=DEFAULT_METRICS_PORT, path=DEFAULT_METRICS_PATH, kraft=False):
    """Read one broker's metrics through the pod proxy.

    Returns answered (the exporter replied at all), the gate's values (None when missing) and
    problem (None when the broker reports RUNNING with every value present).
    """
    read = _blank_read()
    samples = scrape(api, namespace, pod, read, port, path)
    if samples is not None:
        broker_fields(read, samples, port, kraft)
    return read


_READ_FIELDS = ("broker_state", "active_controller", "under_replicated_partitions", "offline_partitions",
                "at_min_isr_partitions", "under_min_isr_partitions")


def _broker(name, pod, read):
    broker = {"pod": name, "broker_id": broker_id(name)}
    for key in _READ_FIELDS:
        broker[key] = (read or {}).get(key) if pod is not None else None
    broker["broker_state_name"] = state_name(broker["broker_state"])
    broker["state"], broker["problem"] = member_state(pod, read)
    return broker


def evaluate_brokers(pods, reads, replicas, expected=None):
    """(names, brokers, problems): each broker's entry and the problems of its pod and read."""
    by_name = dict(((pod.get("metadata") or {}).get("name"), pod) for pod in pods)
    names = list(expected) if expected is not None else sorted(by_name)
    brokers = {}
    problems = []
    if expected is None and len(names) != replicas:
        problems.append("found %d Kafka pod(s) (%s), expected %d" % (len(names), ", ".join(names) or "none", replicas))
    for name in names:
        broker = _broker(name, by_name.get(name), reads.get(name))
        brokers[name] = broker
        if broker["problem"]:
            problems.append("pod %s: %s" % (name, broker["problem"]))
    return names, brokers, problems


def under_replicated_problems(names, brokers):
    return ["pod %s: %d under-replicated partition(s)" % (name, brokers[name]["under_replicated_partitions"])
            for name in names if brokers[name]["under_replicated_partitions"]]


def evaluate(pods, reads, replicas, expected=None):
    """Judge the cluster from the pods (dicts as the API returns them) and their metric reads.

    `expected` lists the pod names that must exist (the StatefulSet's); without it every pod
    given is a broker and there must be `replicas` of them. Returns a dict: ready, controller
    (pod name or None), brokers (pod name -> state), problems (each naming its pod), reason
    and stuck (the pods whose problem does not clear on its own).
    """
    names, brokers, problems = evaluate_brokers(pods, reads, replicas, expected)
    controller = single_active_controller(sorted(brokers), brokers, names, "broker", problems)
    for name in names:
        broker = brokers[name]
        if broker["under_replicated_partitions"]:
            problems.append("pod %s: %d under-replicated partition(s)" % (name, broker["under_replicated_partitions"]))
        if broker["offline_partitions"]:
            problems.append("pod %s%s: %d offline partition(s)" % (
                name, " (the active controller)" if broker["active_controller"] else "", broker["offline_partitions"]))
    return {"ready": not problems, "controller": controller, "brokers": brokers, "problems": problems,
            "reason": "; ".join(problems) or "ready", "stuck": stuck_pods(brokers)}


# Spelled out whole so that docs/troubleshooting.md can quote them (tests/unit/test_troubleshooting_doc.py).
NO_ACTIVE_CONTROLLER = {"broker": "no broker is the active controller",
                        "quorum node": "no quorum node is the active controller"}


def single_active_controller(candidates, members, names, noun, problems):
    """The one pod among `candidates` (in the order given) whose read reports being the active
    controller, or None, appending to `problems` why there is not exactly one. `noun` names the
    kind of member in the message ("broker", "quorum node")."""
    controllers = [name for name in candidates if members[name]["active_controller"]]
    if not controllers:
        answered = [name for name in names if members[name]["active_controller"] is not None]
        problems.append("%s (%s)" % (
            NO_ACTIVE_CONTROLLER[noun], "asked %s" % ", ".join(answered) if answered else "no %s answered" % noun))
    elif len(controllers) > 1:
        problems.append("pods %s all report being the active controller; expected exactly one" % ", ".join(controllers))
    return controllers[0] if len(controllers) == 1 else None


class BrokersGate(MembersGate):
    """Observe one Kafka cluster through the API; wait for it with a deadline."""

    stuck_error = BrokersStuck

    def __init__(self, api, namespace, replicas, selector, expected=None, port=DEFAULT_METRICS_PORT,
                 path=DEFAULT_METRICS_PATH, **kwargs):
        super(BrokersGate, self).__init__(api, namespace, replicas, selector, expected, **kwargs)
        self.port = port
        self.path = path

    def read_member(self, name):
        return read_broker(self.api, self.namespace, name, self.port, self.path)

    def evaluate(self, pods, reads):
        return evaluate(pods, reads, self.replicas, self.expected)


# Options of the modules that observe a Kafka cluster.
GATE_OPTIONS = dict(
    namespace=dict(type="str", required=True),
    cluster_name=dict(type="str"),
    selector=dict(type="str"),
    replicas=dict(type="int", required=True),
    metrics_port=dict(type="int", default=DEFAULT_METRICS_PORT),
    metrics_path=dict(type="str", default=DEFAULT_METRICS_PATH),
    stuck_grace=dict(type="int", default=60),
    metadata_mode=dict(type="str", default="zookeeper", choices=["zookeeper", "kraft"]),
    controller_replicas=dict(type="int", default=0),
    quorum_max_lag=dict(type="int", default=DEFAULT_QUORUM_MAX_LAG),
)


def gate_from_params(params, api):
    """The BrokersGate the kafka_ready options describe."""
    check_gate_params(params)
    if params["cluster_name"]:
        selector = selector_for(params["cluster_name"])
        expected = expected_pods(params["cluster_name"], params["replicas"])
    else:
        selector, expected = params["selector"], None
    return BrokersGate(api, params["namespace"], params["replicas"], selector, expected, port=params["metrics_port"],
                       path=params["metrics_path"], stuck_grace=params["stuck_grace"])
