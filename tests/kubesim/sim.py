"""KubeSim: the in-process API server, its controller and the test-facing Python API."""
import re
import socket
import threading
import time

import yaml

from .api import Api
from .control import Control
from .controller import Controller
from .faults import Faults
from .proxy import Proxy
from .requestlog import RequestLog
from .resources import Catalog
from .server import Server
from .store import Store

INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class KubeSim:
    """A small Kubernetes API server on 127.0.0.1 for tests.

    ``with KubeSim(ready_delay=0.5).start() as sim: ...``
    """

    def __init__(self, ready_delay=0.0):
        self.catalog = Catalog()
        self.store = Store(self.catalog)
        self.controller = Controller(self.store, self.catalog, ready_delay)
        self.api = Api(self.store, self.catalog, lambda: f"127.0.0.1:{self.port}")
        self.proxy = Proxy(self.store, self.catalog)
        self.faults = Faults()
        self.request_log = RequestLog()
        self.control = Control(self)
        self._server = None
        self._thread = None
        self._last_port = 0
        self._stop_after = None
        self._lifecycle = threading.RLock()
        for name in INITIAL_NAMESPACES:
            self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    # -- lifecycle ------------------------------------------------------------

    def start(self, port=None):
        """Serve on 127.0.0.1:``port``; returns self.

        ``port`` None: the port it served on before it was stopped, else a free one (as 0).
        After ``stop()`` it starts again with everything it stored, its faults, proxy routes
        and request log: an API server that went away and came back.
        """
        with self._lifecycle:
            if self._server is None:
                self.store.reopen()
                self._server = Server(("127.0.0.1", self._last_port if port is None else port), self)
                self._last_port = self._server.server_address[1]
                self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                                name="kubesim-http", daemon=True)
                self._thread.start()
                self.controller.start()
        return self

    def stop(self, keep=None):
        """Stop serving: the port refuses connections until ``start()``. State is kept.

        ``keep``: a connection to leave open (the request handler that stops the server answers
        on it, then closes it).
        """
        with self._lifecycle:
            if self._server is None:
                return
            self.controller.stop()
            self.store.close()
            stopper = threading.Thread(target=self._server.shutdown)
            stopper.start()
            # A connection wakes serve_forever's poll at once instead of after poll_interval.
            try:
                socket.create_connection(self._server.server_address, timeout=1).close()
            except OSError:
                pass
            stopper.join()
            self._server.close_connections(keep)
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def restart(self):
        """Stop and start again on the same port."""
        self.stop()
        return self.start()

    def stop_after(self, match=None, method=None, path_regex=None, name_regex=None, restart_after=None):
        """Stop the server right after answering the first API request that matches, before
        the client can send another: later connections are refused.

        ``match(entry)`` on the request log entry, or ``method``/``path_regex``/``name_regex``
        (``re.search``; name: the object a POST creates). ``restart_after``: seconds after which
        it starts again on the same port (None: it stays down until ``start()``). One-shot.
        """
        if match is None:
            def match(entry):
                return ((method is None or entry["method"] == method.upper())
                        and (path_regex is None or re.search(path_regex, entry["path"]))
                        and (name_regex is None or re.search(name_regex, entry["name"] or "")))
        self._stop_after = (match, restart_after)

    def stop_requested(self, entry):
        """For the HTTP layer: whether ``entry`` (just answered) triggers ``stop_after``."""
        trigger = self._stop_after
        if trigger is None or not trigger[0](entry):
            return False
        self._stop_after = None
        if trigger[1] is not None:
            timer = threading.Timer(trigger[1], self.start)
            timer.daemon = True
            timer.start()
        return True

    @property
    def running(self):
        return self._server is not None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def port(self):
        """The port it serves on; while stopped, the one it will start on again (None before the first start)."""
        return self._server.server_address[1] if self._server else (self._last_port or None)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def write_kubeconfig(self, path, namespace=None):
        """Write a kubeconfig with context ``kubesim`` (current) for this server; returns ``path``."""
        context = {"cluster": "kubesim", "user": "kubesim"}
        if namespace:
            context["namespace"] = namespace
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kubesim", "cluster": {"server": self.url}}],
            "users": [{"name": "kubesim", "user": {"token": "kubesim-token"}}],
            "contexts": [{"name": "kubesim", "context": context}],
            "current-context": "kubesim",
            "preferences": {},
        }
        with open(path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(config, handle, default_flow_style=False)
        return path

    # -- objects --------------------------------------------------------------

    def get(self, api_version, kind, namespace, name):
        """The stored object, or None."""
        return self.store.get(self.catalog.by_kind(api_version, kind), namespace, name)

    def objects(self, api_version, kind, namespace=None):
        return self.store.list(self.catalog.by_kind(api_version, kind), namespace)

    def snapshot(self, namespace=None):
        """Every stored object (of ``namespace``; None: all, cluster-scoped included), sorted by
        apiVersion, kind, namespace and name."""
        return self.store.dump(namespace)

    def create(self, obj):
        """Store ``obj`` directly (not an API request, so not logged)."""
        res = self.catalog.by_kind(obj["apiVersion"], obj["kind"])
        return self.store.create(res, obj)

    def delete_pod(self, namespace, name):
        """Delete a pod as an API delete would; its controller recreates it."""
        self.store.delete(self.catalog.by_kind("v1", "Pod"), namespace, name)

    def wait_for(self, predicate, timeout=10.0):
        """Wait until ``predicate()`` is true, re-checking on every stored change; returns its last value."""
        deadline = time.monotonic() + timeout
        while True:
            seen = int(self.store.resource_version)
            result = predicate()
            remaining = deadline - time.monotonic()
            if result or remaining <= 0 or self.store.closed:
                return result
            self.store.events_after(seen, remaining)

    # -- pods -----------------------------------------------------------------

    @property
    def ready_delay(self):
        return self.controller.ready_delay

    def set_ready_delay(self, seconds):
        self.controller.ready_delay = seconds

    def pod_ready_times(self):
        """``{"<namespace>/<pod>": time.monotonic() value when it last became Ready}``."""
        return self.controller.ready_times()

    def set_pod_behaviour(self, namespace, name_regex, behaviour):
        """One of ready, never_ready, crashloop, imagepull, config_error, unschedulable; applies at once."""
        self.controller.set_pod_behaviour(namespace, name_regex, behaviour)

    def clear_pod_behaviours(self):
        self.controller.clear_pod_behaviours()

    # -- faults, proxy, request log -------------------------------------------

    def add_fault(self, method=None, path_regex=".*", status=500, times=None, delay=0.0, retry_after=None, after=False):
        """Matching API requests (``re.search`` on the path) are delayed, then fail with ``status`` unless it is None.

        ``retry_after``: a Retry-After header (seconds) on the error; ``after``: the request takes
        effect first and only its answer is the error (a write whose answer was lost).
        """
        return self.faults.add(method, path_regex, status, times, delay, retry_after, after)

    def add_random_faults(self, rate=0.1, seed=0, statuses=(500, 503, 429), writes_only=False, retry_after=1,
                          user_agent=None, proxy_statuses=(429,)):
        """Fail a seeded random ``rate`` of API requests, answered before they do anything.

        Each eligible request draws from ``random.Random(seed)`` in arrival order: with
        probability ``rate`` it fails with a status drawn from ``statuses`` (429 with
        ``Retry-After: retry_after``). Eligible: all requests, or writes only (POST, PUT, PATCH,
        DELETE); only those whose User-Agent matches the ``user_agent`` regex when it is given.
        Pod proxy requests draw from ``proxy_statuses`` (429: the API server's throttling; a
        proxied 5xx would be the pod's own answer). ``faults.list()`` counts tried and failed.
        """
        return self.faults.add_random(rate, seed, statuses, writes_only, retry_after, user_agent, proxy_statuses)

    def remove_fault(self, fault_id):
        self.faults.remove(fault_id)

    def clear_faults(self):
        self.faults.clear()

    def route_proxy(self, namespace, pod, port, target_url):
        """Forward ``pods/<pod>:<port>/proxy/...`` to ``target_url`` (port None: any port)."""
        self.proxy.route(namespace, pod, port, target_url)

    def route_proxy_handler(self, namespace, pod, port, handler):
        """Answer the pod proxy with ``handler(method, path, query, body) -> (status, headers, body)``."""
        self.proxy.route(namespace, pod, port, handler)

    def route_proxy_pattern(self, namespace, pod_regex, port, backend):
        """Answer the pod proxy of every pod whose name fully matches ``pod_regex`` (a Deployment's
        generated names) with ``backend``: a URL or a handler as for ``route_proxy_handler``."""
        self.proxy.route_pattern(namespace, pod_regex, port, backend)

    def clear_proxy_routes(self):
        self.proxy.clear()

    @property
    def requests(self):
        return self.request_log.entries()

    def clear_requests(self):
        self.request_log.clear()

    def writes(self):
        return self.request_log.writes()
