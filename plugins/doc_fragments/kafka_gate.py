# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Options of the modules that observe a Kafka cluster (kafka_ready, kafka_roll)."""

    DOCUMENTATION = r"""
options:
  namespace:
    description: Namespace of the brokers.
    type: str
    required: true
  cluster_name:
    description:
      - The C(streams_cluster_name) the brokers were deployed with. Their pods are
        C(<cluster_name>-kafka-0) to C(<cluster_name>-kafka-<replicas-1>), selected by
        C(app.kubernetes.io/instance=<cluster_name>,app.kubernetes.io/name=kafka); a missing pod
        is reported by name.
      - Exactly one of O(cluster_name) and O(selector) is required.
    type: str
  selector:
    description:
      - A label selector of the broker pods, for clusters not deployed by this collection (their
        exporter must produce the metric names M(streams.kafka.kafka_ready) documents). Every pod
        it selects is a broker, and there must be O(replicas) of them.
    type: str
  replicas:
    description: Number of brokers the cluster must have.
    type: int
    required: true
  metrics_port:
    description: Port of the brokers' Prometheus JMX exporter agent.
    type: int
    default: 9404
  metrics_path:
    description: Path of the metrics on O(metrics_port).
    type: str
    default: /metrics
  metadata_mode:
    description:
      - How the cluster keeps its metadata, as C(streams_metadata_mode) says.
      - V(zookeeper) judges the brokers alone, one of them the active controller.
      - V(kraft) judges the brokers (RUNNING, no under-replicated partitions) and the KRaft
        metadata quorum (the voters of O(controller_replicas)), which needs exactly one leader, every voter
        naming it, every voter caught up (O(quorum_max_lag)), one active controller and no
        offline partitions on it.
    type: str
    choices: [zookeeper, kraft]
    default: zookeeper
  controller_replicas:
    description:
      - With O(metadata_mode=kraft), the number of dedicated controllers, pods
        C(<cluster_name>-kafka-controller-0) to C(<cluster_name>-kafka-controller-<controller_replicas-1>)
        selected by C(app.kubernetes.io/instance=<cluster_name>,app.kubernetes.io/name=kafka-controller),
        node.id C(1000) + ordinal. They need O(cluster_name).
      - V(0) means combined mode, where every broker pod is also a voter (node.id = ordinal).
      - Ignored with O(metadata_mode=zookeeper).
    type: int
    default: 0
  quorum_max_lag:
    description:
      - With O(metadata_mode=kraft), how many records a voter's log end offset
        (C(kafka_server_raftmetrics_log_end_offset)) may trail the quorum leader's high
        watermark (C(kafka_server_raftmetrics_high_watermark), read first) and still count as
        caught up.
      - The active controller appends a no-op record to the metadata log every 500 ms
        (C(metadata.max.idle.interval.ms)) and a follower fetches continuously, so a healthy
        follower trails by at most the records of its last fetch. One that stopped fetching
        falls behind by two records a second from the no-op records alone, so the default 50
        counts it behind after about 25 seconds; one that restarted is behind by everything it
        missed until it has fetched it. A burst of metadata (a topic with many partitions
        created) can put a healthy follower briefly behind; the gate then looks again.
    type: int
    default: 50
  stuck_grace:
    description:
      - Seconds a pod may stay stuck (C(CrashLoopBackOff), C(ImagePullBackOff),
        C(CreateContainerConfigError), Unschedulable) before the wait ends early with a failure.
      - V(0) fails at the first sight of a stuck pod; a value of O(timeout) or more waits it out.
    type: int
    default: 60
"""
