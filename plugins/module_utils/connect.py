# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kafka Connect's REST API through the pod proxy: the Connect/MirrorMaker 2 gate and connectors.

The parsers (:func:`parse_root`, :func:`parse_connectors`, :func:`parse_error`) and the
verdicts (:func:`connector_problems`, :func:`plan`) are pure, so the unit tests feed them
recorded answers of a real Connect worker. :class:`ConnectClient` speaks to one worker through
``PodApi.proxy_request``; :class:`ConnectGate` is the readiness gate; :class:`ConnectorManager`
creates, updates, pauses, stops and deletes one connector, retrying while the workers rebalance.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import time

from ansible_collections.streams.kafka.plugins.module_utils.k8s_api import ApiError
from ansible_collections.streams.kafka.plugins.module_utils.readiness import FATAL_API_STATUSES, NotReady, pod_problem, wait_until
from ansible_collections.streams.kafka.plugins.module_utils.workload import (
    DeploymentGate,
    api_server_message,
    selector_for,
    unreachable,
)
from ansible_collections.streams.kafka.plugins.module_utils.zookeeper import short

DEFAULT_PORT = 8083
EXPAND = [("expand", "status"), ("expand", "info")]
# The app.kubernetes.io/name of the Connect-based components.
COMPONENTS = ("connect", "mirrormaker")
# Desired state (the module's `state`) -> the connector state Connect reports once it is reached.
RUNTIME_STATES = {"running": "RUNNING", "paused": "PAUSED", "stopped": "STOPPED"}
# Names travel in the proxied URL path; keep them to characters no layer re-encodes.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,248}$")
SENSITIVE_KEY = re.compile(r"(password|secret|jaas|token|credential|api[._-]?key)", re.IGNORECASE)
MASK = "********"


class ConnectError(Exception):
    """A non-2xx answer. `from_connect` is False when the API server answered for the pod
    (pod gone, port refused), True when the Connect worker itself did."""

    def __init__(self, status, message, from_connect=True, detail=None):
        self.status = status
        self.from_connect = from_connect
        self.detail = detail or message  # the message of whoever answered, without the request
        super(ConnectError, self).__init__(message)

    @property
    def retryable(self):
        """Worth asking again: the workers rebalance (409), start (503), or the pod is away."""
        return not self.from_connect or self.status in (409, 503)


# -- parsing ---------------------------------------------------------------------------------

def _json(text):
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        raise ValueError("not JSON: %s" % short(text or "<empty>"))


def parse_error(status, text):
    """(message, from_connect) of a non-2xx answer: Connect's {"error_code", "message"}, or the
    API server's Status object when it could not reach the pod."""
    from_api_server = api_server_message(text)
    if from_api_server:
        return from_api_server, False
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        return "HTTP %s: %s" % (status, short(text or "<empty>")), True
    if isinstance(data, dict) and data.get("message"):
        return short(data["message"], 400), True
    return "HTTP %s: %s" % (status, short(text)), True


def parse_root(text):
    """Connect's `GET /`: version, commit and the Kafka cluster id its workers use."""
    data = _json(text)
    if not isinstance(data, dict) or not data.get("version"):
        raise ValueError("no Kafka Connect version in %s" % short(text))
    return {"version": data.get("version"), "commit": data.get("commit"), "kafka_cluster_id": data.get("kafka_cluster_id")}


def first_line(trace):
    """The exception line of a Java stack trace, which is what says what went wrong."""
    if not trace:
        return None
    return short(trace.strip().splitlines()[0], 300)


def _task(task):
    return {"id": task.get("id"), "state": task.get("state"), "worker_id": task.get("worker_id"),
            "trace": first_line(task.get("trace"))}


def parse_connectors(text):
    """`GET /connectors?expand=status&expand=info`: connector name -> type, state, worker_id,
    trace (its first line), tasks (id, state, worker_id, trace) and class."""
    data = _json(text)
    if not isinstance(data, dict):
        raise ValueError("expected an object of connectors, got %s" % short(text))
    connectors = {}
    for name, entry in sorted(data.items()):
        entry = entry if isinstance(entry, dict) else {}
        status = entry.get("status") or {}
        info = entry.get("info") or {}
        connector = status.get("connector") or {}
        connectors[name] = {
            "name": name,
            "type": status.get("type") or info.get("type"),
            "class": (info.get("config") or {}).get("connector.class"),
            "state": connector.get("state"),
            "worker_id": connector.get("worker_id"),
            "trace": first_line(connector.get("trace")),
            "tasks": sorted((_task(task) for task in status.get("tasks") or []), key=lambda task: task["id"]),
        }
    return connectors


