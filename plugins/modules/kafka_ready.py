#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kafka_ready
short_description: Wait until the Kafka brokers on Kubernetes run, with one controller and every partition in sync
version_added: 0.1.0
author: streams.kafka maintainers (@streams-kafka)
description:
  - The readiness gate of the C(streams.kafka.kafka) role, usable on its own.
  - Lists the brokers' pods and reads each broker's Prometheus metrics (the JMX exporter agent,
    port 9404) through the API server's pod proxy
    (C(GET /api/v1/namespaces/NS/pods/POD:9404/proxy/metrics)), so it works from wherever the
    Kubernetes API is reachable, without access to the pod network. The text is parsed with
    C(prometheus_client)'s parser.
  - The cluster is ready when every broker's pod is Running and Ready and its metrics answer with
    C(kafka_server_kafkaserver_brokerstate) 3 (RUNNING); the
    C(kafka_controller_kafkacontroller_activecontrollercount) summed over the brokers is 1; and
    no broker reports C(kafka_server_replicamanager_underreplicatedpartitions) or
    C(kafka_controller_kafkacontroller_offlinepartitionscount) above 0.
  - With O(metadata_mode=kraft) the brokers need only be RUNNING with no under-replicated
    partitions (in KRaft the active controller count and the offline partitions live on the
    controllers), and the metadata quorum is judged from each voter's raft metrics
    (C(kafka_server_raftmetrics_current_state), C(_current_leader), C(_high_watermark),
    C(_log_end_offset)). The voters are the dedicated controllers (O(controller_replicas) pods
    C(<cluster_name>-kafka-controller-N)) or, with O(controller_replicas=0), the broker pods
    themselves. Every voter must answer; exactly one reports C(current_state) leader; every
    voter names that node as C(current_leader); every voter's log end offset is at least the
    leader's high watermark minus O(quorum_max_lag) (the leader is read first); the
    C(kafka_controller_kafkacontroller_activecontrollercount) summed over the voters is 1; and
    the active controller reports no offline partitions.
  - Polls with a backoff of up to one second until the cluster is ready or O(timeout) passes,
    then fails naming each broker pod that is not ready and why (container waiting reason such as
    C(CrashLoopBackOff) or C(ImagePullBackOff), Unschedulable, readiness probe failing, metrics
    not answering, broker state, no or several active controllers, under-replicated or offline
    partitions).
  - Gives up before O(timeout) when a pod stays for O(stuck_grace) seconds in a state that does
    not clear without a change (C(CrashLoopBackOff), C(ImagePullBackOff),
    C(CreateContainerConfigError), Unschedulable).
  - Connects as M(kubernetes.core.k8s) does, and belongs to the C(streams.kafka.k8s) action
    group, so C(module_defaults) of C(group/streams.kafka.k8s) set its connection.
  - Needs RBAC verbs C(list) on C(pods) and C(get) on C(pods/proxy) in O(namespace).
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - streams.kafka.kafka_gate
options:
  timeout:
    description: Seconds to wait for the cluster to become ready.
    type: int
    default: 300
attributes:
  check_mode:
    support: full
    description:
      - Looks once and reports the state in RV(ready), RV(brokers) and RV(controller), without
        waiting and without failing when the cluster is not ready, because in check mode the
        objects were only dry-run. It still fails when the API cannot be read.
  diff_mode:
    support: none
    description: It reads only; there is nothing to compare.
requirements:
  - kubernetes >= 24.2.0
  - prometheus_client
notes:
  - In KRaft mode the controller pods need RBAC verb C(get) on C(pods/proxy) as the brokers do,
    and their exporter must run with the kafka role's rules (which name the raft metrics).
  - The offline partition count is reported by the active controller only; under-replicated
    partitions are reported by the leader of each partition, so a broker that is down shows up
    as under-replicated partitions on the others.
"""

EXAMPLES = r"""
- name: Wait for the Kafka brokers of cluster prod-east
  streams.kafka.kafka_ready:
    namespace: kafka
    cluster_name: prod-east
    replicas: 3
    timeout: 600

- name: Look at the brokers without waiting
  streams.kafka.kafka_ready:
    context: prod
    namespace: kafka
    cluster_name: prod-east
    replicas: 3
    timeout: 0
  check_mode: true
  register: kafka

- name: Wait for a KRaft cluster with three dedicated controllers
  streams.kafka.kafka_ready:
    namespace: kafka
    cluster_name: prod-east
    replicas: 3
    metadata_mode: kraft
    controller_replicas: 3
    quorum_max_lag: 50
  register: kafka

- name: Show the quorum leader
  ansible.builtin.debug:
    msg: "{{ kafka.quorum.leader }} leads the metadata quorum; {{ kafka.controller }} is the active controller"

- name: Show the controller
  ansible.builtin.debug:
    msg: "{{ kafka.controller }} is the active controller; ready={{ kafka.ready }}"
