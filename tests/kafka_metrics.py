"""Kafka broker metrics as the JMX exporter agent serves them with the kafka role's rules.

``broker_metrics`` writes the Prometheus text of one broker, ``controller_metrics`` that of a
KRaft controller (or, with ``broker=``, of a combined broker-controller); ``metrics_handler``,
``serve_metrics`` and ``serve_quorum`` answer kubesim's pod proxy with them, for the kafka_ready
gate in tests.
"""

# (metric, JMX bean) of the gate's metrics, as the role's rules name them.
GATE_BEANS = {
    "kafka_server_kafkaserver_brokerstate": "kafka.server:name=BrokerState,type=KafkaServer",
    "kafka_controller_kafkacontroller_activecontrollercount": "kafka.controller:name=ActiveControllerCount,type=KafkaController",
    "kafka_controller_kafkacontroller_offlinepartitionscount": "kafka.controller:name=OfflinePartitionsCount,type=KafkaController",
    "kafka_server_replicamanager_underreplicatedpartitions": "kafka.server:name=UnderReplicatedPartitions,type=ReplicaManager",
    "kafka_server_replicamanager_atminisrpartitioncount": "kafka.server:name=AtMinIsrPartitionCount,type=ReplicaManager",
    "kafka_server_replicamanager_underminisrpartitioncount": "kafka.server:name=UnderMinIsrPartitionCount,type=ReplicaManager",
}


PARTITION_FLAGS = ("underreplicated", "atminisr", "underminisr")


def partition_lines(held=(), leads=None):
    """Per-partition lines as the role's rules name them (with the agent's trailing commas).

    ``held`` names the partitions ("topic-N") this broker has a replica of; ``leads`` maps the
    partitions it leads to their state: isr, replicas and the flags of PARTITION_FLAGS (0/1).
    """
    lines = []

    def labels(partition):
        topic, number = partition.rsplit("-", 1)
        return '{topic="%s",partition="%s",}' % (topic, number)

    if held:
        lines += ["# TYPE kafka_log_log_size gauge"] + ["kafka_log_log_size%s 1024.0" % labels(p) for p in held]
    for metric in ("insyncreplicascount", "replicascount") + PARTITION_FLAGS:
        rows = []
        for partition, state in sorted((leads or {}).items()):
            value = {"insyncreplicascount": state.get("isr", 3), "replicascount": state.get("replicas", 3)}.get(metric, state.get(metric, 0))
            rows.append("kafka_cluster_partition_%s%s %.1f" % (metric, labels(partition), value))
        if rows:
            lines += ["# TYPE kafka_cluster_partition_%s gauge" % metric] + rows
    return lines


def spread_partitions(topic, partitions, brokers, replicas=3):
    """(held, leads) per broker ordinal for `partitions` of `topic`, replicas placed round robin,
    each led by its first replica, all in sync."""
    held = dict((b, []) for b in range(brokers))
    leads = dict((b, {}) for b in range(brokers))
    for number in range(partitions):
        name = "%s-%d" % (topic, number)
        placed = [(number + k) % brokers for k in range(min(replicas, brokers))]
        for broker in placed:
            held[broker].append(name)
        leads[placed[0]][name] = {"isr": len(placed), "replicas": len(placed)}
    return held, leads


def broker_metrics(state=3, controller=False, under_replicated=0, offline=0, at_min_isr=0, under_min_isr=0, leave_out=(),
                   held=(), leads=None):
    """The /metrics text of one broker (with a few JVM metrics around, as the agent adds them)."""
    values = {
        "kafka_server_kafkaserver_brokerstate": state,
        "kafka_controller_kafkacontroller_activecontrollercount": 1 if controller else 0,
        "kafka_controller_kafkacontroller_offlinepartitionscount": offline,
        "kafka_server_replicamanager_underreplicatedpartitions": under_replicated,
        "kafka_server_replicamanager_atminisrpartitioncount": at_min_isr,
        "kafka_server_replicamanager_underminisrpartitioncount": under_min_isr,
    }
    lines = ["# HELP jvm_threads_current Current thread count of a JVM", "# TYPE jvm_threads_current gauge",
             "jvm_threads_current 87.0"]
    for name, value in values.items():
        if name in leave_out:
            continue
        lines += ["# HELP %s Attribute exposed for management %s,attribute=Value" % (name, GATE_BEANS[name]),
                  "# TYPE %s gauge" % name, "%s %.1f" % (name, value)]
    lines += partition_lines(held, leads)
    lines += ["# HELP jmx_scrape_duration_seconds Time this JMX scrape took, in seconds.",
              "# TYPE jmx_scrape_duration_seconds gauge", "jmx_scrape_duration_seconds 0.052"]
    return "\n".join(lines) + "\n"


def metrics_handler(text_of):
    """A kubesim proxy handler serving ``text_of()`` at /metrics (a callable, so tests can change it)."""

    def handler(method, path, _query, _body):
        if method != "GET":
            return 405, {}, b""
        if path != "/metrics":
            return 404, {}, b"not found"
        return 200, {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}, text_of().encode()

    return handler


