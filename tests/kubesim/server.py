"""HTTP layer: dispatches to the /_sim control API, the pod proxy or the Kubernetes API,
applying injected faults, recording every API request, and stopping the server after a
request that matches ``KubeSim.stop_after``."""
import logging
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .errors import ApiError
from .response import Request, error_response

LOG = logging.getLogger(__name__)
FAULT_MESSAGES = {
    429: "Too many requests, please try again later.",
    500: "Internal error occurred: injected fault",
    503: "the server is currently unable to handle the request",
    504: "Timeout: request did not complete within requested timeout - context deadline exceeded",
}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address, sim):
        self.sim = sim
        self._connections = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def process_request(self, request, client_address):
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self, keep=None):
        """Drop kept-alive client connections so no handler thread outlives the server
        (``keep``: the connection of the handler that stops the server, which closes it itself)."""
        with self._connections_lock:
            connections = [sock for sock in self._connections if sock is not keep]
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _created_name(req):
    """The name of the object a POST creates (from its JSON body), or None."""
    if req.method != "POST":
        return None
    try:
        return ((req.json() or {}).get("metadata") or {}).get("name")
    except (ValueError, AttributeError):
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kubesim/1.0"

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle plus delayed ACK adds ~40 ms a request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):  # pylint: disable=arguments-differ
        """Requests are recorded in the request log instead of stderr."""

    def do_GET(self):  # pylint: disable=invalid-name
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self):
        split = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        req = Request(self.command, split.path, query, self.headers.get("Content-Type", ""), self._read_body(), split.query)
        sim = self.server.sim
        if split.path == "/_sim" or split.path.startswith("/_sim/"):
            self._send(sim.control.handle(req))
            return
        started = time.monotonic()
        user_agent = self.headers.get("User-Agent", "")
        fault = sim.faults.take(req.method, req.path, user_agent)
        response = self._api(req, fault)
        entry = sim.request_log.record(req.method, req.path, req.query, req.content_type, response.status, started,
                                       name=_created_name(req), fault=fault.id if fault and fault.status else None,
                                       user_agent=user_agent)
        if sim.stop_requested(entry):
            # Closed before the answer goes out, so the client's next connection is refused
            # (not accepted by a socket about to close); this one is answered, then closed.
            sim.stop(keep=self.connection)
            self.close_connection = True
            response.headers["Connection"] = "close"
        self._send(response)

    def _api(self, req, fault):
        sim = self.server.sim
        try:
            if fault and fault.delay:
                time.sleep(fault.delay)
            if fault and fault.status and not fault.after:
                return self._fault_response(fault)
            match = sim.proxy.match(req.path)
            response = sim.proxy.handle(match, req) if match else sim.api.handle(req)
            if fault and fault.status:
                if response.stream is not None:
                    response.stream.close()
                return self._fault_response(fault)
            return response
        except ApiError as exc:
            return error_response(exc)
        except Exception as exc:  # pylint: disable=broad-except
            # A simulator bug must reach the client as a 500, not as a dropped connection.
            LOG.exception("kubesim failed on %s %s", req.method, req.path)
            return error_response(ApiError(500, f"kubesim internal error: {exc!r}"))

    @staticmethod
    def _fault_response(fault):
        response = error_response(ApiError(fault.status, FAULT_MESSAGES.get(fault.status, f"injected fault: HTTP {fault.status}")))
        if fault.retry_after is not None:
            response.headers["Retry-After"] = str(fault.retry_after)
        return response

    def _send(self, response):
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.stream is None:
            self.send_header("Content-Length", str(len(response.body)))
            try:
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)
            except OSError:
                # The client gave up waiting (its read timeout) and closed the connection.
                self.close_connection = True
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for chunk in response.stream:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            # The watcher went away.
            self.close_connection = True
        finally:
            response.stream.close()
