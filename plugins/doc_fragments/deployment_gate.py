# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Options of the gates of Deployment-based components (connect_ready, bridge_ready, exporter_ready)."""

    DOCUMENTATION = r"""
options:
  namespace:
    description: Namespace of the component.
    type: str
    required: true
  cluster_name:
    description:
      - The C(streams_cluster_name) the component was deployed with. Its pods are selected by
        C(app.kubernetes.io/instance=<cluster_name>,app.kubernetes.io/name=<component>) and its
        Deployment is C(<cluster_name>-<component>), unless O(deployment) names another.
      - Exactly one of O(cluster_name) and O(selector) is required.
    type: str
  selector:
    description:
      - A label selector of the component's pods, for deployments not made by this collection.
        Without O(deployment), every pod it selects counts, and there must be O(replicas) of them.
    type: str
  deployment:
    description:
      - Name of the Deployment whose rollout must be complete (its controller has observed the
        current generation, O(replicas) pods run the current template, no old pods are left, all
        are available). Defaults to C(<cluster_name>-<component>) with O(cluster_name); with
        O(selector) and no O(deployment), only the pods are checked.
    type: str
  replicas:
    description: Number of pods the component must have.
    type: int
    required: true
  timeout:
    description: Seconds to wait for the component to become ready.
    type: int
    default: 300
  stuck_grace:
    description:
      - Seconds a pod may stay stuck (C(CrashLoopBackOff), C(ImagePullBackOff),
        C(CreateContainerConfigError), Unschedulable) before the wait ends early with a failure.
      - V(0) fails at the first sight of a stuck pod; a value of O(timeout) or more waits it out.
    type: int
    default: 60
"""