def connector_problems(connectors, expected=None, required=()):
    """Why the connectors are not all where they should be. `expected` maps a name to the state
    it must be in (RUNNING when absent from it); `required` names connectors that must exist."""
    expected = expected or {}
    problems = []
    for name in sorted(set(required) - set(connectors)):
        problems.append("connector %s does not exist" % name)
    for name, connector in sorted(connectors.items()):
        want = expected.get(name, "RUNNING")
        state = connector["state"] or "unknown"
        if state != want:
            where = " on worker %s" % connector["worker_id"] if connector["worker_id"] else ""
            why = ": %s" % connector["trace"] if connector["trace"] else ""
            wanted = "" if want == "RUNNING" and state in ("FAILED", "UNASSIGNED", "RESTARTING") else ", expected %s" % want
            problems.append("connector %s is %s%s%s%s" % (name, state, wanted, where, why))
            continue
        for task in connector["tasks"]:
            # A stopped connector has no tasks; a paused one's tasks are paused.
            if task["state"] != want:
                where = " on worker %s" % task["worker_id"] if task["worker_id"] else ""
                why = ": %s" % task["trace"] if task["trace"] else ""
                problems.append("connector %s task %s is %s%s%s" % (name, task["id"], task["state"], where, why))
    return problems


# -- connector configuration -----------------------------------------------------------------

def normalize_config(name, config):
    """The connector's config as Connect stores it: every value a string, `name` included."""
    out = {}
    for key, value in (config or {}).items():
        if value is None or isinstance(value, dict):
            raise ValueError("connector %s: config key %s must be a string, number, boolean or list, got %r" % (name, key, value))
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            value = ",".join("true" if v is True else "false" if v is False else str(v) for v in value)
        out[str(key)] = str(value)
    if out.get("name", name) != name:
        raise ValueError("connector %s: config sets name=%s; leave it out or make it match" % (name, out["name"]))
    out["name"] = name
    return out


def mask(config):
    """A copy with the values of keys that look secret (password, secret, jaas, token) hidden."""
    if config is None:
        return None
    return dict((key, MASK if SENSITIVE_KEY.search(key) else value) for key, value in config.items())


def plan(current_config, current_state, desired_config, desired_state):
    """The steps from the connector as it is to as wanted, in order: created or updated, then
    paused, resumed or stopped; or deleted. `current_state` is Connect's (RUNNING, PAUSED, ...)."""
    if desired_state == "absent":
        return ["deleted"] if current_config is not None else []
    steps = []
    if current_config is None:
        steps.append("created")
        current_state = "RUNNING"
    elif current_config != desired_config:
        steps.append("updated")
    target = RUNTIME_STATES[desired_state]
    if target == "PAUSED" and current_state != "PAUSED":
        steps.append("paused")
    elif target == "STOPPED" and current_state != "STOPPED":
        steps.append("stopped")
    elif target == "RUNNING" and current_state in ("PAUSED", "STOPPED"):
        steps.append("resumed")
    return steps


# -- talking to one worker -------------------------------------------------------------------

def connector_path(name, suffix=""):
    if not NAME_PATTERN.match(name or ""):
        raise ValueError("connector name %r is not valid: use letters, digits, '.', '_' and '-', starting "
                         "with a letter or digit, at most 249 characters (names travel in the pod proxy's URL path)" % name)
    return "/connectors/%s%s" % (name, suffix)


