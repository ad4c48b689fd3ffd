#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: connect_ready
short_description: Wait until a Kafka Connect or MirrorMaker 2 cluster on Kubernetes answers and runs its connectors
version_added: 0.1.0
author: streams.kafka maintainers (@streams-kafka)
description:
  - The readiness gate of the C(streams.kafka.connect) and C(streams.kafka.mirrormaker) roles,
    usable on its own.
  - Reads the Deployment (its rollout must be complete), lists its pods, and asks each worker's
    REST API C(GET /) through the API server's pod proxy
    (C(GET /api/v1/namespaces/NS/pods/POD:8083/proxy/)), so it works from wherever the
    Kubernetes API is reachable, without access to the pod network.
  - With O(check_connectors), it then lists the connectors from one worker,
    C(GET /connectors?expand=status&expand=info), and requires every connector and every task
    to be C(RUNNING), or C(PAUSED) / C(STOPPED) for the connectors named in O(paused) and
    O(stopped), and every connector named in O(connectors) to exist.
  - Every worker must report the same Kafka cluster id, which catches workers of one group
    pointed at different Kafka clusters.
  - Polls with a backoff of up to one second until ready or O(timeout) passes, then fails
    naming each pod or connector that is not ready and why (container waiting reason such as
    C(CrashLoopBackOff) or C(ImagePullBackOff), Unschedulable, readiness probe failing, REST API
    not answering, a connector or task C(FAILED) with the first line of its stack trace).
  - Gives up before O(timeout) when a pod stays for O(stuck_grace) seconds in a state that does
    not clear without a change.
  - Connects as M(kubernetes.core.k8s) does, and belongs to the C(streams.kafka.k8s) action
    group, so C(module_defaults) of C(group/streams.kafka.k8s) set its connection.
  - Needs RBAC verbs C(get) on C(deployments), C(list) on C(pods) and C(get) on C(pods/proxy)
    in O(namespace).
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - streams.kafka.deployment_gate
options:
  component:
    description:
      - Which Connect-based component O(cluster_name) names; C(connect) for
        C(<cluster_name>-connect), C(mirrormaker) for C(<cluster_name>-mirrormaker).
    type: str
    choices: [connect, mirrormaker]
    default: connect
  port:
    description: Port of the workers' REST API.
    type: int
    default: 8083
  check_connectors:
    description:
      - Check the connectors and their tasks. V(false) checks only that every worker's REST API
        answers, as the roles do before they create or update connectors.
    type: bool
    default: true
  connectors:
    description: Names of connectors that must exist.
    type: list
    elements: str
    default: []
  paused:
    description: Names of connectors that must be C(PAUSED) (with their tasks) rather than C(RUNNING).
    type: list
    elements: str
    default: []
  stopped:
    description: Names of connectors that must be C(STOPPED) (no tasks) rather than C(RUNNING).
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description:
      - Looks once and reports the state in RV(ready), RV(pods) and RV(connectors), without
        waiting and without failing when the cluster is not ready, because in check mode the
        objects were only dry-run. It still fails when the API cannot be read.
  diff_mode:
    support: none
    description: It reads only; there is nothing to compare.
requirements:
  - kubernetes >= 24.2.0
notes:
  - Connectors with no tasks (a MirrorSourceConnector before any topic matches, a
    MirrorCheckpointConnector before any group does) are ready when the connector runs.
"""

EXAMPLES = r"""
- name: Wait for the Connect cluster of prod-east and its connectors
  streams.kafka.connect_ready:
    namespace: kafka
    cluster_name: prod-east
    replicas: 3
    connectors: [orders-sink]
    paused: [audit-source]
    timeout: 600

- name: Only wait for the REST API of the MirrorMaker 2 workers
  streams.kafka.connect_ready:
    namespace: kafka
    cluster_name: prod-west
    component: mirrormaker
    replicas: 1
    check_connectors: false

- name: Look at a Connect cluster deployed by other means, without waiting
  streams.kafka.connect_ready:
    namespace: legacy
    selector: app=my-connect
    replicas: 2
  check_mode: true
  register: connect
"""

RETURN = r"""
ready:
  description: Whether the cluster passed the gate.
  returned: always
  type: bool
  sample: true
