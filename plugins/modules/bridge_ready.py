#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: bridge_ready
short_description: Wait until a Kafka Bridge on Kubernetes is ready on every pod
version_added: 0.1.0
author: streams.kafka maintainers (@streams-kafka)
description:
  - The readiness gate of the C(streams.kafka.bridge) role, usable on its own.
  - Reads the Deployment (its rollout must be complete), lists its pods, and asks each pod's
    C(GET /ready) through the API server's pod proxy
    (C(GET /api/v1/namespaces/NS/pods/POD:8080/proxy/ready)), so it works from wherever the
    Kubernetes API is reachable, without access to the pod network.
  - A pod is ready when C(/ready) answers 2xx; the Bridge answers 204 No Content up to 0.33 and
    200 OK from 1.0. It also reads C(GET /) for the Bridge version.
  - Polls with a backoff of up to one second until ready or O(timeout) passes, then fails
    naming each pod that is not ready and why (container waiting reason such as
    C(CrashLoopBackOff) or C(ImagePullBackOff), Unschedulable, readiness probe failing,
    C(/ready) not answering or answering an error).
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
  port:
    description: Port of the Bridge's HTTP API.
    type: int
    default: 8080
attributes:
  check_mode:
    support: full
    description:
      - Looks once and reports the state in RV(ready) and RV(pods), without waiting and without
        failing when the Bridge is not ready, because in check mode the objects were only
        dry-run. It still fails when the API cannot be read.
  diff_mode:
    support: none
    description: It reads only; there is nothing to compare.
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: Wait for the Kafka Bridge of prod-east
  streams.kafka.bridge_ready:
    namespace: kafka
    cluster_name: prod-east
    replicas: 2
    timeout: 300
"""

RETURN = r"""
ready:
  description: Whether the Bridge passed the gate.
  returned: always
  type: bool
  sample: true
reason:
  description: Why the Bridge is not ready, naming each pod concerned; V(ready) when it is.
  returned: always
  type: str
  sample: "pod prod-east-bridge-7c9d8f6b4-q2w8z: GET /ready answered 500"
waited:
  description: Seconds the module waited.
  returned: always
  type: float
  sample: 2.1
deployment:
  description: The Deployment's replica counts (null without a Deployment to read, or when it does not exist).
  returned: always
  type: dict
  sample: {name: prod-east-bridge, replicas: 2, updated: 2, ready: 2, available: 2}
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
        - V(serving), V(not_serving) (C(/ready) answers an error), V(unreachable) (it does not
          answer) or V(pod_not_ready) (the pod is not Running and Ready).
      type: str
    status:
      description: HTTP status of C(/ready), when it answered.
      type: int
    bridge_version:
      description: The Bridge version from C(GET /), when it answered.
      type: str
    problem:
      description: Why the pod is not ready; null when it is.
      type: str
  sample:
    prod-east-bridge-7c9d8f6b4-q2w8z:
      pod: prod-east-bridge-7c9d8f6b4-q2w8z
      state: serving
      status: 204
      bridge_version: 0.31.1
      problem: null
"""

from ansible_collections.streams.kafka.plugins.module_utils import bridge, k8s_api, readiness, workload

OPTIONS = workload.gate_options(port=dict(type="int", default=bridge.DEFAULT_PORT))


def _state(report, waited):
    report = report or {"ready": False, "reason": "not observed", "pods": {}, "deployment": None}
    return dict(ready=report["ready"], reason=report["reason"], waited=round(waited, 1), pods=report["pods"],
                deployment=report["deployment"])


def main():
    module = k8s_api.k8s_module(OPTIONS, **readiness.GATE_MODULE_KWARGS)
    params = module.params
    readiness.run_gate(module, lambda: bridge.gate_from_params(params, k8s_api.PodApi(module, request_timeout=5)),
                       readiness.describe(params, "Kafka Bridge"), _state)


if __name__ == "__main__":
    main()
