#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: zookeeper_roll
short_description: Restart the outdated members of a ZooKeeper ensemble safely, followers first and the leader last
version_added: 0.1.0
author: streams.kafka maintainers (@streams-kafka)
description:
  - The ZooKeeper StatefulSet uses C(updateStrategy=OnDelete), so a change of its pod template
    (config hash, image, resources) marks pods outdated without Kubernetes restarting them.
    This module restarts them the way Strimzi's ZooKeeperRoller does.
  - A pod is outdated when its C(controller-revision-hash) label is not the StatefulSet's
    C(status.updateRevision).
  - Outdated pods that are stuck (C(CrashLoopBackOff), C(ImagePullBackOff), Unschedulable, ...)
    are restarted first, without waiting for the ensemble, so a re-run with a fixed config
    repairs a broken one.
  - Then one pod at a time, followers first in member order, the leader last; each only while
    the whole ensemble is healthy (one leader, every follower in sync). After deleting a pod it
    waits until the pod is back on the new revision and the ensemble is healthy again.
  - The live state is read again before every restart, so an interrupted roll resumes on the
    next run without restarting a pod twice.
  - Waits up to O(timeout) seconds for each step and then fails, naming the pod and what it was
    waiting for.
  - Needs RBAC verbs C(get) on C(statefulsets), C(list) and C(delete) on C(pods), and C(get) on
    C(pods/proxy).
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - streams.kafka.zookeeper_gate
options:
  timeout:
    description: Seconds each step may wait (the ensemble to allow the next restart, a restarted member to be back).
    type: int
    default: 300
attributes:
  check_mode:
    support: full
    description: Returns the pods that would restart, in order, in RV(planned); restarts none.
  diff_mode:
    support: none
    description: Nothing to compare; the change is the restarts it reports.
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: Restart the outdated ZooKeeper members of prod-east
  streams.kafka.zookeeper_roll:
    namespace: kafka
    cluster_name: prod-east
    replicas: 3
    timeout: 600
"""

RETURN = r"""
planned:
  description: The outdated pods in the order they restart (stuck ones first, the leader last).
  returned: always
  type: list
  elements: str
  sample: ["prod-east-zookeeper-0", "prod-east-zookeeper-2", "prod-east-zookeeper-1"]
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
      description: Seconds waited before the ensemble allowed this restart.
      type: float
    waited_for:
      description: The reasons it waited, in order.
      type: list
      elements: str
    restart_seconds:
      description: Seconds from deleting the pod to the ensemble being healthy again.
      type: float
notes:
  description: Things the roll could not avoid, for the operator to know; empty for ZooKeeper.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.streams.kafka.plugins.module_utils import k8s_api, roll, zookeeper


def main():
    module = k8s_api.k8s_module(dict(zookeeper.GATE_OPTIONS, timeout=dict(type="int", default=300)),
                                supports_check_mode=True, required_one_of=[("cluster_name", "selector")],
                                mutually_exclusive=[("cluster_name", "selector")])
    params = module.params
    if not params["cluster_name"]:
        module.fail_json(msg="zookeeper_roll needs cluster_name: the StatefulSet is <cluster_name>-zookeeper")

    def build():
        gate = zookeeper.gate_from_params(params, k8s_api.PodApi(module, request_timeout=10))
        return roll.Roller(gate.api, params["namespace"], zookeeper.statefulset_name(params["cluster_name"]),
                           gate.selector, zookeeper.RollPolicy(gate), params["timeout"])

    roll.run_module(module, "ZooKeeper roll of %s in %s" % (params["cluster_name"], params["namespace"]), build)


if __name__ == "__main__":
    main()
