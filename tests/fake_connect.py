"""A Kafka Connect REST API that keeps state, for kubesim's pod proxy and the unit tests.

It answers as a Kafka 3.9 worker does: ``GET /``, ``GET /connectors`` (with
``?expand=status&expand=info``), ``GET|PUT /connectors/<name>/config``, ``GET .../status``,
``PUT .../pause|resume|stop`` and ``DELETE /connectors/<name>``, with Connect's status codes
(201 created, 200 updated, 202 paused/resumed, 204 stopped/deleted, 404, 409, 400, 500) and
its ``{"error_code", "message"}`` error bodies.

``conflicts`` makes the next N writes answer 409, as a rebalancing group does. A connector whose
config has ``"simulate.failure": "task"`` (or ``"connector"``) reports that part FAILED with a
stack trace. ``writes`` lists the (method, path) of every write that changed something.
"""

import json
import threading
import urllib.parse

ROOT = {"version": "3.9.0", "commit": "a60e31147e6b01ee", "kafka_cluster_id": "5nWpTfKuQpCzDaZ1b0Zf4A"}
KNOWN_CLASSES = {
    "org.apache.kafka.connect.file.FileStreamSinkConnector": "sink",
    "org.apache.kafka.connect.file.FileStreamSourceConnector": "source",
    "org.apache.kafka.connect.mirror.MirrorSourceConnector": "source",
    "org.apache.kafka.connect.mirror.MirrorCheckpointConnector": "source",
    "org.apache.kafka.connect.mirror.MirrorHeartbeatConnector": "source",
}
TRACE = ("org.apache.kafka.connect.errors.ConnectException: simulated failure\n"
         "\tat org.apache.kafka.connect.runtime.WorkerTask.doRun(WorkerTask.java:210)\n")
JSON = {"Content-Type": "application/json"}


def _error(status, message):
    return status, JSON, json.dumps({"error_code": status, "message": message})


