"""Pod proxy, fault injection, request log, HTTP control API, kubeconfig and command line."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import kubernetes
from kubernetes.dynamic import exceptions as dynamic_errors

NS = "default"
REPO_ROOT = Path(__file__).resolve().parents[3]


class EchoHandler(BaseHTTPRequestHandler):
    """Answers with what it received, so the test can check what the proxy forwarded."""

    def _echo(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        reply = json.dumps({"method": self.command, "path": self.path, "body": body.decode(),
                            "content_type": self.headers.get("Content-Type")}).encode()
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = do_PUT = do_DELETE = _echo

    def log_message(self, *args):  # pylint: disable=arguments-differ
        """Keep test output quiet."""


@pytest.fixture(name="backend")
def backend_fixture():
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(sim, method, path, body=None, content_type="application/json"):
    """(status, parsed JSON or text) for a raw request to the simulator."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(sim.url + path, data=data, method=method, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            status, raw = reply.status, reply.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode()


def running_pod(sim, name, behaviour=None):
    if behaviour:
        sim.set_pod_behaviour(NS, name, behaviour)
    sim.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS},
                "spec": {"containers": [{"name": "main", "image": "kafka:3.7", "ports": [{"containerPort": 9404}]}]}})
    assert sim.wait_for(lambda: (sim.get("v1", "Pod", NS, name).get("status") or {}).get("containerStatuses"))


def test_proxy_forwards_to_http_backend(kubesim, backend):
    running_pod(kubesim, "broker-0")
    kubesim.route_proxy(NS, "broker-0", 9404, backend)
    status, echoed = http(kubesim, "GET", f"/api/v1/namespaces/{NS}/pods/broker-0:9404/proxy/metrics?name[]=a&x=1")
    assert status == 200 and echoed["method"] == "GET" and echoed["path"] == "/metrics?name[]=a&x=1"
    status, echoed = http(kubesim, "POST", f"/api/v1/namespaces/{NS}/pods/http:broker-0:9404/proxy/admin/topics",
                          b"name=t1", "application/x-www-form-urlencoded")
    assert status == 201 and echoed["body"] == "name=t1" and echoed["content_type"] == "application/x-www-form-urlencoded"
    for method in ("PUT", "DELETE"):
        status, echoed = http(kubesim, method, f"/api/v1/namespaces/{NS}/pods/https:broker-0:9404/proxy/x", {"a": 1})
        assert status == 200 and echoed["method"] == method and json.loads(echoed["body"]) == {"a": 1}


def test_proxy_through_the_kubernetes_client(kubesim, backend):
    running_pod(kubesim, "broker-1")
    kubesim.route_proxy(NS, "broker-1", None, backend)
    configuration = kubernetes.client.Configuration()
    configuration.host = kubesim.url
    with kubernetes.client.ApiClient(configuration) as api_client:
        core = kubernetes.client.CoreV1Api(api_client)
        reply = core.connect_get_namespaced_pod_proxy_with_path("broker-1:8080", NS, "health/ready", _preload_content=False)
    assert json.loads(reply.data)["path"] == "/health/ready"


def test_proxy_to_callable(kubesim):
    running_pod(kubesim, "exporter-0")
    calls = []

    def metrics(method, path, query, body):
        calls.append((method, path, query, body))
        return 200, {"Content-Type": "text/plain; version=0.0.4"}, b"kafka_server_up 1\n"

    kubesim.route_proxy_handler(NS, "exporter-0", 9404, metrics)
    status, text = http(kubesim, "GET", f"/api/v1/namespaces/{NS}/pods/exporter-0:9404/proxy/metrics?debug=1")
    assert (status, text) == (200, "kafka_server_up 1\n")
    assert calls == [("GET", "/metrics", "debug=1", b"")]


