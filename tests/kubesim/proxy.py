"""Pod proxy: ``/api/v1/namespaces/<ns>/pods/[scheme:]<name>[:<port>]/proxy[/<path>]``.

Backends are registered per pod and port: a URL to forward to, or a Python callable
``handler(method, path, query, body) -> (status, headers, body)``. Pods with generated names
(a Deployment's ``<name>-<hash>-<5 chars>``) are routed by a name pattern instead.
"""
import http.client
import re
import ssl
import threading
import urllib.parse

from .errors import ApiError, not_found
from .response import Response

PROXY_PATH = re.compile(r"^/api/v1/namespaces/(?P<namespace>[^/]+)/pods/(?P<target>[^/]+)/proxy(?P<rest>/.*)?$")
BACKEND_TIMEOUT = 30


def parse_target(target):
    """Split ``[scheme:]name[:port]`` into its parts."""
    parts = urllib.parse.unquote(target).split(":")
    scheme = parts.pop(0) if len(parts) > 1 and parts[0] in ("http", "https") else None
    return scheme, parts[0], (parts[1] if len(parts) > 1 else None)


def _running(pod):
    status = pod.get("status") or {}
    containers = status.get("containerStatuses") or []
    return status.get("phase") == "Running" and any("running" in (c.get("state") or {}) for c in containers)


def _refused(address):
    return ApiError(503, f"error trying to reach service: dial tcp {address}: connect: connection refused")


class Proxy:
    def __init__(self, store, catalog):
        self._store = store
        self._pods = catalog.by_kind("v1", "Pod")
        self._routes = {}
        self._patterns = []
        self._lock = threading.Lock()

    def route(self, namespace, pod, port, backend):
        """Register a backend URL or callable; ``port=None`` serves any port of the pod."""
        with self._lock:
            self._routes[(namespace, pod, None if port is None else str(port))] = backend

    def route_pattern(self, namespace, pod_regex, port, backend):
        """Register a backend for every pod whose name fully matches ``pod_regex``; exact routes win."""
        with self._lock:
            self._patterns.insert(0, (namespace, re.compile(pod_regex), None if port is None else str(port), backend))

    def _backend(self, namespace, name, port):
        with self._lock:
            backend = self._routes.get((namespace, name, port)) or self._routes.get((namespace, name, None))
            if backend is not None:
                return backend
            for route_namespace, pattern, route_port, candidate in self._patterns:
                if route_namespace == namespace and route_port in (None, port) and pattern.fullmatch(name):
                    return candidate
        return None

    def clear(self):
        with self._lock:
            self._routes.clear()
            self._patterns.clear()

    @staticmethod
    def match(path):
        return PROXY_PATH.match(path)

    def handle(self, match, req):
        # Like the real API server, forward the decoded path (clients escape "/" inside the proxied path).
        namespace, rest = match.group("namespace"), urllib.parse.unquote(match.group("rest") or "/")
        _scheme, name, port = parse_target(match.group("target"))
        pod = self._store.get(self._pods, namespace, name)
        if pod is None:
            raise not_found(self._pods, name)
        address = f"{(pod.get('status') or {}).get('podIP') or '<none>'}:{port or 80}"
        backend = self._backend(namespace, name, port)
        if backend is None or not _running(pod):
            raise _refused(address)
        if callable(backend):
            status, headers, body = backend(req.method, rest, req.raw_query, req.body)
            return self._response(status, headers or {}, body)
        return self._forward(backend, rest, req, address)

    @staticmethod
    def _response(status, headers, body):
        if isinstance(body, str):
            body = body.encode("utf-8")
        lowered = {k.lower(): v for k, v in headers.items()}
        content_type = lowered.pop("content-type", "text/plain; charset=utf-8")
        lowered.pop("content-length", None)
        lowered.pop("transfer-encoding", None)
        lowered.pop("connection", None)
        return Response(status, body or b"", content_type, lowered)

    def _forward(self, target_url, rest, req, address):
        target = urllib.parse.urlsplit(target_url)
        path = target.path.rstrip("/") + rest
        if req.raw_query:
            path += "?" + req.raw_query
        if target.scheme == "https":
            # Test backends use self-signed certificates.
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            conn = http.client.HTTPSConnection(target.netloc, timeout=BACKEND_TIMEOUT, context=context)
        else:
            conn = http.client.HTTPConnection(target.netloc, timeout=BACKEND_TIMEOUT)
        headers = {"Content-Type": req.content_type} if req.content_type else {}
        try:
            conn.request(req.method, path, body=req.body or None, headers=headers)
            reply = conn.getresponse()
            return self._response(reply.status, dict(reply.getheaders()), reply.read())
        except OSError as exc:
            raise _refused(address) from exc
        finally:
            conn.close()