class FakeConnect:
    def __init__(self, worker_id="10.128.2.15:8083", root=None):
        self.worker_id = worker_id
        self.root = dict(root or ROOT)
        self.connectors = {}  # name -> {"config": {...}, "target": RUNNING|PAUSED|STOPPED}
        self.conflicts = 0
        self.requests = []
        self.writes = []
        self._lock = threading.Lock()

    # -- views -------------------------------------------------------------------------------

    def _tasks(self, name):
        entry = self.connectors[name]
        if entry["target"] == "STOPPED":
            return []
        count = int(entry["config"].get("tasks.max", "1"))
        failing = entry["config"].get("simulate.failure") == "task"
        tasks = []
        for task_id in range(count):
            task = {"id": task_id, "state": entry["target"], "worker_id": self.worker_id}
            if failing and task_id == 0 and entry["target"] == "RUNNING":
                task.update(state="FAILED", trace=TRACE)
            tasks.append(task)
        return tasks

    def _type(self, name):
        return KNOWN_CLASSES.get(self.connectors[name]["config"].get("connector.class"), "unknown")

    def status(self, name):
        entry = self.connectors[name]
        connector = {"state": entry["target"], "worker_id": self.worker_id}
        if entry["config"].get("simulate.failure") == "connector" and entry["target"] == "RUNNING":
            connector.update(state="FAILED", trace=TRACE)
        return {"name": name, "connector": connector, "tasks": self._tasks(name), "type": self._type(name)}

    def info(self, name):
        return {"name": name, "config": dict(self.connectors[name]["config"]),
                "tasks": [{"connector": name, "task": t["id"]} for t in self._tasks(name)], "type": self._type(name)}

    # -- the handler ---------------------------------------------------------------------------

    def __call__(self, method, path, query, body):
        """kubesim's proxy handler signature: (method, path, raw query, body bytes) -> (status, headers, body)."""
        with self._lock:
            self.requests.append((method, path, query))
            return self._handle(method, path, query or "", body or b"")

    def _handle(self, method, path, query, body):
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/") if p]
        if not parts:
            return (200, JSON, json.dumps(self.root)) if method == "GET" else _error(405, "HTTP 405 Method Not Allowed")
        if parts[0] != "connectors":
            return _error(404, "HTTP 404 Not Found")
        if method != "GET" and self.conflicts > 0:
            self.conflicts -= 1
            return _error(409, "Cannot complete request momentarily due to stale configuration "
                               "(typically caused by a concurrent config change)")
        if len(parts) == 1:
            if method != "GET":
                return _error(405, "HTTP 405 Method Not Allowed")
            expand = [value for key, value in urllib.parse.parse_qsl(query) if key == "expand"]
            if not expand:
                return 200, JSON, json.dumps(sorted(self.connectors))
            out = {}
            for name in sorted(self.connectors):
                out[name] = {}
                if "status" in expand:
                    out[name]["status"] = self.status(name)
                if "info" in expand:
                    out[name]["info"] = self.info(name)
            return 200, JSON, json.dumps(out)
        name, rest = parts[1], parts[2:]
        if rest == ["config"] and method == "PUT":
            return self._put_config(name, body)
        if name not in self.connectors:
            return _error(404, "Connector %s not found" % name)
        if not rest and method == "GET":
            return 200, JSON, json.dumps(self.info(name))
        if not rest and method == "DELETE":
            del self.connectors[name]
            self.writes.append((method, path))
            return 204, {}, b""
        if rest == ["config"] and method == "GET":
            return 200, JSON, json.dumps(self.connectors[name]["config"])
        if rest == ["status"] and method == "GET":
            return 200, JSON, json.dumps(self.status(name))
        if len(rest) == 1 and method == "PUT" and rest[0] in ("pause", "resume", "stop"):
            target = {"pause": "PAUSED", "resume": "RUNNING", "stop": "STOPPED"}[rest[0]]
            if self.connectors[name]["target"] != target:
                self.connectors[name]["target"] = target
                self.writes.append((method, path))
            return (204, {}, b"") if rest[0] == "stop" else (202, {}, b"")
        return _error(405, "HTTP 405 Method Not Allowed")

    def _put_config(self, name, body):
        try:
            config = json.loads(body)
        except ValueError:
            return _error(500, "Unrecognized token: was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')")
        if not isinstance(config, dict) or any(not isinstance(v, str) for v in config.values()):
            # Jackson turns numbers and booleans into strings; the module sends strings anyway.
            config = dict((k, v if isinstance(v, str) else json.dumps(v)) for k, v in (config or {}).items())
        if config.get("name", name) != name:
            return _error(400, "Connector name configuration (%s) doesn't match connector name in the URL (%s)" % (config["name"], name))
        config["name"] = name
        klass = config.get("connector.class")
        if not klass:
            return _error(400, "Connector config {%s} contains no connector type" % ", ".join("%s=%s" % kv for kv in sorted(config.items())))
        if klass not in KNOWN_CLASSES:
            return _error(500, "Failed to find any class that implements Connector and which name matches %s, available "
                               "connectors are: %s" % (klass, ", ".join(sorted(KNOWN_CLASSES))))
        created = name not in self.connectors
        if created:
            self.connectors[name] = {"config": config, "target": "RUNNING"}
        elif self.connectors[name]["config"] != config:
            self.connectors[name]["config"] = config
        else:
            return 200, JSON, json.dumps(dict(self.info(name)))
        self.writes.append(("PUT", "/connectors/%s/config" % name))
        return (201 if created else 200), JSON, json.dumps(self.info(name))


class ProxyApi:
    """PodApi's proxy_request, list_pods and read_deployment over in-memory pods and handlers, for unit tests."""

    def __init__(self, pods=None, handlers=None, deployment=None):
        self.pods = pods or []
        self.handlers = handlers or {}
        self.deployment = deployment
        self.calls = []

    def list_pods(self, namespace, selector):
        self.calls.append(("list", namespace, selector))
        return list(self.pods)

    def read_deployment(self, namespace, name):
        self.calls.append(("deployment", namespace, name))
        return self.deployment

    def proxy_request(self, namespace, pod, port, path, method="GET", body=None, query=None):
        self.calls.append((method, pod, port, path))
        handler = self.handlers.get((pod, port))
        if handler is None:
            return 503, json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 503,
                                    "message": "error trying to reach service: dial tcp 10.0.0.1:%s: connect: connection refused" % port})
        raw_query = urllib.parse.urlencode(query or [])
        status, _headers, text = handler(method, path, raw_query, json.dumps(body).encode() if body is not None else b"")
        return status, text.decode() if isinstance(text, bytes) else text

    def proxy_get(self, namespace, pod, port, path):
        from ansible_collections.streams.kafka.plugins.module_utils.k8s_api import ApiError  # pylint: disable=import-outside-toplevel

        status, text = self.proxy_request(namespace, pod, port, path)
        if not 200 <= status < 300:
            raise ApiError("%s:%s/%s answered %s: %s" % (pod, port, path.lstrip("/"), status, text), status)
        return text
