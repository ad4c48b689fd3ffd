"""tests/healthy_apps.py and ``python -m tests.kubesim --healthy-apps``: healthy applications behind the pod proxy."""
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.healthy_apps import HealthyApps

NS = "kafka"
REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]


def workload(kind, cluster, component, replicas):
    labels = {"app.kubernetes.io/instance": cluster, "app.kubernetes.io/name": component}
    spec = {"replicas": replicas, "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": component, "image": "kafka:3.9"}]}}}
    if kind == "StatefulSet":
        spec.update(serviceName="%s-%s-nodes" % (cluster, component), podManagementPolicy="Parallel")
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "%s-%s" % (cluster, component), "namespace": NS},
            "spec": spec}


def get(url, path):
    """(status, body) of a GET, errors included."""
    try:
        with urllib.request.urlopen(url + path, timeout=5) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def proxied(url, pod, port, path, timeout=10):
    """The first 2xx answer of a pod's application through the proxy (pods need a moment to run)."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = get(url, "/api/v1/namespaces/%s/pods/%s:%s/proxy%s" % (NS, pod, port, path))
        if 200 <= status < 300 or time.monotonic() > deadline:
            return status, body
        time.sleep(0.1)


def metric(text, name):
    return [s.value for family in text_string_to_metric_families(text) for s in family.samples if s.name == name][0]


def test_every_component_answers_as_a_healthy_one(kubesim):
    apps = HealthyApps(kubesim, poll=0.1).start()
    kubesim.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    for kind, component, replicas in (("StatefulSet", "zookeeper", 3), ("StatefulSet", "kafka", 3), ("Deployment", "connect", 1),
                                      ("Deployment", "bridge", 1), ("Deployment", "exporter", 1)):
        kubesim.create(workload(kind, "dev", component, replicas))
    # an unrelated pod gets no backend
    kubesim.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "other", "namespace": NS},
                    "spec": {"containers": [{"name": "main", "image": "busybox"}]}})
    assert kubesim.wait_for(lambda: len(apps.served) == 9), apps.served
    assert (NS, "other") not in apps.served
    url = kubesim.url

    leader = json.loads(proxied(url, "dev-zookeeper-0", 8080, "/commands/mntr")[1])
    assert leader["server_state"] == "leader" and leader["synced_followers"] == 2
    assert json.loads(proxied(url, "dev-zookeeper-2", 8080, "/commands/mntr")[1])["server_state"] == "follower"
    assert "last_processed_zxid" in proxied(url, "dev-zookeeper-1", 8080, "/commands/srvr")[1]

    controller = proxied(url, "dev-kafka-0", 9404, "/metrics")[1]
    assert metric(controller, "kafka_controller_kafkacontroller_activecontrollercount") == 1
    assert metric(controller, "kafka_server_kafkaserver_brokerstate") == 3
    other = proxied(url, "dev-kafka-1", 9404, "/metrics")[1]
    assert metric(other, "kafka_controller_kafkacontroller_activecontrollercount") == 0
    assert metric(other, "kafka_server_replicamanager_underreplicatedpartitions") == 0

    pods = {pod["metadata"]["labels"]["app.kubernetes.io/name"]: pod["metadata"]["name"]
            for pod in kubesim.objects("v1", "Pod", NS) if pod["metadata"].get("labels", {}).get("app.kubernetes.io/name")}
    assert json.loads(proxied(url, pods["connect"], 8083, "/")[1])["version"] == "3.9.0"
    assert proxied(url, pods["bridge"], 8080, "/ready")[0] == 204
    assert metric(proxied(url, pods["exporter"], 9404, "/metrics")[1], "kafka_brokers") == 3


def test_command_line_option(tmp_path):
    config = tmp_path / "kubeconfig"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    with subprocess.Popen([sys.executable, "-m", "tests.kubesim", "--port", "0", "--kubeconfig", str(config), "--healthy-apps"],
                          cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            url = proc.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:"), url
            for obj in ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}, workload("StatefulSet", "dev", "zookeeper", 1)):
                path = "/api/v1/namespaces" if obj["kind"] == "Namespace" else "/apis/apps/v1/namespaces/%s/statefulsets" % NS
                request = urllib.request.Request(url + path, data=json.dumps(obj).encode(), method="POST",
                                                 headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=5) as reply:
                    assert reply.status == 201
            status, body = proxied(url, "dev-zookeeper-0", 8080, "/commands/mntr")
            assert status == 200, body
            assert json.loads(body) == {"version": "3.8.4", "server_state": "leader", "synced_followers": 0}
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
