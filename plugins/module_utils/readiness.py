# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every readiness gate shares: why a pod is not ready, waiting with a deadline, giving
up early on stuck pods, and the body of the gate modules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.streams.kafka.plugins.module_utils.k8s_api import ApiError

# Waiting reasons that will not clear on their own; a gate names them at once.
STUCK_REASONS = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName",
                 "CreateContainerConfigError", "CreateContainerError", "RunContainerError")


class NotReady(Exception):
    """A gate is not passed yet; the message says which pod and why."""


def _condition(pod, kind):
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return condition
    return None


def pod_problem(pod):
    """Why this pod is not serving, in a few words, or None when it is Running and Ready."""
    status = pod.get("status") or {}
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return "terminating"
    scheduled = _condition(pod, "PodScheduled")
    if scheduled and scheduled.get("status") == "False":
        return "%s: %s" % (scheduled.get("reason") or "not scheduled", scheduled.get("message") or "")
    statuses = (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
    for container in statuses:
        waiting = (container.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason") in STUCK_REASONS:
            detail = waiting.get("message") or ""
            return "container %s is %s%s" % (container.get("name"), waiting["reason"], ": " + detail if detail else "")
    phase = status.get("phase") or "Unknown"
    if phase != "Running":
        return "phase %s" % phase
    ready = _condition(pod, "Ready")
    if not ready or ready.get("status") != "True":
        not_ready = [c.get("name") for c in status.get("containerStatuses") or [] if not c.get("ready")]
        return "readiness probe failing (containers not ready: %s)" % ", ".join(not_ready or ["?"])
    return None


def is_stuck(problem):
    """True when a pod problem will not clear without a change (bad image, crash loop, config)."""
    return bool(problem) and any(reason in problem for reason in STUCK_REASONS + ("Unschedulable",))


def wait_until(probe, timeout, interval=0.2, max_interval=1.0, clock=time.monotonic, sleep=time.sleep):
    """Call probe() until it returns without raising NotReady, or until `timeout` seconds pass.

    Returns (result, waited_seconds). On timeout, raises the last NotReady. The interval grows
    from `interval` to `max_interval`, so a gate passes within about a second of its condition.
    """
    start = clock()
    delay = interval
    while True:
        try:
            return probe(), clock() - start
        except NotReady:
            if clock() - start + delay > timeout:
                raise
        sleep(delay)
        delay = min(delay * 2, max_interval)


def condition_met(obj, condition_type, status="True"):
    """Whether the object reports the condition; raises NotReady naming what it reports instead,
    and ConditionFailed when it reports Failed (a Job that will not complete)."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    for condition in conditions:
        if condition.get("type") == condition_type and str(condition.get("status")) == status:
            return True
    failed = [c for c in conditions if c.get("type") == "Failed" and str(c.get("status")) == "True"]
    if failed and condition_type != "Failed":
        raise ConditionFailed("%s reports Failed: %s" % (obj["metadata"]["name"], failed[0].get("message") or failed[0].get("reason")))
    raise NotReady("%s does not report %s=%s yet (conditions: %s)" % (
        obj["metadata"]["name"], condition_type, status,
        ", ".join("%s=%s" % (c.get("type"), c.get("status")) for c in conditions) or "none"))


class ConditionFailed(Exception):
    """The object reports Failed, so the condition waited for will not come."""


# A pod's state in a gate's report, worst first.
MISSING = "missing"
POD_NOT_READY = "pod_not_ready"
UNREACHABLE = "unreachable"
NOT_SERVING = "not_serving"
SERVING = "serving"


def member_state(pod, read):
    """(state, problem) of a pod from its status and from `read`, what its application answered
    through the proxy (a dict with `answered` and `problem`; None when it was not asked)."""
    if pod is None:
        return MISSING, "pod does not exist"
    problem = pod_problem(pod)
    if read is None or is_stuck(problem):
        return POD_NOT_READY, problem or "not probed"
    if read.get("problem"):
        return (NOT_SERVING if read.get("answered") else UNREACHABLE), read["problem"]
    if problem:
        return POD_NOT_READY, problem
    return SERVING, None


def stuck_pods(entries):
    """The names of the entries whose pod problem will not clear on its own."""
    return sorted(name for name, entry in entries.items() if entry["state"] == POD_NOT_READY and is_stuck(entry["problem"]))


# API answers that no amount of waiting fixes: bad credentials or missing RBAC.
FATAL_API_STATUSES = (401, 403)


class GateStuck(Exception):
    """A pod stays in a state that does not clear without a change; waiting longer is pointless."""

    def __init__(self, message, report):
        self.report = report
        super(GateStuck, self).__init__(message)


def probeable(pod):
    """Worth asking through the pod proxy: running, not terminating, not stuck."""
    status = pod.get("status") or {}
    if (pod.get("metadata") or {}).get("deletionTimestamp") or status.get("phase") != "Running":
        return False
    return not is_stuck(pod_problem(pod))


def pod_signature(pods):
    """What of the pods' status can change a gate's verdict, compared between looks: which
    pods, their phase, conditions and containers' readiness, restarts and waiting reasons."""
    signature = []
    for pod in pods:
        meta, status = pod.get("metadata") or {}, pod.get("status") or {}
        containers = tuple(
            (c.get("name"), c.get("ready"), c.get("restartCount"), sorted((c.get("state") or {}).keys()),
             ((c.get("state") or {}).get("waiting") or {}).get("reason"))
            for c in status.get("containerStatuses") or [])
        conditions = tuple((c.get("type"), c.get("status"), c.get("reason")) for c in status.get("conditions") or [])
        signature.append((meta.get("name"), meta.get("uid"), meta.get("deletionTimestamp"), status.get("phase"),
                          str(conditions), str(containers)))
    return tuple(sorted(signature, key=str))


def list_pods(api, namespace, selector):
    """The pods matching `selector`; none while the namespace does not exist (yet)."""
    try:
        return api.list_pods(namespace, selector)
    except ApiError as error:
        if error.status != 404:
            raise
        return []


class Gate(object):
    """Waiting for a component: subclasses implement observe(), which returns a report with
    `ready`, `reason` and `stuck` (the pods whose problem does not clear on its own)."""

    stuck_error = GateStuck
    subject = "the pods"
    # Waiting looks at the pods' own status every `poll` seconds, and asks the applications
    # through the pod proxy when that status changed, or else after 0.25, 0.5, 1, 2, 2... s:
    # a gate passes within about `poll` of its last pod becoming Ready without asking every
    # member several times a second through a long wait.
    poll = 0.25
    ask_every = 2.0

    def __init__(self, stuck_grace=60, clock=time.monotonic):
        self.stuck_grace = stuck_grace
        self.clock = clock
        self.last = None
        self._stuck_since = {}
        self._signature = None
        self._asked_at = None
        self._ask_interval = self.poll

    def ask_due(self, signature):
        """Whether this look asks the applications again, or reuses the last (not ready) report
        because the pods' status (`signature`) has not changed and it was asked recently."""
        now = self.clock()
        if self.last is None or self.last["ready"] or signature != self._signature:
            self._signature, self._asked_at, self._ask_interval = signature, now, self.poll
            return True
        if now - self._asked_at >= self._ask_interval:
            self._asked_at = now
            self._ask_interval = min(self._ask_interval * 2, self.ask_every)
            return True
        return False

    def observe(self):
        raise NotImplementedError

    def probe(self):
        """For wait_until: the report when ready; NotReady otherwise; `stuck_error` when a pod
        has been stuck (CrashLoopBackOff, ImagePullBackOff, ...) for `stuck_grace` seconds."""
        try:
            report = self.observe()
        except ApiError as error:
            if error.status in FATAL_API_STATUSES:
                raise
            raise NotReady("cannot read %s: %s" % (self.subject, error))
        if report["ready"]:
            return report
        now = self.clock()
        self._stuck_since = dict((name, self._stuck_since.get(name, now)) for name in report["stuck"])
        for name in report["stuck"]:
            if now - self._stuck_since[name] >= self.stuck_grace:
                raise self.stuck_error(report["reason"], report)
        raise NotReady(report["reason"])

    def wait(self, timeout, sleep=time.sleep):
        """Returns (report, waited seconds); raises NotReady on timeout, `stuck_error`, ApiError."""
        return wait_until(self.probe, timeout, interval=self.poll, max_interval=self.poll, clock=self.clock, sleep=sleep)


class MembersGate(Gate):
    """The members of a StatefulSet: subclasses read one member through the pod proxy
    (`read_member(name)`) and judge them all (`evaluate(pods, reads)`)."""

    def __init__(self, api, namespace, replicas, selector, expected=None, stuck_grace=60, clock=time.monotonic):
        super(MembersGate, self).__init__(stuck_grace, clock)
        self.api = api
        self.namespace = namespace
        self.replicas = replicas
        self.selector = selector
        self.expected = expected
        self.reads = {}

    def read_member(self, name):
        raise NotImplementedError

    def evaluate(self, pods, reads):
        raise NotImplementedError

    def observe(self):
        """One look: list the pods, read each member, evaluate. Raises ApiError when listing fails."""
        pods = list_pods(self.api, self.namespace, self.selector)
        if not self.ask_due(pod_signature(pods)):
            return self.last
        wanted = set(self.expected) if self.expected is not None else None
        reads = {}
        for pod in pods:
            name = pod["metadata"]["name"]
            if (wanted is None or name in wanted) and probeable(pod):
                reads[name] = self.read_member(name)
        self.reads = reads
        self.last = self.evaluate(pods, reads)
        return self.last


def check_gate_params(params):
    """Option checks every gate module shares; raises ValueError."""
    if params["replicas"] < 1:
        raise ValueError("replicas must be at least 1, got %d" % params["replicas"])
    if params["timeout"] < 0 or params["stuck_grace"] < 0:
        raise ValueError("timeout and stuck_grace must not be negative")


GATE_MODULE_KWARGS = dict(supports_check_mode=True, mutually_exclusive=[("cluster_name", "selector")],
                          required_one_of=[("cluster_name", "selector")])


def describe(params, component):
    """How a gate's failure message names what it checked."""
    return "%s %s in namespace %s" % (component, params["cluster_name"] or "selected by %s" % params["selector"], params["namespace"])


def run_gate(module, build, what, state):
    """The body every gate module shares: build the gate, look once in check mode, wait
    otherwise, and exit or fail with a message naming the pods. `state(report, waited)` builds
    the result; `report` is None when nothing was observed."""
    start = time.monotonic()
    gate = None
    try:
        check_gate_params(module.params)
        gate = build()
        if module.check_mode:
            # The objects were only dry-run: report what is there, neither wait nor fail.
            report, waited = gate.observe(), 0.0
        else:
            report, waited = gate.wait(module.params["timeout"])
    except GateStuck as error:
        msg = "%s cannot become ready without a change (gave up after %ds): %s" % (what, time.monotonic() - start, error)
    except NotReady as error:
        msg = "%s is not ready after %ds: %s" % (what, module.params["timeout"], error)
    except ApiError as error:
        msg = "%s cannot be checked: %s" % (what, error)
    except ValueError as error:
        msg = str(error)
    else:
        module.exit_json(changed=False, **state(report, waited))
        return
    module.fail_json(msg=msg, **state(gate.last if gate else None, time.monotonic() - start))
