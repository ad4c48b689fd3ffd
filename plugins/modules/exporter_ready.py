#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: exporter_ready
short_description: Wait until a Kafka Exporter on Kubernetes sees every Kafka broker
version_added: 0.1.0
author: streams.kafka maintainers (@streams-kafka)
description:
  - The readiness gate of the C(streams.kafka.exporter) role, usable on its own.
  - Reads the Deployment (its rollout must be complete), lists its pods, and reads each pod's
    Prometheus metrics through the API server's pod proxy
    (C(GET /api/v1/namespaces/NS/pods/POD:9404/proxy/metrics)), so it works from wherever the
    Kubernetes API is reachable, without access to the pod network. The text is parsed with
    C(prometheus_client)'s parser.
  - A pod is ready when its C(kafka_brokers) equals O(brokers); kafka_exporter serves metrics
    only once it has connected to Kafka, so this also proves it reaches the cluster.
  - Polls with a backoff of up to one second until ready or O(timeout) passes, then fails
    naming each pod that is not ready and why (container waiting reason such as
    C(CrashLoopBackOff) or C(ImagePullBackOff), Unschedulable, readiness probe failing, metrics
    not answering, C(kafka_brokers) missing or different).
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
  brokers:
    description: Number of Kafka brokers the exporter must see (the Kafka role's C(kafka_replicas)).
    type: int
    required: true
  port:
    description: Port of the exporter's metrics.
    type: int
    default: 9404
  path:
    description: Path of the metrics on O(port).
    type: str
    default: /metrics
attributes:
  check_mode:
    support: full
    description:
      - Looks once and reports the state in RV(ready) and RV(pods), without waiting and without
        failing when the exporter is not ready, because in check mode the objects were only
        dry-run. It still fails when the API cannot be read.
  diff_mode:
    support: none
    description: It reads only; there is nothing to compare.
requirements:
  - kubernetes >= 24.2.0
  - prometheus_client
"""

EXAMPLES = r"""
- name: Wait for the Kafka Exporter of prod-east to see its three brokers
  streams.kafka.exporter_ready:
    namespace: kafka
    cluster_name: prod-east
    replicas: 1
    brokers: 3
"""

RETURN = r"""
ready:
  description: Whether the exporter passed the gate.
  returned: always
  type: bool
  sample: true
reason:
  description: Why the exporter is not ready, naming each pod concerned; V(ready) when it is.
  returned: always
  type: str
  sample: "pod prod-east-exporter-5f7b9c6d8-k2m4n: kafka_brokers is 2, expected 3 (brokers missing from the cluster metadata)"
waited:
  description: Seconds the module waited.
  returned: always
  type: float
  sample: 1.3
deployment:
  description: The Deployment's replica counts (null without a Deployment to read, or when it does not exist).
  returned: always
  type: dict
  sample: {name: prod-east-exporter, replicas: 1, updated: 1, ready: 1, available: 1}
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
        - V(serving), V(not_serving) (its metrics answer but do not pass), V(unreachable) (they
          do not answer) or V(pod_not_ready) (the pod is not Running and Ready).
      type: str
    kafka_brokers:
      description: The pod's C(kafka_brokers), when its metrics answered with one.
      type: int
    problem:
      description: Why the pod is not ready; null when it is.
      type: str
  sample:
    prod-east-exporter-5f7b9c6d8-k2m4n:
      pod: prod-east-exporter-5f7b9c6d8-k2m4n
      state: serving
      kafka_brokers: 3
      problem: null
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.streams.kafka.plugins.module_utils import exporter, k8s_api, metrics, readiness, workload

OPTIONS = workload.gate_options(
    brokers=dict(type="int", required=True),
    port=dict(type="int", default=exporter.DEFAULT_PORT),
    path=dict(type="str", default=metrics.DEFAULT_PATH),
)


def _state(report, waited):
    report = report or {"ready": False, "reason": "not observed", "pods": {}, "deployment": None}
    return dict(ready=report["ready"], reason=report["reason"], waited=round(waited, 1), pods=report["pods"],
                deployment=report["deployment"])


def main():
    module = k8s_api.k8s_module(OPTIONS, **readiness.GATE_MODULE_KWARGS)
    if not metrics.HAS_PROMETHEUS_CLIENT:
        module.fail_json(msg=missing_required_lib("prometheus_client"), exception=metrics.PROMETHEUS_CLIENT_IMPORT_ERROR)
    params = module.params
    readiness.run_gate(module, lambda: exporter.gate_from_params(params, k8s_api.PodApi(module, request_timeout=5)),
                       readiness.describe(params, "Kafka Exporter"), _state)


if __name__ == "__main__":
    main()
