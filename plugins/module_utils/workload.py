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

from ansible_collections.streams.kafka.plugins.module_utils.k8s_api import ApiError
from ansible_collections.streams.kafka.plugins.module_utils.readiness import (
    NotReady,
    is_stuck,
    pod_problem,
    wait_until,
)
from ansible_collections.streams.kafka.plugins.module_utils.zookeeper import short

# API answers that no amount of waiting fixes: bad credentials or missing RBAC.
FATAL_API_STATUSES = (401, 403)

# Pod states, worst first (the names the ZooKeeper gate uses).
POD_NOT_READY = "pod_not_ready"
UNREACHABLE = "unreachable"
NOT_SERVING = "not_serving"
SERVING = "serving"


class WorkloadStuck(Exception):
    """A pod stays in a state that does not clear without a change; waiting longer is pointless."""

    def __init__(self, message, report):
        self.report = report
        super(WorkloadStuck, self).__init__(message)


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


def _probeable(pod):
    """Worth asking through the proxy: running, not terminating, not stuck."""
    status = pod.get("status") or {}
    if (pod.get("metadata") or {}).get("deletionTimestamp") or status.get("phase") != "Running":
        return False
    return not is_stuck(pod_problem(pod))


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


class DeploymentGate(object):
    """Observe one Deployment-based component through the API; wait for it with a deadline.

    Subclasses set `component` (for messages) and implement `read_pod(name)`, which returns a
    dict with `answered` (the application replied at all) and `problem` (None when the pod's
    application serves) plus any fields of their own, and may override `judge(serving)`, which
    returns (problems, extra report fields) about the component as a whole.
    """

    component = "component"

    def __init__(self, api, namespace, selector, replicas, port, deployment=None, stuck_grace=60, clock=time.monotonic):
        self.api = api
        self.namespace = namespace
        self.selector = selector
        self.replicas = replicas
        self.port = port
        self.deployment = deployment
        self.stuck_grace = stuck_grace
        self.clock = clock
        self.last = None
        self._stuck_since = {}

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
        try:
            pods = self.api.list_pods(self.namespace, self.selector)
        except ApiError as error:
            if error.status != 404:
                raise
            pods = []  # the namespace does not exist (yet)
        return [pod for pod in pods if not (pod.get("metadata") or {}).get("deletionTimestamp")]

    def _entry(self, pod, read):
        name = pod["metadata"]["name"]
        entry = self.blank_pod(name)
        for key, value in (read or {}).items():
            if key != "answered":
                entry[key] = value
        problem = pod_problem(pod)
        if read is None or is_stuck(problem):
            entry.update(state=POD_NOT_READY, problem=problem or "not probed")
        elif read.get("problem"):
            entry.update(state=NOT_SERVING if read.get("answered") else UNREACHABLE, problem=read["problem"])
        elif problem:
            entry.update(state=POD_NOT_READY, problem=problem)
        else:
            entry["problem"] = None
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
        reads = dict((pod["metadata"]["name"], self.read_pod(pod["metadata"]["name"])) for pod in pods if _probeable(pod))
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
        stuck = sorted(name for name, entry in entries.items()
                       if entry["state"] == POD_NOT_READY and is_stuck(entry["problem"]))
        report = {"ready": not problems, "pods": entries, "problems": problems,
                  "reason": "; ".join(problems) or "ready", "stuck": stuck, "deployment": summary}
        report.update(extra)
        self.last = report
        return report

    def probe(self):
        """For wait_until: the report when ready; NotReady otherwise; WorkloadStuck when a pod
        has been stuck (CrashLoopBackOff, ImagePullBackOff, ...) for `stuck_grace` seconds."""
        try:
            report = self.observe()
        except ApiError as error:
            if error.status in FATAL_API_STATUSES:
                raise
            raise NotReady("cannot read the %s: %s" % (self.component, error))
        if report["ready"]:
            return report
        now = self.clock()
        self._stuck_since = dict((name, self._stuck_since.get(name, now)) for name in report["stuck"])
        for name in report["stuck"]:
            if now - self._stuck_since[name] >= self.stuck_grace:
                raise WorkloadStuck(report["reason"], report)
        raise NotReady(report["reason"])

    def wait(self, timeout, sleep=time.sleep):
        """Returns (report, waited seconds); raises NotReady on timeout, WorkloadStuck, ApiError."""
        return wait_until(self.probe, timeout, clock=self.clock, sleep=sleep)


def run_gate(module, gate, what, state):
    """The body every Deployment gate module shares: look once in check mode, wait otherwise,
    and exit or fail with a message naming the pods. `state(report, waited)` builds the result."""
    start = time.monotonic()
    try:
        if module.check_mode:
            # The objects were only dry-run: report what is there, neither wait nor fail.
            report, waited = gate.observe(), 0.0
        else:
            report, waited = gate.wait(module.params["timeout"])
    except WorkloadStuck as error:
        msg = "%s cannot become ready without a change (gave up after %ds): %s" % (what, time.monotonic() - start, error)
    except NotReady as error:
        msg = "%s is not ready after %ds: %s" % (what, module.params["timeout"], error)
    except ApiError as error:
        msg = "%s cannot be checked: %s" % (what, error)
    else:
        module.exit_json(changed=False, **state(report, waited))
        return
    module.fail_json(msg=msg, **state(gate.last, time.monotonic() - start))


def check_params(params):
    """Option checks every Deployment gate module shares; raises ValueError."""
    if params["replicas"] < 1:
        raise ValueError("replicas must be at least 1, got %d" % params["replicas"])
    if params["timeout"] < 0 or params["stuck_grace"] < 0:
        raise ValueError("timeout and stuck_grace must not be negative")


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


GATE_MODULE_KWARGS = dict(supports_check_mode=True, mutually_exclusive=[("cluster_name", "selector")],
                          required_one_of=[("cluster_name", "selector")])


def describe(params, component):
    """How a gate's failure message names what it checked."""
    return "%s %s in namespace %s" % (component, params["cluster_name"] or "selected by %s" % params["selector"], params["namespace"])