def serve_metrics(kubesim, namespace, cluster="dev", replicas=3, controller=0, brokers=None):
    """Route every broker's metrics port; ``brokers`` maps an ordinal to broker_metrics() arguments.

    Returns the arguments per ordinal; changing them changes what the next scrape answers.
    """
    state = {ordinal: dict({"controller": ordinal == controller}, **(brokers or {}).get(ordinal, {})) for ordinal in range(replicas)}
    for ordinal in range(replicas):
        kubesim.route_proxy_handler(namespace, "%s-kafka-%d" % (cluster, ordinal), 9404,
                                    metrics_handler(lambda ordinal=ordinal: broker_metrics(**state[ordinal])))
    return state


RAFT_BEAN = "kafka.server:type=raft-metrics"
CONTROLLER_NODE_ID_BASE = 1000


def raft_lines(state="follower", leader=CONTROLLER_NODE_ID_BASE, epoch=5, high_watermark=1000, log_end_offset=None,
               leave_out=()):
    """The raft metrics lines as the role's rules name them (current-state: the state as a label, value 1)."""
    values = {
        "kafka_server_raftmetrics_current_leader": -1 if leader is None else leader,
        "kafka_server_raftmetrics_current_epoch": epoch,
        "kafka_server_raftmetrics_high_watermark": high_watermark,
        "kafka_server_raftmetrics_log_end_offset": high_watermark if log_end_offset is None else log_end_offset,
    }
    lines = []
    if "kafka_server_raftmetrics_current_state" not in leave_out and state is not None:
        lines += ["# HELP kafka_server_raftmetrics_current_state The current state of this member; possible values are "
                  "leader, candidate, voted, follower, unattached, observer (%s,attribute=current-state)" % RAFT_BEAN,
                  "# TYPE kafka_server_raftmetrics_current_state untyped",
                  'kafka_server_raftmetrics_current_state{current_state="%s",} 1.0' % state]
    for name, value in values.items():
        if name in leave_out:
            continue
        lines += ["# HELP %s %s,attribute=%s" % (name, RAFT_BEAN, name.rsplit("_raftmetrics_", 1)[1].replace("_", "-")),
                  "# TYPE %s gauge" % name, "%s %.1f" % (name, value)]
    return lines


def controller_metrics(state="follower", leader=CONTROLLER_NODE_ID_BASE, epoch=5, high_watermark=1000, log_end_offset=None,
                       controller=False, offline=0, zk_migration_state=None, leave_out=(), broker=None):
    """The /metrics text of a KRaft controller: raft metrics, active controller count, offline
    partitions and (optionally) the ZK migration state. `leader` is the node.id it names (None:
    no leader known); `broker` (broker_metrics() arguments) makes it a combined broker-controller."""
    if broker is not None:
        text = broker_metrics(controller=controller, offline=offline, leave_out=leave_out, **broker)
        lines = text.rstrip("\n").split("\n")
    else:
        lines = ["# HELP jvm_threads_current Current thread count of a JVM", "# TYPE jvm_threads_current gauge",
                 "jvm_threads_current 61.0"]
        for name, value in (("kafka_controller_kafkacontroller_activecontrollercount", 1 if controller else 0),
                            ("kafka_controller_kafkacontroller_offlinepartitionscount", offline)):
            if name not in leave_out:
                lines += ["# HELP %s Attribute exposed for management %s,attribute=Value" % (name, GATE_BEANS[name]),
                          "# TYPE %s gauge" % name, "%s %.1f" % (name, value)]
    lines += raft_lines(state, leader, epoch, high_watermark, log_end_offset, leave_out)
    if zk_migration_state is not None:
        lines += ["# HELP kafka_controller_kafkacontroller_zkmigrationstate Attribute exposed for management "
                  "kafka.controller:name=ZkMigrationState,type=KafkaController,attribute=Value",
                  "# TYPE kafka_controller_kafkacontroller_zkmigrationstate gauge",
                  "kafka_controller_kafkacontroller_zkmigrationstate %.1f" % zk_migration_state]
    return "\n".join(lines) + "\n"


def quorum_state(replicas=3, leader=0, node_id_base=CONTROLLER_NODE_ID_BASE, voters=None):
    """controller_metrics() arguments per ordinal of a healthy quorum led by ordinal `leader`
    (None: no leader), changed per ordinal by `voters` (ordinal -> arguments)."""
    leader_id = None if leader is None else node_id_base + leader
    return {ordinal: dict({"state": "leader" if ordinal == leader else ("follower" if leader is not None else "unattached"),
                           "leader": leader_id, "controller": ordinal == leader}, **(voters or {}).get(ordinal, {}))
            for ordinal in range(replicas)}


def serve_quorum(kubesim, namespace, cluster="dev", replicas=3, leader=0, voters=None):
    """Route every dedicated controller's metrics port (pods <cluster>-kafka-controller-N, node.id
    1000+N), a healthy quorum led by ordinal `leader`; ``voters`` maps an ordinal to
    controller_metrics() arguments. Returns the arguments per ordinal; changing them changes what
    the next scrape answers."""
    state = quorum_state(replicas, leader, voters=voters)
    for ordinal in range(replicas):
        kubesim.route_proxy_handler(namespace, "%s-kafka-controller-%d" % (cluster, ordinal), 9404,
                                    metrics_handler(lambda ordinal=ordinal: controller_metrics(**state[ordinal])))
    return state
