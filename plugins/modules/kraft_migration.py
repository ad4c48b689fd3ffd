#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kraft_migration
short_description: Read, record and wait for the phases of a Kafka cluster's ZooKeeper to KRaft migration
version_added: 0.1.0
author: streams.kafka maintainers (@streams-kafka)
description:
  - The phase machine of the ZooKeeper to KRaft migration of a Kafka 3.9 cluster, following Kafka's
    documented procedure. The phases, in order, are V(controllers) (KRaft controllers deployed in
    migration mode, their quorum ready), V(brokers-migrating) (brokers rolled with migration enabled,
    ZooKeeper's metadata copied), V(brokers-kraft) (brokers rolled into KRaft mode),
    V(controllers-kraft) (controllers rolled out of migration mode; the point of no return) and
    V(zookeeper-removed) (ZooKeeper's objects deleted).
  - The last phase completed is recorded in the annotation C(streams.kafka/kraft-migration) on the
    brokers' StatefulSet C(<cluster_name>-kafka); absent, the migration has not started. A run that
    stopped continues from there.
  - O(state=query) reports the recorded phase, the next one, whether the cluster can still go back to
    ZooKeeper (only before V(controllers-kraft)) and how, and the remaining plan.
  - O(state=record) records a phase, only the next one (changed) or the recorded one again (not
    changed). Skipping a phase, or going back, is refused with a message naming the recorded phase,
    the requested one and the one that must come first. The annotation is written with a JSON merge
    patch under its own field manager, with the StatefulSet's C(resourceVersion) as a precondition, so
    the roles' applies keep it and two runs cannot both advance the same phase.
  - O(state=revert) records that O(phase) was undone, going back to ZooKeeper; the annotation becomes
    the phase before it (V(brokers-kraft) reverts to V(brokers-migrating); V(brokers-migrating) and
    V(controllers) remove it). Changed only when O(phase) is the recorded phase, not changed when it is
    undone already. A phase from V(controllers-kraft) on cannot be undone, and a later phase still
    recorded must be undone first; both are refused naming the phases. Written as O(state=record) writes.
  - O(state=wait_migrated) reads the metrics of the dedicated controllers
    C(<cluster_name>-kafka-controller-N) (JMX exporter, O(metrics_port)) through the API server's pod
    proxy, finds the active one (C(kafka_controller_kafkacontroller_activecontrollercount) 1) and waits
    until its C(kafka_controller_kafkacontroller_zkmigrationstate) is MIGRATION (1) or
    POST_MIGRATION (3). Kafka reaches POST_MIGRATION only from MIGRATION, so both mean ZooKeeper's
    metadata has been copied; RV(finalized) tells them apart. NONE (0), PRE_MIGRATION (2) and ZK (4)
    keep it waiting, and the failure after O(timeout) names the pod and the state.
  - Connects as M(kubernetes.core.k8s) does, and belongs to the C(streams.kafka.k8s) action group.
  - Needs RBAC verbs C(get) and C(patch) on C(statefulsets) (C(patch) only for O(state=record) and O(state=revert)), and
    C(list) on C(pods) and C(get) on C(pods/proxy) for O(state=wait_migrated), in O(namespace).
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  namespace:
    description: The namespace of the Kafka cluster.
    type: str
    required: true
  cluster_name:
    description: The cluster's name; its brokers' StatefulSet is C(<cluster_name>-kafka).
    type: str
    required: true
  state:
    description:
      - V(query) reports where the migration stands; V(record) records O(phase) as completed;
        V(revert) records O(phase) as undone; V(wait_migrated) waits until the KRaft controllers have
        copied ZooKeeper's metadata.
    type: str
    choices: [query, record, revert, wait_migrated]
    default: query
  phase:
    description: With O(state=record), the phase completed; with O(state=revert), the phase undone.
    type: str
    choices: [controllers, brokers-migrating, brokers-kraft, controllers-kraft, zookeeper-removed]
  controller_replicas:
    description: With O(state=wait_migrated), the number of dedicated KRaft controllers.
    type: int
    default: 3
  finalized:
    description:
      - With O(state=wait_migrated), wait for POST_MIGRATION (3) only, the state the active controller
        writes once the controllers run without migration mode (phase V(controllers-kraft)); MIGRATION
        then keeps it waiting.
    type: bool
    default: false
  metrics_port:
    description: The controllers' Prometheus metrics port (the JMX exporter agent).
    type: int
    default: 9404
  timeout:
    description: With O(state=wait_migrated), seconds to wait.
    type: int
    default: 300
  stuck_grace:
    description:
      - With O(state=wait_migrated), give up before O(timeout) when a controller pod stays this many
        seconds in a state that does not clear without a change (C(CrashLoopBackOff),
        C(ImagePullBackOff), Unschedulable).
    type: int
    default: 60
attributes:
  check_mode:
    support: full
    description:
      - O(state=record) and O(state=revert) write nothing and report C(changed) and RV(phase) as they would record them.
      - O(state=wait_migrated) reads the controllers once and reports, without waiting and without
        failing when the migration is not done.
  diff_mode:
    support: full
    description: O(state=record) and O(state=revert) show the annotation before and after.
requirements:
  - kubernetes >= 24.2.0
  - prometheus_client
notes:
  - C(playbooks/migrate_to_kraft.yml) runs the migration with this module, which records each phase once
    its gate passed and continues from the recorded one. See C(docs/kraft-migration.md).
seealso:
  - name: ZooKeeper to KRaft Migration (Kafka 3.9)
    description: Kafka's procedure, and how to revert to ZooKeeper during the migration.
    link: https://kafka.apache.org/39/documentation.html#kraft_zk_migration
"""

EXAMPLES = r"""
- name: Where does the migration of prod-east stand?
  streams.kafka.kraft_migration:
    namespace: kafka
    cluster_name: prod-east
  register: migration

- name: Show the plan
  ansible.builtin.debug:
    msg: "at {{ migration.phase | default('start', true) }}, next {{ migration.next_phase }}; rollback possible: {{ migration.rollback_possible }}"

- name: Wait until the controllers have copied ZooKeeper's metadata
  streams.kafka.kraft_migration:
    namespace: kafka
    cluster_name: prod-east
    state: wait_migrated
    controller_replicas: 3
    timeout: 900

- name: After the controllers' roll out of migration mode, wait until the migration is finalized
  streams.kafka.kraft_migration:
    namespace: kafka
    cluster_name: prod-east
    state: wait_migrated
    finalized: true
    controller_replicas: 3
    timeout: 300

- name: Going back to ZooKeeper, record that the brokers left KRaft mode (phase brokers-kraft undone)
  streams.kafka.kraft_migration:
    namespace: kafka
    cluster_name: prod-east
    state: revert
    phase: brokers-kraft

- name: Record that the brokers run with migration enabled and the metadata is copied
  streams.kafka.kraft_migration:
    namespace: kafka
    cluster_name: prod-east
    state: record
    phase: brokers-migrating
"""

RETURN = r"""
statefulset:
  description: The brokers' StatefulSet that carries the annotation.
  returned: state is query, record or revert
  type: str
  sample: prod-east-kafka
phase:
  description:
    - The last phase completed (with O(state=record), the one recorded; in check mode, the one it would record).
    - Null when the migration has not started.
  returned: state is query, record or revert
  type: str
  sample: brokers-migrating
previous_phase:
  description: The phase recorded before this run.
  returned: state is record or revert
  type: str
  sample: controllers
next_phase:
  description: The phase that comes next; null when the migration is complete.
  returned: state is query, record or revert
  type: str
  sample: brokers-kraft
complete:
  description: Whether every phase is done.
  returned: state is query, record or revert
  type: bool
  sample: false
metadata_mode:
  description: The StatefulSet's C(streams.kafka/metadata-mode) annotation (V(zookeeper) when absent).
  returned: state is query, record or revert
  type: str
  sample: zookeeper
rollback_possible:
  description:
    - Whether the cluster can still go back to ZooKeeper mode. With O(state=query) and O(state=record), from the recorded
      phase (true before V(controllers-kraft)); with O(state=wait_migrated), false when the active controller reports
      POST_MIGRATION.
  returned: always
  type: bool
  sample: true
rollback:
  description: The steps back to ZooKeeper from the recorded phase (Kafka's revert directions); empty when there is nothing to undo or no way back.
  returned: state is query, record or revert
  type: list
  elements: str
  sample:
    - "delete the KRaft controllers: StatefulSet prod-east-kafka-controller, ..."
plan:
  description: The remaining phases, in order.
  returned: state is query, record or revert
  type: list
  elements: dict
  contains:
    phase:
      description: The phase.
      type: str
    action:
      description: What the phase does.
      type: str
    waits_for:
      description: What completes it.
      type: str
    rollback_possible_after:
      description: Whether going back to ZooKeeper is still possible once it is recorded.
      type: bool
  sample:
    - phase: brokers-kraft
      action: roll the brokers into KRaft mode (process.roles=broker, node.id, no zookeeper.connect)
      waits_for: every broker RUNNING with no under-replicated partitions
      rollback_possible_after: true
migrated:
  description: Whether the active controller reports MIGRATION (1) or POST_MIGRATION (3).
  returned: state is wait_migrated
  type: bool
  sample: true
finalized:
  description: Whether it reports POST_MIGRATION (3), the migration finalized.
  returned: state is wait_migrated
  type: bool
  sample: false
active_controller:
  description: The pod of the active controller, when exactly one controller is active.
  returned: state is wait_migrated
  type: str
  sample: prod-east-kafka-controller-1
migration_state:
  description: The active controller's C(kafka_controller_kafkacontroller_zkmigrationstate).
  returned: state is wait_migrated
  type: int
  sample: 1
migration_state_name:
  description: Kafka's name of that state (V(NONE), V(MIGRATION), V(PRE_MIGRATION), V(POST_MIGRATION), V(ZK)).
  returned: state is wait_migrated
  type: str
  sample: MIGRATION
controllers:
  description: Each controller, by pod name.
  returned: state is wait_migrated
  type: dict
  contains:
    pod:
      description: The pod name.
      type: str
    state:
      description: V(serving), V(not_serving), V(unreachable), V(pod_not_ready) or V(missing).
      type: str
    active:
      description: Whether it is the active controller; null when it did not answer.
      type: bool
    migration_state:
      description: Its C(kafka_controller_kafkacontroller_zkmigrationstate), when it reports one.
      type: int
    migration_state_name:
      description: Kafka's name of that state.
      type: str
    problem:
      description: Why it could not be read; null when it was.
      type: str
reason:
  description: Why the migration is not done yet, naming the pods; or the state reported when it is.
  returned: state is wait_migrated
  type: str
  sample: "active controller prod-east-kafka-controller-0 reports PRE_MIGRATION (2): the controllers wait for every broker to register with migration enabled"
waited:
  description: Seconds the module waited.
  returned: state is wait_migrated
  type: float
  sample: 12.4
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.streams.kafka.plugins.module_utils import k8s_api, kraft_migration, metrics

OPTIONS = dict(
    namespace=dict(type="str", required=True),
    cluster_name=dict(type="str", required=True),
    state=dict(type="str", choices=["query", "record", "revert", "wait_migrated"], default="query"),
    phase=dict(type="str", choices=list(kraft_migration.PHASES)),
    controller_replicas=dict(type="int", default=3),
    finalized=dict(type="bool", default=False),
    metrics_port=dict(type="int", default=9404),
    timeout=dict(type="int", default=300),
    stuck_grace=dict(type="int", default=60),
)


def run(module):
    """The result of one run; raises kraft_migration.MigrationError, PhaseError (a ValueError), k8s_api.ApiError."""
    params = module.params
    if params["state"] == "wait_migrated":
        if params["controller_replicas"] < 1 or params["stuck_grace"] < 0:
            raise ValueError("controller_replicas must be at least 1 and stuck_grace not negative")
        gate = kraft_migration.MigrationGate(k8s_api.PodApi(module, request_timeout=5), params["namespace"],
                                             params["cluster_name"], params["controller_replicas"],
                                             port=params["metrics_port"], finalized=params["finalized"],
                                             stuck_grace=params["stuck_grace"])
        return dict(kraft_migration.wait_migrated(gate, params["timeout"], module.check_mode), changed=False)
    api = k8s_api.ObjectApi(module)
    if params["state"] == "query":
        return dict(kraft_migration.query(api, params["namespace"], params["cluster_name"]), changed=False)
    write = kraft_migration.record if params["state"] == "record" else kraft_migration.revert
    result = write(api, params["namespace"], params["cluster_name"], params["phase"], module.check_mode)
    if module._diff:
        result["diff"] = {"before": {"phase": result["previous_phase"]}, "after": {"phase": result["phase"]}}
    return result


def main():
    module = k8s_api.k8s_module(OPTIONS, supports_check_mode=True, required_if=[("state", "record", ["phase"]), ("state", "revert", ["phase"])])
    if module.params["state"] == "wait_migrated" and not metrics.HAS_PROMETHEUS_CLIENT:
        module.fail_json(msg=missing_required_lib("prometheus_client"), exception=metrics.PROMETHEUS_CLIENT_IMPORT_ERROR)
    try:
        result = run(module)
    except kraft_migration.MigrationError as error:
        module.fail_json(msg=str(error), **error.result)
    except k8s_api.ApiError as error:
        module.fail_json(msg="the migration of Kafka cluster %s in namespace %s cannot be %s: %s" % (
            module.params["cluster_name"], module.params["namespace"],
            "recorded" if module.params["state"] == "record" else "checked", error), status=error.status)
    except ValueError as error:  # kraft_migration.PhaseError, bad options
        module.fail_json(msg=str(error))
    else:
        module.exit_json(**result)


if __name__ == "__main__":
    main()
