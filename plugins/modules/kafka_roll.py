#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kafka_roll
short_description: Restart the outdated Kafka brokers safely, the active controller last, never below min.insync.replicas
version_added: 0.1.0
author: streams.kafka maintainers (@streams-kafka)
description:
  - The Kafka StatefulSet uses C(updateStrategy=OnDelete), so a change of its pod template
    (config hash, Secret hash, image, resources) marks pods outdated without Kubernetes
    restarting them. This module restarts them the way Strimzi's KafkaRoller does.
  - A pod is outdated when its C(controller-revision-hash) label is not the StatefulSet's
    C(status.updateRevision).
  - Outdated pods that are stuck (C(CrashLoopBackOff), C(ImagePullBackOff), Unschedulable, ...)
    are restarted first, without waiting, so a re-run with a fixed config repairs a broken one.
  - Then one broker at a time, brokers that are not the active controller first in broker id
    order, the controller last. A broker restarts only while every broker serves, there is one
    active controller, and no partition it holds is under-replicated or without a leader, read
    from every broker's per-partition metrics (C(kafka_log_log_size) for the replicas a broker
    holds; C(kafka_cluster_partition_insyncreplicascount), C(_replicascount),
    C(_underreplicated), C(_atminisr) and C(_underminisr) from each partition's leader).
    Restarting a broker whose partitions are all fully in sync leaves each with one replica
    fewer, which is at least C(min.insync.replicas) unless that is the replication factor.
  - Partitions whose C(min.insync.replicas) is at least their replication factor stall
    C(acks=all) producers whenever any replica restarts, in any order; like Strimzi, the roll
    does not wait for them and lists them in RV(notes).
  - With O(metadata_mode=kraft) and dedicated controllers (O(controller_replicas) above 0), the
    outdated controllers of StatefulSet C(<cluster_name>-kafka-controller) (also OnDelete) roll
    first, one at a time; stuck ones first, then the followers in ordinal order, the active
    controller (the quorum leader) last. A controller restarts only while the quorum has one
    leader and the voters other than it that are caught up (see M(streams.kafka.kafka_ready),
    O(quorum_max_lag)) are still a majority of all voters, C(n // 2 + 1) (Strimzi's
    KafkaQuorumCheck); with three voters and one follower behind, only that follower may
    restart. Each waits for the whole cluster's gate. Then the brokers roll under the rules
    above. A single controller restarts anyway, and is named in RV(notes).
  - In combined mode (O(metadata_mode=kraft), O(controller_replicas=0)) the brokers are the
    voters; the broker that is the active controller goes last, and the majority rule applies
    to each broker as well as the partition rules.
  - After each restart it waits until the pod is back on the new revision and the whole cluster
    passes the M(streams.kafka.kafka_ready) gate (every broker RUNNING, one controller, no
    under-replicated or offline partitions).
  - The live state is read again before every restart, so an interrupted roll resumes on the
    next run without restarting a broker twice.
  - Waits up to O(timeout) seconds for each step, then fails naming the broker and the
    partitions that block it.
  - Needs RBAC verbs C(get) on C(statefulsets), C(list) and C(delete) on C(pods), and C(get) on
    C(pods/proxy).
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - streams.kafka.kafka_gate
options:
  timeout:
    description: Seconds each step may wait (the cluster to allow the next restart, a restarted broker to be back).
    type: int
    default: 600
attributes:
  check_mode:
    support: full
    description:
      - Returns the pods that would restart, in order (KRaft controllers first, then brokers), in
        RV(planned); restarts none.
  diff_mode:
    support: none
    description: Nothing to compare; the change is the restarts it reports.
requirements:
  - kubernetes >= 24.2.0
  - prometheus_client
"""

EXAMPLES = r"""
- name: Restart the outdated brokers of prod-east
  streams.kafka.kafka_roll:
    namespace: kafka
    cluster_name: prod-east
    replicas: 3
    timeout: 900

- name: Restart the outdated controllers, then brokers, of a KRaft cluster
  streams.kafka.kafka_roll:
    namespace: kafka
    cluster_name: prod-east
    replicas: 3
    metadata_mode: kraft
    controller_replicas: 3
    timeout: 900
"""

RETURN = r"""
planned:
  description:
    - The outdated pods in the order they restart (stuck ones first, the controller last); in
      KRaft mode the controllers' pods, then the brokers'.
  returned: always
  type: list
  elements: str
  sample: ["prod-east-kafka-0", "prod-east-kafka-2", "prod-east-kafka-1"]
restarted:
  description: The pods restarted, in order, with how long each waited before and why.
  returned: always
  type: list
  elements: dict
  contains:
    pod:
      description: The pod.
      type: str
    waited_before:
      description: Seconds waited before the cluster allowed this restart.
      type: float
    waited_for:
      description: The reasons it waited, in order (the brokers and partitions, or the quorum, that blocked it).
      type: list
      elements: str
    restart_seconds:
      description: Seconds from deleting the pod to the cluster passing its gate again.
      type: float
notes:
  description:
    - Partitions the roll could not protect (C(min.insync.replicas) at least the replication
      factor), per broker; a single KRaft controller restarted although the quorum is down
      while it does.
  returned: always
  type: list
  elements: str
  sample: ["pod prod-east-kafka-1: partitions audit-0 have min.insync.replicas >= replicas; acks=all producers to them stall while it restarts"]
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.streams.kafka.plugins.module_utils import k8s_api, kafka, kafka_quorum, kafka_roll, metrics, roll


def main():
    module = k8s_api.k8s_module(dict(kafka.GATE_OPTIONS, timeout=dict(type="int", default=600)),
                                supports_check_mode=True, required_one_of=[("cluster_name", "selector")],
                                mutually_exclusive=[("cluster_name", "selector")])
    if not metrics.HAS_PROMETHEUS_CLIENT:
        module.fail_json(msg=missing_required_lib("prometheus_client"), exception=metrics.PROMETHEUS_CLIENT_IMPORT_ERROR)
    params = module.params
    if not params["cluster_name"]:
        module.fail_json(msg="kafka_roll needs cluster_name: the StatefulSet is <cluster_name>-kafka")

    def build():
        gate = kafka_quorum.gate_from_params(params, k8s_api.PodApi(module, request_timeout=10))
        brokers = roll.Roller(gate.api, params["namespace"], kafka.statefulset_name(params["cluster_name"]),
                              gate.selector, kafka_roll.RollPolicy(gate), params["timeout"])
        if params["metadata_mode"] != "kraft" or not params["controller_replicas"]:
            return brokers
        controllers = roll.Roller(gate.api, params["namespace"], kafka_quorum.controller_statefulset_name(params["cluster_name"]),
                                  gate.voter_selector, kafka_roll.ControllerRollPolicy(gate), params["timeout"])
        return [controllers, brokers]

    roll.run_module(module, "Kafka roll of %s in %s" % (params["cluster_name"], params["namespace"]), build)


if __name__ == "__main__":
    main()
