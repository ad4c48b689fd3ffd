# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every readiness gate shares: why a pod is not ready, and waiting with a deadline."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

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