def test_proxy_errors(kubesim):
    status, body = http(kubesim, "GET", f"/api/v1/namespaces/{NS}/pods/ghost:80/proxy/")
    assert status == 404 and body["kind"] == "Status" and body["message"] == 'pods "ghost" not found'
    running_pod(kubesim, "unrouted")
    status, body = http(kubesim, "GET", f"/api/v1/namespaces/{NS}/pods/unrouted:9404/proxy/metrics")
    assert status == 503 and body["reason"] == "ServiceUnavailable"
    ip = kubesim.get("v1", "Pod", NS, "unrouted")["status"]["podIP"]
    assert body["message"] == f"error trying to reach service: dial tcp {ip}:9404: connect: connection refused"
    kubesim.route_proxy(NS, "unrouted", 9404, f"http://127.0.0.1:{free_port()}")
    status, body = http(kubesim, "GET", f"/api/v1/namespaces/{NS}/pods/unrouted:9404/proxy/metrics")
    assert status == 503 and "connection refused" in body["message"]
    running_pod(kubesim, "crashing", "crashloop")
    kubesim.route_proxy_handler(NS, "crashing", 9404, lambda *args: (200, {}, b"unreachable"))
    status, body = http(kubesim, "GET", f"/api/v1/namespaces/{NS}/pods/crashing:9404/proxy/metrics")
    assert status == 503


def test_faults_fail_matching_requests_a_limited_number_of_times(kubesim, kubesim_client):
    cms = kubesim_client.resources.get(api_version="v1", kind="ConfigMap")
    kubesim.add_fault(method="GET", path_regex=r"/configmaps$", status=503, times=2)
    for _i in range(2):
        with pytest.raises(dynamic_errors.ServiceUnavailableError) as failed:
            cms.get(namespace=NS)
        assert json.loads(failed.value.body)["code"] == 503
    assert cms.get(namespace=NS).kind == "ConfigMapList"
    kubesim.add_fault(method="POST", status=500)
    with pytest.raises(dynamic_errors.InternalServerError):
        cms.create(body={"metadata": {"name": "x"}}, namespace=NS)
    assert cms.get(namespace=NS).items == []
    statuses = [r["status"] for r in kubesim.requests if r["path"].endswith("/configmaps")]
    assert statuses == [503, 503, 200, 500, 200]
    kubesim.clear_faults()
    cms.create(body={"metadata": {"name": "x"}}, namespace=NS)


def test_delay_fault(kubesim, kubesim_client):
    cms = kubesim_client.resources.get(api_version="v1", kind="ConfigMap")
    kubesim.add_fault(path_regex="configmaps", status=None, delay=0.3, times=1)
    started = time.monotonic()
    assert cms.get(namespace=NS).kind == "ConfigMapList"
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    cms.get(namespace=NS)
    assert time.monotonic() - started < 0.3


def test_request_log(kubesim, kubesim_client):
    cms = kubesim_client.resources.get(api_version="v1", kind="ConfigMap")
    kubesim.clear_requests()
    cms.create(body={"metadata": {"name": "logged"}}, namespace=NS)
    cms.patch(body={"data": {"a": "b"}}, name="logged", namespace=NS, content_type="application/merge-patch+json", dry_run="All")
    cms.get(name="logged", namespace=NS, label_selector="a=b")
    entries = kubesim.requests
    assert [(e["method"], e["status"], e["write"], e["dry_run"]) for e in entries] == [
        ("POST", 201, True, False), ("PATCH", 200, False, True), ("GET", 200, False, False)]
    assert entries[1]["content_type"] == "application/merge-patch+json" and entries[1]["query"] == {"dryRun": "All"}
    assert entries[2]["path"] == f"/api/v1/namespaces/{NS}/configmaps/logged" and entries[2]["query"] == {"labelSelector": "a=b"}
    assert entries[0]["time"] <= entries[1]["time"] <= entries[2]["time"] <= time.monotonic()
    # a create's path has no name: the log takes it from the body
    assert [e["name"] for e in entries] == ["logged", None, None]
    assert [w["method"] for w in kubesim.writes()] == ["POST"]
    entries.clear()
    assert len(kubesim.requests) == 3, "requests is a copy"
    kubesim.clear_requests()
    assert kubesim.requests == []


