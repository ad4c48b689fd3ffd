# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Options of the modules that observe a Kafka cluster (kafka_ready, kafka_roll, kafka_scale_check)."""

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
  stuck_grace:
    description:
      - Seconds a pod may stay stuck (C(CrashLoopBackOff), C(ImagePullBackOff),
        C(CreateContainerConfigError), Unschedulable) before the wait ends early with a failure.
      - V(0) fails at the first sight of a stuck pod; a value of O(timeout) or more waits it out.
    type: int
    default: 60
"""