class ConnectClient(object):
    """Connect's REST API on one pod, through the API server's pod proxy."""

    def __init__(self, api, namespace, pod, port=DEFAULT_PORT):
        self.api = api
        self.namespace = namespace
        self.pod = pod
        self.port = port

    def call(self, method, path, body=None, query=None):
        """The parsed JSON answer (None when empty); ConnectError on a non-2xx status."""
        try:
            status, text = self.api.proxy_request(self.namespace, self.pod, self.port, path, method, body, query)
        except ApiError as error:
            raise ConnectError(error.status, str(error), from_connect=False)
        if not 200 <= status < 300:
            message, from_connect = parse_error(status, text)
            raise ConnectError(status, "%s %s on pod %s answered %s: %s" % (method, path, self.pod, status, message),
                               from_connect, message)
        return _json(text) if text and text.strip() else None

    def _text(self, path, query=None):
        try:
            status, text = self.api.proxy_request(self.namespace, self.pod, self.port, path, "GET", None, query)
        except ApiError as error:
            raise ConnectError(error.status, str(error), from_connect=False)
        if not 200 <= status < 300:
            message, from_connect = parse_error(status, text)
            raise ConnectError(status, "GET %s on pod %s answered %s: %s" % (path, self.pod, status, message),
                               from_connect, message)
        return text

    def root(self):
        return parse_root(self._text("/"))

    def connectors(self):
        return parse_connectors(self._text("/connectors", EXPAND))

    def _get_or_none(self, path):
        try:
            return self.call("GET", path)
        except ConnectError as error:
            if error.from_connect and error.status == 404:
                return None
            raise

    def config(self, name):
        return self._get_or_none(connector_path(name, "/config"))

    def status(self, name):
        return self._get_or_none(connector_path(name, "/status"))

    def put_config(self, name, config):
        return self.call("PUT", connector_path(name, "/config"), body=config)

    def pause(self, name):
        self.call("PUT", connector_path(name, "/pause"))

    def resume(self, name):
        self.call("PUT", connector_path(name, "/resume"))

    def stop(self, name):
        self.call("PUT", connector_path(name, "/stop"))

    def delete(self, name):
        try:
            self.call("DELETE", connector_path(name))
        except ConnectError as error:
            if not (error.from_connect and error.status == 404):
                raise


# -- the gate ----------------------------------------------------------------------------------

def deployment_name(cluster_name, component):
    return "%s-%s" % (cluster_name, component)


class ConnectGate(DeploymentGate):
    """Every worker's REST API answers and reports the same Kafka cluster; with
    `check_connectors`, every connector and task is in its expected state (RUNNING unless
    `expected` says PAUSED or STOPPED) and every name in `required` exists."""

    component = "Kafka Connect"

    def __init__(self, api, namespace, selector, replicas, port=DEFAULT_PORT, deployment=None, stuck_grace=60,
                 check_connectors=True, expected=None, required=(), clock=time.monotonic):
        super(ConnectGate, self).__init__(api, namespace, selector, replicas, port, deployment, stuck_grace, clock)
        self.check_connectors = check_connectors
        self.expected = expected or {}
        self.required = list(required)

    def blank_pod(self, name):
        entry = super(ConnectGate, self).blank_pod(name)
        entry.update(version=None, kafka_cluster_id=None)
        return entry

    def read_pod(self, name):
        try:
            root = ConnectClient(self.api, self.namespace, name, self.port).root()
        except ConnectError as error:
            if not error.from_connect:
                return unreachable("REST API on port %s does not answer: %s" % (self.port, error.detail))
            return {"answered": True, "problem": "REST API on port %s answered GET / with %s: %s" % (
                self.port, error.status, error.detail)}
        except ValueError as error:
            return {"answered": True, "problem": "REST API on port %s answered / with %s" % (self.port, error)}
        return {"answered": True, "problem": None, "version": root["version"], "kafka_cluster_id": root["kafka_cluster_id"]}

    def judge(self, serving):
        problems = []
        clusters = sorted(set(read.get("kafka_cluster_id") for read in serving.values() if read.get("kafka_cluster_id")))
        versions = sorted(set(read.get("version") for read in serving.values() if read.get("version")))
        extra = {"connectors": {}, "kafka_cluster_id": clusters[0] if len(clusters) == 1 else None,
                 "version": versions[0] if len(versions) == 1 else None}
        if len(clusters) > 1:
            problems.append("workers use different Kafka clusters (%s): %s" % (
                ", ".join(clusters), ", ".join("%s %s" % (name, read.get("kafka_cluster_id")) for name, read in sorted(serving.items()))))
        if not serving:
            return problems, extra
        pod = sorted(serving)[0]
        try:
            connectors = ConnectClient(self.api, self.namespace, pod, self.port).connectors()
        except (ConnectError, ValueError) as error:
            # Without check_connectors the list is a courtesy (the roles use it to find
            # connectors to delete); a worker still joining its group may not answer it yet.
            if self.check_connectors:
                problems.append("pod %s: cannot list the connectors: %s" % (pod, error))
            return problems, extra
        extra["connectors"] = connectors
        if not self.check_connectors:
            return problems, extra
        problems.extend(connector_problems(connectors, self.expected, self.required))
        return problems, extra