def test_control_api(kubesim):
    status, reply = http(kubesim, "POST", "/_sim/faults", {"method": "GET", "path_regex": "/api/v1/namespaces$", "status": 429, "times": 1})
    assert status == 200 and reply["id"] >= 1
    assert http(kubesim, "GET", "/api/v1/namespaces")[0] == 429
    assert http(kubesim, "GET", "/api/v1/namespaces")[0] == 200
    assert http(kubesim, "POST", "/_sim/faults", {"status": 500})[0] == 200
    assert http(kubesim, "DELETE", "/_sim/faults")[0] == 200
    assert http(kubesim, "GET", "/api/v1/namespaces")[0] == 200

    status, entries = http(kubesim, "GET", "/_sim/requests")
    assert status == 200 and [e["status"] for e in entries] == [429, 200, 200]
    assert not any(e["path"].startswith("/_sim") for e in entries)
    assert http(kubesim, "DELETE", "/_sim/requests")[0] == 200 and kubesim.requests == []

    assert http(kubesim, "POST", "/_sim/config", {"ready_delay": 0.25})[0] == 200
    assert kubesim.ready_delay == 0.25 and http(kubesim, "GET", "/_sim/config")[1] == {"ready_delay": 0.25}
    assert http(kubesim, "POST", "/_sim/config", {"ready_delay": 0})[0] == 200

    assert http(kubesim, "POST", "/_sim/pods", {"namespace": NS, "name_regex": "sick", "behaviour": "imagepull"})[0] == 200
    running_pod(kubesim, "sick")
    assert kubesim.get("v1", "Pod", NS, "sick")["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ImagePullBackOff"
    assert http(kubesim, "POST", "/_sim/pods", {"namespace": NS, "name_regex": "x", "behaviour": "bogus"})[0] == 400

    running_pod(kubesim, "healthy")
    assert kubesim.wait_for(lambda: f"{NS}/healthy" in kubesim.pod_ready_times())
    status, times = http(kubesim, "GET", "/_sim/ready_times")
    assert status == 200 and times[f"{NS}/healthy"] == kubesim.pod_ready_times()[f"{NS}/healthy"]

    assert http(kubesim, "POST", "/_sim/proxy", {"namespace": NS, "pod": "healthy", "port": 80, "target_url": f"http://127.0.0.1:{free_port()}"})[0] == 200
    assert http(kubesim, "GET", f"/api/v1/namespaces/{NS}/pods/healthy:80/proxy/")[0] == 503
    status, pods = http(kubesim, "GET", f"/_sim/objects?apiVersion=v1&kind=Pod&namespace={NS}")
    assert status == 200 and sorted(p["metadata"]["name"] for p in pods) == ["healthy", "sick"]
    assert http(kubesim, "POST", "/_sim/pods/delete", {"namespace": NS, "name": "healthy"})[0] == 200
    assert kubesim.get("v1", "Pod", NS, "healthy") is None
    assert http(kubesim, "GET", "/_sim/nothing")[0] == 404


def test_kubeconfig_works_with_the_kubernetes_client(kubesim, tmp_path):
    path = kubesim.write_kubeconfig(tmp_path / "config", namespace="kafka")
    api_client = kubernetes.config.new_client_from_config(config_file=str(path), context="kubesim")
    with api_client:
        names = {n.metadata.name for n in kubernetes.client.CoreV1Api(api_client).list_namespace().items}
    assert {"default", "kube-system"} <= names
    contexts, current = kubernetes.config.list_kube_config_contexts(config_file=str(path))
    assert current["name"] == "kubesim" and current["context"]["namespace"] == "kafka" and len(contexts) == 1


def test_command_line(tmp_path):
    port = free_port()
    config = tmp_path / "kubeconfig"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    with subprocess.Popen([sys.executable, "-m", "tests.kubesim", "--port", str(port), "--ready-delay", "0.1", "--kubeconfig", str(config)],
                          cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            url = proc.stdout.readline().strip()
            assert url == f"http://127.0.0.1:{port}"
            with urllib.request.urlopen(url + "/version", timeout=5) as reply:
                assert json.load(reply)["gitVersion"] == "v1.31.0"
            with urllib.request.urlopen(url + "/_sim/config", timeout=5) as reply:
                assert json.load(reply) == {"ready_delay": 0.1}
            assert f"server: {url}" in config.read_text()
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
