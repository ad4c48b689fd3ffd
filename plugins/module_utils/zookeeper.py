# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ZooKeeper readiness gate: read every member's AdminServer and judge the ensemble.

Ready means every member answers and serves, exactly one member leads, and the leader's
``synced_followers`` is ``replicas - 1``. :func:`evaluate` is pure (pods and AdminServer
answers in, verdict out); :class:`EnsembleGate` gathers them through the API server's pod
proxy and waits with :func:`readiness.wait_until`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.streams.kafka.plugins.module_utils.k8s_api import ApiError
from ansible_collections.streams.kafka.plugins.module_utils.readiness import (
    GateStuck,
    MembersGate,
    NotReady,
    check_gate_params,
    member_state,
    stuck_pods,
)

MNTR_PATH = "/commands/mntr"
SRVR_PATH = "/commands/srvr"
DEFAULT_ADMIN_PORT = 8080
SERVING_STATES = ("leader", "follower", "observer")


class EnsembleStuck(GateStuck):
    """A member stays in a state that does not clear without a change."""


def statefulset_name(cluster_name):
    return "%s-zookeeper" % cluster_name


def selector_for(cluster_name):
    """The label selector of a cluster's ZooKeeper pods (instance + name, as the role sets them)."""
    return "app.kubernetes.io/instance=%s,app.kubernetes.io/name=zookeeper" % cluster_name


def expected_pods(cluster_name, replicas):
    return ["%s-%d" % (statefulset_name(cluster_name), ordinal) for ordinal in range(replicas)]


def member_id(pod_name):
    """ZooKeeper's myid of a StatefulSet pod: its ordinal plus one (None when it has no ordinal)."""
    match = re.search(r"-([0-9]+)$", pod_name)
    return int(match.group(1)) + 1 if match else None


def short(text, limit=200):
    """One line of at most `limit` characters; an HTML error page becomes its title."""
    text = text if isinstance(text, str) else repr(text)
    title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if title:
        text = title.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def parse_command(text):
    """Parse an AdminServer answer (JSON). Returns (data, error): error is ZooKeeper's own
    `error` field (set when the member does not serve), data is the whole object."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        raise ValueError("not JSON: %s" % short(text or "<empty>"))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object: %s" % short(text))
    return data, data.get("error")


def format_zxid(value):
    """ZooKeeper's zxid as it appears in its logs (0x<epoch><counter>), or None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return "0x%x" % value


def _blank_read():
    return {"answered": False, "server_state": None, "synced_followers": None, "zxid": None, "problem": None}


def read_member(api, namespace, pod, port=DEFAULT_ADMIN_PORT):
    """Ask one member's AdminServer through the pod proxy.

    Returns answered (the AdminServer replied at all), server_state, synced_followers (the
    leader only), zxid and problem (None when the member serves as leader or follower).
    """
    read = _blank_read()
    mntr_failure = None
    try:
        mntr, error = parse_command(api.proxy_get(namespace, pod, port, MNTR_PATH))
        read["answered"] = True
        if error:
            read["problem"] = "not serving requests: %s" % short(error)
            return read
        read["server_state"] = mntr.get("server_state")
        if read["server_state"] == "leader":
            synced = mntr.get("synced_followers")
            read["synced_followers"] = synced if isinstance(synced, int) and not isinstance(synced, bool) else None
        if read["server_state"] not in SERVING_STATES:
            read["problem"] = "server_state is %s, not leader or follower" % (read["server_state"] or "missing from mntr")
    except ApiError as error:
        mntr_failure = short(str(error))
    except ValueError as error:
        read["answered"] = True
        mntr_failure = "mntr answered %s" % error
    # srvr carries the zxid; when mntr failed it also tells "not serving" from "not answering"
    # (ZooKeeper 3.8 answers mntr with HTTP 500 while it has no quorum).
    try:
        srvr, error = parse_command(api.proxy_get(namespace, pod, port, SRVR_PATH))
    except (ApiError, ValueError):
        srvr, error = None, None
    if srvr is not None:
        read["answered"] = True
        read["zxid"] = format_zxid((srvr.get("server_stats") or {}).get("last_processed_zxid"))
        if mntr_failure and error:
            read["problem"] = "not serving requests: %s" % short(error)
            return read
    if mntr_failure:
        if read["answered"]:
            read["problem"] = "AdminServer answered port %s %s without the mntr data: %s" % (port, MNTR_PATH, mntr_failure)
        else:
            read["problem"] = "AdminServer on port %s does not answer: %s" % (port, mntr_failure)
    return read


