# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Options of the modules that observe a ZooKeeper ensemble (zookeeper_ready, zookeeper_roll)."""

    DOCUMENTATION = r"""
options:
  namespace:
    description: Namespace of the ensemble.
    type: str
    required: true
  cluster_name:
    description:
      - The C(streams_cluster_name) the ensemble was deployed with. Its pods are
        C(<cluster_name>-zookeeper-0) to C(<cluster_name>-zookeeper-<replicas-1>), selected by
        C(app.kubernetes.io/instance=<cluster_name>,app.kubernetes.io/name=zookeeper); a missing
        pod is reported by name.
      - Exactly one of O(cluster_name) and O(selector) is required.
    type: str
  selector:
    description:
      - A label selector of the ensemble's pods, for ensembles not deployed by this collection.
        Every pod it selects is a member, and there must be O(replicas) of them.
    type: str
  replicas:
    description: Number of members the ensemble must have.
    type: int
    required: true
  admin_port:
    description: Port of the members' AdminServer (C(admin.serverPort)).
    type: int
    default: 8080
  stuck_grace:
    description:
      - Seconds a pod may stay stuck (C(CrashLoopBackOff), C(ImagePullBackOff),
        C(CreateContainerConfigError), Unschedulable) before the wait ends early with a failure.
      - V(0) fails at the first sight of a stuck pod; a value of O(timeout) or more waits it out.
    type: int
    default: 60
"""
