# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the gates of the Deployment-based components share (Connect, MirrorMaker 2, Bridge, Exporter).

A :class:`DeploymentGate` reads the Deployment (has its controller finished rolling out the
current template?), lists its pods (why is one not serving?) and asks each running pod's
application through the API server's pod proxy; a subclass says how to ask (:meth:`read_pod`)
and what the answers must add up to (:meth:`judge`). Waiting, the stuck-pod early give-up and
the report format are the same for every component, and the same as the ZooKeeper gate's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

from ansible_collections.streams.kafka.plugins.module_utils.readiness import (
    SERVING,
    Gate,
    GateStuck,
    list_pods,
    pod_signature,
    member_state,
    probeable,
    stuck_pods,
)
from ansible_collections.streams.kafka.plugins.module_utils.zookeeper import short


class WorkloadStuck(GateStuck):
    """A pod of a Deployment stays in a state that does not clear without a change."""


def selector_for(cluster_name, name):
    """The label selector of one component's pods (instance + name, as the roles set them)."""
    return "app.kubernetes.io/instance=%s,app.kubernetes.io/name=%s" % (cluster_name, name)


def rollout_problems(deployment, name, replicas):
    """Why the Deployment's controller has not finished rolling out `replicas` current pods."""
    if deployment is None:
        return ["Deployment %s does not exist" % name]
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    generation = (deployment.get("metadata") or {}).get("generation") or 0
    wanted = spec.get("replicas", 1)
    if wanted != replicas:
        return ["Deployment %s asks for %s replicas, expected %d (scaled by someone else?)" % (name, wanted, replicas)]
    if (status.get("observedGeneration") or 0) < generation:
        return ["Deployment %s: its controller has not observed generation %d yet" % (name, generation)]
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
            return ["Deployment %s: %s" % (name, condition.get("message") or "progress deadline exceeded")]
    updated = status.get("updatedReplicas") or 0
    total = status.get("replicas") or 0
    available = status.get("availableReplicas") or 0
    if updated < replicas:
        return ["Deployment %s: rollout in progress, %d of %d pods run the current template" % (name, updated, replicas)]
    if total > replicas:
        return ["Deployment %s: rollout in progress, %d old pod(s) still running" % (name, total - replicas)]
    if available < replicas:
        return ["Deployment %s: %d of %d pods available" % (name, available, replicas)]
    return []


def api_server_message(text):
    """The message of the API server's own answer (a Kubernetes Status object: it could not
    reach the pod, or the pod is gone), or None when the answer came from the pod."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        return None
    if isinstance(data, dict) and data.get("kind") == "Status" and data.get("apiVersion") == "v1":
        return short(data.get("message") or data.get("reason") or "HTTP %s" % data.get("code"))
    return None


def unreachable(error):
    """A read's result for an application the API server could not reach."""
    return {"answered": False, "problem": short(str(error))}


class DeploymentGate(Gate):
    """Observe one Deployment-based component through the API; wait for it with a deadline.

    Subclasses set `component` (for messages) and implement `read_pod(name)`, which returns a
    dict with `answered` (the application replied at all) and `problem` (None when the pod's
    application serves) plus any fields of their own, and may override `judge(serving)`, which
    returns (problems, extra report fields) about the component as a whole.
    """

    component = "component"
    stuck_error = WorkloadStuck

    def __init__(self, api, namespace, selector, replicas, port, deployment=None, stuck_grace=60, clock=time.monotonic):
        super(DeploymentGate, self).__init__(stuck_grace, clock)
        self.api = api
        self.namespace = namespace
        self.selector = selector
        self.replicas = replicas
        self.port = port
        self.deployment = deployment

    @property
    def subject(self):
        return "the %s" % self.component

    # -- what subclasses provide --------------------------------------------------

    def read_pod(self, name):
        raise NotImplementedError

    def judge(self, serving):
        """(problems, extra report fields) about the component as a whole, from the reads of
        the pods that serve (pod name -> what read_pod returned)."""
        return [], {}

    def blank_pod(self, name):
        """A pod's entry before anything is known; subclasses add their fields' empty values."""
        return {"pod": name, "state": SERVING, "problem": None}

    # -- the common part -------------------------------------------------------------

    def _pods(self):
        pods = list_pods(self.api, self.namespace, self.selector)
        return [pod for pod in pods if not (pod.get("metadata") or {}).get("deletionTimestamp")]

    def _entry(self, pod, read):
        entry = self.blank_pod(pod["metadata"]["name"])
        for key, value in (read or {}).items():
            if key != "answered":
                entry[key] = value
        entry["state"], entry["problem"] = member_state(pod, read)
        return entry

    def observe(self):
        """One look: the Deployment, its pods, each pod's application. Raises ApiError when reading fails."""
        problems = []
        summary = None
        if self.deployment:
            deployment = self.api.read_deployment(self.namespace, self.deployment)
            problems.extend(rollout_problems(deployment, self.deployment, self.replicas))
            if deployment is not None:
                status = deployment.get("status") or {}
                summary = {"name": self.deployment, "replicas": status.get("replicas") or 0,
                           "updated": status.get("updatedReplicas") or 0, "ready": status.get("readyReplicas") or 0,
                           "available": status.get("availableReplicas") or 0}
        pods = self._pods()
        if not self.ask_due((summary, pod_signature(pods))):
            return self.last
        reads = dict((pod["metadata"]["name"], self.read_pod(pod["metadata"]["name"])) for pod in pods if probeable(pod))
        entries = dict((pod["metadata"]["name"], self._entry(pod, reads.get(pod["metadata"]["name"]))) for pod in pods)
        if not pods:
            problems.append("no %s pods exist (selector %s)" % (self.component, self.selector))
        elif not self.deployment and len(pods) != self.replicas:
            problems.append("found %d %s pod(s), expected %d" % (len(pods), self.component, self.replicas))
        for name in sorted(entries):
            if entries[name]["problem"]:
                problems.append("pod %s: %s" % (name, entries[name]["problem"]))
        serving = dict((name, reads[name]) for name in sorted(reads) if entries[name]["state"] == SERVING)
        more, extra = self.judge(serving)
        problems.extend(more)
        report = {"ready": not problems, "pods": entries, "problems": problems,
                  "reason": "; ".join(problems) or "ready", "stuck": stuck_pods(entries), "deployment": summary}
        report.update(extra)
        self.last = report
        return report


def gate_options(**more):
    """The options every Deployment gate module takes (doc fragment streams.kafka.deployment_gate), plus `more`."""
    options = dict(
        namespace=dict(type="str", required=True),
        cluster_name=dict(type="str"),
        selector=dict(type="str"),
        deployment=dict(type="str"),
        replicas=dict(type="int", required=True),
        timeout=dict(type="int", default=300),
        stuck_grace=dict(type="int", default=60),
    )
    options.update(more)
    return options