def gate_from_params(params, api):
    """The ConnectGate the connect_ready options describe."""
    expected = {}
    for state, names in (("PAUSED", params["paused"]), ("STOPPED", params["stopped"])):
        for name in names:
            if name in expected:
                raise ValueError("connector %s is listed as both paused and stopped" % name)
            expected[name] = state
    if params["cluster_name"]:
        selector = selector_for(params["cluster_name"], params["component"])
        deployment = params["deployment"] or deployment_name(params["cluster_name"], params["component"])
    else:
        selector, deployment = params["selector"], params["deployment"]
    return ConnectGate(api, params["namespace"], selector, params["replicas"], port=params["port"],
                       deployment=deployment, stuck_grace=params["stuck_grace"],
                       check_connectors=params["check_connectors"], expected=expected,
                       required=params["connectors"])


# -- managing one connector ------------------------------------------------------------------

def serving_pod(api, namespace, selector):
    """The first Running and Ready pod of the selector; NotReady naming what is wrong otherwise."""
    try:
        pods = api.list_pods(namespace, selector)
    except ApiError as error:
        if error.status in FATAL_API_STATUSES:
            raise
        raise NotReady("cannot list the Connect pods: %s" % error)
    problems = []
    for pod in pods:
        problem = pod_problem(pod)
        if problem is None:
            return pod["metadata"]["name"]
        problems.append("pod %s: %s" % (pod["metadata"]["name"], problem))
    raise NotReady("no Connect pod is ready (selector %s)%s" % (selector, ": " + "; ".join(problems) if problems else ""))


class ConnectorManager(object):
    """Bring one connector to its desired config and state, retrying while Connect rebalances."""

    def __init__(self, api, namespace, selector, port=DEFAULT_PORT, timeout=120, clock=time.monotonic, sleep=time.sleep):
        self.api = api
        self.namespace = namespace
        self.selector = selector
        self.port = port
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep
        self.deadline = None
        self.pod = None

    def _attempt(self, step):
        """Run step(client) on a ready pod, again (on a freshly chosen pod) while the failure is
        one that passes (rebalance, worker starting, pod away), until the deadline."""
        def probe():
            self.pod = serving_pod(self.api, self.namespace, self.selector)
            try:
                return step(ConnectClient(self.api, self.namespace, self.pod, self.port))
            except ConnectError as error:
                if error.retryable:
                    raise NotReady(str(error))
                raise
        if self.deadline is None:
            self.deadline = self.clock() + self.timeout
        return wait_until(probe, max(0.0, self.deadline - self.clock()), clock=self.clock, sleep=self.sleep)[0]

    def read(self, name):
        """(config, Connect's connector state) of the connector, or (None, None) when it does not exist."""
        def step(client):
            config = client.config(name)
            if config is None:
                return None, None
            status = client.status(name) or {}
            return config, (status.get("connector") or {}).get("state")
        return self._attempt(step)

    def ensure(self, name, config, state, check_mode=False):
        """Returns (steps taken, before, after); `before`/`after` are {state, config (masked)}."""
        desired = normalize_config(name, config) if state != "absent" else None
        connector_path(name)
        current_config, current_state = self.read(name)
        before = {"state": (current_state or "unknown").lower() if current_config is not None else "absent",
                  "config": mask(current_config)}
        steps = plan(current_config, current_state, desired, state)
        if state == "absent":
            after = {"state": "absent", "config": None}
        else:
            after = {"state": state if steps else before["state"], "config": mask(desired)}
        if check_mode or not steps:
            return steps, before, after
        actions = {
            "created": lambda client: client.put_config(name, desired),
            "updated": lambda client: client.put_config(name, desired),
            "paused": lambda client: client.pause(name),
            "resumed": lambda client: client.resume(name),
            "stopped": lambda client: client.stop(name),
            "deleted": lambda client: client.delete(name),
        }
        for step in steps:
            self._attempt(actions[step])
        return steps, before, after