"""

RETURN = r"""
ready:
  description: Whether the cluster passed the gate.
  returned: always
  type: bool
  sample: true
controller:
  description:
    - Name of the pod of the active controller, when exactly one broker is (ZooKeeper mode), or
      exactly one voter of the quorum is (KRaft mode).
  returned: always
  type: str
  sample: prod-east-kafka-0
brokers:
  description: State of each broker, by pod name.
  returned: always
  type: dict
  contains:
    pod:
      description: The pod name.
      type: str
    broker_id:
      description: The broker's C(broker.id) (the pod ordinal).
      type: int
    state:
      description:
        - V(serving), V(not_serving) (its metrics answer but the broker is not RUNNING or lacks
          a metric), V(unreachable) (the metrics do not answer), V(pod_not_ready) (the pod is
          not Running and Ready) or V(missing) (the pod does not exist).
      type: str
    broker_state:
      description: The broker's C(kafka_server_kafkaserver_brokerstate), when it answered.
      type: int
    broker_state_name:
      description: Kafka's name of that state (V(RUNNING), V(RECOVERY), V(STARTING), ...).
      type: str
    active_controller:
      description: Whether the broker is the active controller; null when it did not answer.
      type: bool
    under_replicated_partitions:
      description: Partitions this broker leads that have fewer in-sync replicas than replicas.
      type: int
    offline_partitions:
      description: Partitions without a leader (reported by the active controller).
      type: int
    at_min_isr_partitions:
      description: Partitions this broker leads whose in-sync replicas are exactly C(min.insync.replicas).
      type: int
    under_min_isr_partitions:
      description: Partitions this broker leads whose in-sync replicas are below C(min.insync.replicas).
      type: int
    problem:
      description: Why the broker is not ready; null when it is.
      type: str
  sample:
    prod-east-kafka-0:
      pod: prod-east-kafka-0
      broker_id: 0
      state: serving
      broker_state: 3
      broker_state_name: RUNNING
      active_controller: true
      under_replicated_partitions: 0
      offline_partitions: 0
      at_min_isr_partitions: 0
      under_min_isr_partitions: 0
      problem: null
waited:
  description: Seconds the module waited.
  returned: always
  type: float
  sample: 4.2
quorum:
  description: The KRaft metadata quorum, as its voters report it.
  returned: when metadata_mode is kraft
  type: dict
  contains:
    leader:
      description: The pod that reports C(current_state) leader, when exactly one does.
      type: str
    leader_node_id:
      description: Its node.id.
      type: int
    epoch:
      description: The leader's epoch.
      type: int
    high_watermark:
      description: The leader's high watermark, which the voters' log end offsets are compared with.
      type: int
    max_lag:
      description: The O(quorum_max_lag) it was judged with.
      type: int
    voters:
      description:
        - Each voter by pod name, with C(node_id), C(state) (its raft C(current_state), one of
          V(leader), V(follower), V(candidate), V(voted), V(unattached), V(resigned); null when
          it did not answer), C(current_leader) (the node.id it names as leader),
          C(log_end_offset), C(lag) (how far its log end offset trails the leader's high
          watermark), C(caught_up) and C(problem).
      type: dict
  sample:
    leader: prod-east-kafka-controller-0
    leader_node_id: 1000
    epoch: 7
    high_watermark: 5121
    max_lag: 50
    voters:
      prod-east-kafka-controller-1:
        node_id: 1001
        state: follower
        current_leader: 1000
        log_end_offset: 5121
        lag: 0
        caught_up: true
        problem: null
reason:
  description: Why the cluster is not ready, naming each broker pod concerned; V(ready) when it is.
  returned: always
  type: str
  sample: "pod prod-east-kafka-2: 4 under-replicated partition(s)"
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.streams.kafka.plugins.module_utils import k8s_api, kafka, kafka_quorum, metrics, readiness

OPTIONS = dict(kafka.GATE_OPTIONS, timeout=dict(type="int", default=300))


def _state(report, waited, kraft=False):
    report = report or {"ready": False, "controller": None, "brokers": {}, "reason": "not observed"}
    state = dict(ready=report["ready"], controller=report["controller"], brokers=report["brokers"],
                 reason=report["reason"], waited=round(waited, 1))
    if kraft:
        state["quorum"] = kafka_quorum.public_quorum(report.get("quorum"))
    return state


def main():
    module = k8s_api.k8s_module(OPTIONS, **readiness.GATE_MODULE_KWARGS)
    if not metrics.HAS_PROMETHEUS_CLIENT:
        module.fail_json(msg=missing_required_lib("prometheus_client"), exception=metrics.PROMETHEUS_CLIENT_IMPORT_ERROR)
    params = module.params
    readiness.run_gate(module, lambda: kafka_quorum.gate_from_params(params, k8s_api.PodApi(module, request_timeout=5)),
                       readiness.describe(params, "Kafka cluster"),
                       lambda report, waited: _state(report, waited, params["metadata_mode"] == "kraft"))


if __name__ == "__main__":
    main()
