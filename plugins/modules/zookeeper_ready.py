#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: zookeeper_ready
short_description: Wait until a ZooKeeper ensemble on Kubernetes has a leader and every follower in sync
version_added: 0.1.0
author: streams.kafka maintainers (@streams-kafka)
description:
  - The readiness gate of the C(streams.kafka.zookeeper) role, usable on its own.
  - Lists the ensemble's pods and reads each member's AdminServer C(/commands/mntr) (and
    C(/commands/srvr) for the zxid) through the API server's pod proxy
    (C(GET /api/v1/namespaces/NS/pods/POD:PORT/proxy/commands/mntr)), so it works from wherever
    the Kubernetes API is reachable, without access to the pod network.
  - The ensemble is ready when every member's pod is Running and Ready and its AdminServer
    answers, exactly one member reports C(server_state=leader), and the leader's
    C(synced_followers) equals O(replicas) - 1.
  - Polls with a backoff of up to one second until the ensemble is ready or O(timeout) passes,
    then fails naming each pod that is not ready and why (container waiting reason such as
    C(CrashLoopBackOff) or C(ImagePullBackOff), Unschedulable, readiness probe failing,
    AdminServer not answering, not serving requests, no leader, followers not in sync).
  - Gives up before O(timeout) when a pod stays for O(stuck_grace) seconds in a state that does
    not clear without a change (C(CrashLoopBackOff), C(ImagePullBackOff),
    C(CreateContainerConfigError), Unschedulable).
  - Connects as M(kubernetes.core.k8s) does, and belongs to the C(streams.kafka.k8s) action
    group, so C(module_defaults) of C(group/streams.kafka.k8s) set its connection.
  - Needs RBAC verbs C(list) on C(pods) and C(get) on C(pods/proxy) in O(namespace).
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - streams.kafka.zookeeper_gate
options:
  timeout:
    description: Seconds to wait for the ensemble to become ready.
    type: int
    default: 300
attributes:
  check_mode:
    support: full
    description:
      - Looks once and reports the state in RV(ready), RV(members) and RV(leader), without waiting
        and without failing when the ensemble is not ready, because in check mode the objects were
        only dry-run. It still fails when the API cannot be read.
  diff_mode:
    support: none
    description: It reads only; there is nothing to compare.
requirements:
  - kubernetes >= 24.2.0
notes:
  - ZooKeeper 3.8 answers C(/commands/mntr) with HTTP 500 while a member is not part of a quorum;
    the module then reads C(/commands/srvr) and reports the member as not serving requests.
"""

EXAMPLES = r"""
- name: Wait for the ZooKeeper ensemble of cluster prod-east
  streams.kafka.zookeeper_ready:
    namespace: kafka
    cluster_name: prod-east
    replicas: 3
    timeout: 600

- name: Look at an ensemble deployed by other means, without waiting
  streams.kafka.zookeeper_ready:
    kubeconfig: ~/.kube/prod
    context: prod
    namespace: legacy
    selector: app=zookeeper
    replicas: 5
    timeout: 0
  check_mode: true
  register: zk

- name: Show the leader
  ansible.builtin.debug:
    msg: "{{ zk.leader }} leads; ready={{ zk.ready }}"
"""

RETURN = r"""
ready:
  description: Whether the ensemble passed the gate.
  returned: always
  type: bool
  sample: true
leader:
  description: Name of the pod that leads, when exactly one does.
  returned: always
  type: str
  sample: prod-east-zookeeper-1
members:
  description: State of each member, by pod name.
  returned: always
  type: dict
  contains:
    pod:
      description: The pod name.
      type: str
    myid:
      description: The member's ZooKeeper id (pod ordinal + 1).
      type: int
    state:
      description:
        - V(serving), V(not_serving) (answers but is not in a quorum), V(unreachable) (the
          AdminServer does not answer), V(pod_not_ready) (the pod is not Running and Ready) or
          V(missing) (the pod does not exist).
      type: str
    server_state:
      description: The member's C(server_state) from mntr (V(leader), V(follower)), when it answered.
      type: str
    zxid:
      description: The member's last processed zxid, in hex, when it answered.
      type: str
    synced_followers:
      description: The leader's count of followers in sync; null on the other members.
      type: int
    problem:
      description: Why the member is not ready; null when it is.
      type: str
  sample:
    prod-east-zookeeper-0:
      pod: prod-east-zookeeper-0
      myid: 1
      state: serving
      server_state: follower
      zxid: "0x100000003"
      synced_followers: null
      problem: null
    prod-east-zookeeper-1:
      pod: prod-east-zookeeper-1
      myid: 2
      state: serving
      server_state: leader
      zxid: "0x100000003"
      synced_followers: 2
      problem: null
waited:
  description: Seconds the module waited.
  returned: always
  type: float
  sample: 4.2
reason:
  description: Why the ensemble is not ready, naming each pod concerned; V(ready) when it is.
  returned: always
  type: str
  sample: "pod prod-east-zookeeper-2: container zookeeper is CrashLoopBackOff"
"""

from ansible_collections.streams.kafka.plugins.module_utils import k8s_api, readiness, zookeeper

OPTIONS = dict(zookeeper.GATE_OPTIONS, timeout=dict(type="int", default=300))


def _state(report, waited):
    report = report or {"ready": False, "leader": None, "members": {}, "reason": "not observed"}
    return dict(ready=report["ready"], leader=report["leader"], members=report["members"],
                reason=report["reason"], waited=round(waited, 1))


def main():
    module = k8s_api.k8s_module(OPTIONS, **readiness.GATE_MODULE_KWARGS)
    params = module.params
    readiness.run_gate(module, lambda: zookeeper.gate_from_params(params, k8s_api.PodApi(module, request_timeout=5)),
                       readiness.describe(params, "ZooKeeper ensemble"), _state)


if __name__ == "__main__":
    main()
