# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restart the outdated pods of an OnDelete StatefulSet one at a time, each behind a gate.

A pod is outdated when its controller-revision-hash is not the StatefulSet's updateRevision,
that is when the pod template (config hash, image, resources) changed since it started. The
live state is read again before every restart, so a run interrupted midway resumes where it
stopped: pods already restarted carry the new revision and are not restarted again.

A component policy decides which pod may go next and when (ZooKeeper: followers first, leader
last, only while the ensemble is healthy; Kafka: the controller last, never below
min.insync.replicas). Stuck outdated pods (CrashLoopBackOff, ImagePullBackOff, Unschedulable)
go first whatever the policy says, as Strimzi does: they serve nothing, and replacing them is
how a re-run with a fixed config repairs a bad one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.streams.kafka.plugins.module_utils.k8s_api import ApiError
from ansible_collections.streams.kafka.plugins.module_utils.readiness import GateStuck, NotReady, is_stuck, pod_problem, wait_until

REVISION_LABEL = "controller-revision-hash"


class RollBlocked(Exception):
    """The roll could not go on within its timeout; the message names the pod and why."""


def ordinal(pod_name):
    return int(pod_name.rsplit("-", 1)[1])


def outdated_pods(sts, pods):
    """Names of the pods not on the StatefulSet's update revision, by ordinal."""
    status = sts.get("status") or {}
    generation = sts["metadata"].get("generation") or 0
    if (status.get("observedGeneration") or 0) < generation or not status.get("updateRevision"):
        raise NotReady("StatefulSet %s: its controller has not observed generation %s yet" % (sts["metadata"]["name"], generation))
    names = [pod["metadata"]["name"] for pod in pods
             if (pod["metadata"].get("labels") or {}).get(REVISION_LABEL) != status["updateRevision"]]
    return sorted(names, key=ordinal)


class Roller(object):
    """policy.pick(pods, outdated) -> pod name or NotReady(reason); policy.ready() -> gate probe."""

    def __init__(self, api, namespace, statefulset, selector, policy, timeout, clock=time.monotonic, sleep=time.sleep):
        self.api = api
        self.namespace = namespace
        self.statefulset = statefulset
        self.selector = selector
        self.policy = policy
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep
        self.reasons = []

    def _state(self):
        try:
            sts = self.api.read_statefulset(self.namespace, self.statefulset)
            if sts is None:
                return [], []
            pods = self.api.list_pods(self.namespace, self.selector)
        except ApiError as error:
            raise NotReady("cannot read StatefulSet %s: %s" % (self.statefulset, error))
        return pods, outdated_pods(sts, pods)

    def outdated(self):
        """The outdated pods now, without waiting (raises NotReady while the controller lags)."""
        return self._state()[1]

    def _wait(self, probe, what, **intervals):
        try:
            return wait_until(probe, self.timeout, clock=self.clock, sleep=self.sleep, **intervals)
        except NotReady as error:
            raise RollBlocked("%s: %s" % (what, error))

    def _pick(self):
        pods, outdated = self._state()
        if not outdated:
            return None
        by_name = dict((pod["metadata"]["name"], pod) for pod in pods)
        for name in outdated:
            if is_stuck(pod_problem(by_name[name])):
                return by_name[name]
        try:
            return by_name[self.policy.pick(pods, outdated)]
        except NotReady as error:
            if not self.reasons or self.reasons[-1] != str(error):
                self.reasons.append(str(error))
            raise

    def _replaced(self, name, uid):
        pods, _outdated = self._state()
        pod = dict((p["metadata"]["name"], p) for p in pods).get(name)
        if pod is None or pod["metadata"]["uid"] == uid:
            raise NotReady("pod %s has not been recreated yet" % name)
        if name in _outdated:
            raise NotReady("pod %s came back on the old revision" % name)
        problem = pod_problem(pod)
        if problem and not is_stuck(problem):
            # Two cheap reads until Kubernetes says Ready; stuck pods go on to the gate's grace.
            raise NotReady("pod %s: %s" % (name, problem))
        return self.policy.ready()

    def run(self):
        """Roll every outdated pod; return what was restarted, in order, with why each waited."""
        restarted = []
        while True:
            self.reasons = []
            pod, waited = self._wait(self._pick, "the roll of StatefulSet %s cannot go on" % self.statefulset)
            if pod is None:
                return restarted
            name = pod["metadata"]["name"]
            self.api.delete_pod(self.namespace, name, pod["metadata"]["uid"])
            start = self.clock()
            # A flat, short poll: the restart is the roll's critical path (make bench-roll).
            self._wait(lambda: self._replaced(name, pod["metadata"]["uid"]), "pod %s did not come back ready" % name,
                       interval=0.1, max_interval=0.1)
            restarted.append({"pod": name, "waited_before": round(waited, 1), "waited_for": self.reasons,
                              "restart_seconds": round(self.clock() - start, 1)})

    def plan(self):
        """The pods that would restart now, stuck ones first, without touching any."""
        (pods, outdated), _waited = self._wait(self._state, "StatefulSet %s" % self.statefulset)
        by_name = dict((pod["metadata"]["name"], pod) for pod in pods)
        stuck = [name for name in outdated if is_stuck(pod_problem(by_name[name]))]
        rest = [name for name in outdated if name not in stuck]
        return stuck + self.policy.order(rest)


def run_module(module, what, build):
    """The body of the roll modules: `build()` returns the Roller, or a list of Rollers to run
    one after the other (KRaft: the controllers, then the brokers). Plans, rolls unless in check
    mode, and exits with what restarted, or fails naming the pod and why."""
    rollers, planned, restarted = [], [], []
    try:
        built = build()
        rollers = list(built) if isinstance(built, (list, tuple)) else [built]
        if module.check_mode:
            for roller in rollers:
                planned += roller.plan()
        else:
            for roller in rollers:
                # Each StatefulSet is planned right before it rolls: the next one's order depends
                # on the state the previous roll leaves (which controller leads, for instance).
                planned += roller.plan()
                restarted += roller.run()
    except (RollBlocked, NotReady, GateStuck, ApiError, ValueError) as error:
        module.fail_json(msg="%s: %s" % (what, error), planned=planned, restarted=restarted)
    notes = []
    for roller in rollers:
        notes += [note for note in getattr(roller.policy, "notes", []) if note not in notes]
    module.exit_json(changed=bool(planned if module.check_mode else restarted), planned=planned, restarted=restarted,
                     notes=notes)