def _member(name, pod, read):
    member = {"pod": name, "myid": member_id(name), "server_state": None, "zxid": None, "synced_followers": None}
    if pod is not None:
        for key in ("server_state", "zxid", "synced_followers"):
            member[key] = (read or {}).get(key)
    member["state"], member["problem"] = member_state(pod, read)
    return member


def evaluate(pods, reads, replicas, expected=None):
    """Judge the ensemble from the pods (dicts as the API returns them) and their reads.

    `expected` lists the pod names that must exist (the StatefulSet's); without it every pod
    given is a member and there must be `replicas` of them. Returns a dict: ready, leader
    (pod name or None), members (pod name -> state), problems (each naming its pod), reason
    and stuck (the pods whose problem does not clear on its own).
    """
    by_name = dict(((pod.get("metadata") or {}).get("name"), pod) for pod in pods)
    names = list(expected) if expected is not None else sorted(by_name)
    members = {}
    problems = []
    if expected is None and len(names) != replicas:
        problems.append("found %d ZooKeeper pod(s) (%s), expected %d" % (len(names), ", ".join(names) or "none", replicas))
    for name in names:
        member = _member(name, by_name.get(name), reads.get(name))
        members[name] = member
        if member["problem"]:
            problems.append("pod %s: %s" % (name, member["problem"]))
    leaders = sorted(name for name, member in members.items() if member["server_state"] == "leader")
    leader = leaders[0] if len(leaders) == 1 else None
    if not leaders:
        states = ", ".join("%s %s" % (name, members[name]["server_state"] or members[name]["state"]) for name in names)
        problems.append("no member is leader (%s)" % (states or "no pods"))
    elif len(leaders) > 1:
        problems.append("pods %s all report server_state leader; expected exactly one" % ", ".join(leaders))
    else:
        synced = members[leader]["synced_followers"]
        # More is fine: a member joining while the ensemble grows one member at a time.
        if synced is None or synced < replicas - 1:
            lagging = [name for name in names if name != leader and members[name]["server_state"] != "follower"]
            problems.append("leader pod %s has %s synced follower(s), expected %d%s" % (
                leader, "no count of" if synced is None else synced, replicas - 1,
                " (not following: %s)" % ", ".join(lagging) if lagging else ""))
    return {"ready": not problems, "leader": leader, "members": members, "problems": problems,
            "reason": "; ".join(problems) or "ready", "stuck": stuck_pods(members)}


class EnsembleGate(MembersGate):
    """Observe one ensemble through the API; wait for it with a deadline."""

    stuck_error = EnsembleStuck

    def __init__(self, api, namespace, replicas, selector, expected=None, port=DEFAULT_ADMIN_PORT, **kwargs):
        super(EnsembleGate, self).__init__(api, namespace, replicas, selector, expected, **kwargs)
        self.port = port

    def read_member(self, name):
        return read_member(self.api, self.namespace, name, self.port)

    def evaluate(self, pods, reads):
        return evaluate(pods, reads, self.replicas, self.expected)


class RollPolicy(object):
    """Followers first, the leader last, and each only while the whole ensemble is healthy."""

    def __init__(self, gate):
        self.gate = gate

    def _report(self):
        try:
            return self.gate.observe()
        except ApiError as error:
            raise NotReady("cannot read the ensemble: %s" % error)

    @staticmethod
    def _ordered(names, leader):
        followers = sorted((name for name in names if name != leader), key=member_id)
        return followers + [name for name in names if name == leader]

    def order(self, names):
        try:
            leader = self._report()["leader"]
        except NotReady:
            leader = None
        return self._ordered(names, leader)

    def pick(self, pods, outdated):
        report = self._report()
        if not report["ready"]:
            raise NotReady("no member restarts while the ensemble is not healthy: %s" % report["reason"])
        return self._ordered(outdated, report["leader"])[0]

    def ready(self):
        return self.gate.probe()


# Options of the modules that observe an ensemble; documented in doc_fragments/zookeeper_gate.py.
GATE_OPTIONS = dict(
    namespace=dict(type="str", required=True),
    cluster_name=dict(type="str"),
    selector=dict(type="str"),
    replicas=dict(type="int", required=True),
    admin_port=dict(type="int", default=DEFAULT_ADMIN_PORT),
    stuck_grace=dict(type="int", default=60),
)


def gate_from_params(params, api):
    """The EnsembleGate the zookeeper_ready and zookeeper_roll options describe."""
    check_gate_params(params)
    if params["cluster_name"]:
        selector = selector_for(params["cluster_name"])
        expected = expected_pods(params["cluster_name"], params["replicas"])
    else:
        selector, expected = params["selector"], None
    return EnsembleGate(api, params["namespace"], params["replicas"], selector, expected,
                        port=params["admin_port"], stuck_grace=params["stuck_grace"])