reason:
  description: Why the cluster is not ready, naming each pod or connector concerned; V(ready) when it is.
  returned: always
  type: str
  sample: "connector orders-sink task 0 is FAILED on worker 10.128.2.15:8083: org.apache.kafka.connect.errors.ConnectException: topic orders does not exist"
waited:
  description: Seconds the module waited.
  returned: always
  type: float
  sample: 3.4
version:
  description: The Kafka Connect version the workers report, when they agree.
  returned: always
  type: str
  sample: 3.9.0
kafka_cluster_id:
  description: The id of the Kafka cluster the workers use, when they agree.
  returned: always
  type: str
  sample: 5nWpTfKuQpCzDaZ1b0Zf4A
deployment:
  description: The Deployment's replica counts (null without a Deployment to read, or when it does not exist).
  returned: always
  type: dict
  sample: {name: prod-east-connect, replicas: 3, updated: 3, ready: 3, available: 3}
pods:
  description: State of each pod, by name.
  returned: always
  type: dict
  contains:
    pod:
      description: The pod name.
      type: str
    state:
      description:
        - V(serving), V(not_serving) (the REST API answers with an error), V(unreachable) (it
          does not answer) or V(pod_not_ready) (the pod is not Running and Ready).
      type: str
    version:
      description: Kafka Connect version of the worker, when it answered.
      type: str
    kafka_cluster_id:
      description: Kafka cluster id the worker reports, when it answered.
      type: str
    problem:
      description: Why the pod is not ready; null when it is.
      type: str
  sample:
    prod-east-connect-6d9f7c8b5-x2x4k:
      pod: prod-east-connect-6d9f7c8b5-x2x4k
      state: serving
      version: 3.9.0
      kafka_cluster_id: 5nWpTfKuQpCzDaZ1b0Zf4A
      problem: null
connectors:
  description:
    - Each connector's state as Connect reports it, by name, read from one serving worker.
    - Also filled with O(check_connectors=false) when a worker answers, without judging it; the
      mirrormaker role uses it to find connectors of sources no longer listed.
  returned: always
  type: dict
  contains:
    type:
      description: V(source) or V(sink).
      type: str
    class:
      description: The connector class.
      type: str
    state:
      description: V(RUNNING), V(PAUSED), V(STOPPED), V(FAILED), V(UNASSIGNED) or V(RESTARTING).
      type: str
    worker_id:
      description: The worker running the connector.
      type: str
    trace:
      description: First line of the stack trace of a failed connector.
      type: str
    tasks:
      description: Each task's id, state, worker_id and trace (first line).
      type: list
      elements: dict
  sample:
    orders-sink:
      type: sink
      class: org.apache.kafka.connect.file.FileStreamSinkConnector
      state: RUNNING
      worker_id: 10.128.2.15:8083
      trace: null
      tasks:
        - {id: 0, state: RUNNING, worker_id: 10.128.2.15:8083, trace: null}
"""

from ansible_collections.streams.kafka.plugins.module_utils import connect, k8s_api, readiness, workload

OPTIONS = workload.gate_options(
    component=dict(type="str", choices=list(connect.COMPONENTS), default="connect"),
    port=dict(type="int", default=connect.DEFAULT_PORT),
    check_connectors=dict(type="bool", default=True),
    connectors=dict(type="list", elements="str", default=[]),
    paused=dict(type="list", elements="str", default=[]),
    stopped=dict(type="list", elements="str", default=[]),
)


def _state(report, waited):
    report = report or {"ready": False, "reason": "not observed", "pods": {}, "deployment": None}
    return dict(ready=report["ready"], reason=report["reason"], waited=round(waited, 1), pods=report["pods"],
                deployment=report["deployment"], connectors=report.get("connectors") or {},
                version=report.get("version"), kafka_cluster_id=report.get("kafka_cluster_id"))


def main():
    module = k8s_api.k8s_module(OPTIONS, **readiness.GATE_MODULE_KWARGS)
    params = module.params
    readiness.run_gate(module, lambda: connect.gate_from_params(params, k8s_api.PodApi(module, request_timeout=5)),
                       readiness.describe(params, "Kafka Connect" if params["component"] == "connect" else "MirrorMaker 2"), _state)


if __name__ == "__main__":
    main()
