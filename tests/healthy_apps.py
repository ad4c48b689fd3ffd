"""Healthy applications behind kubesim's pod proxy, for every pod of a streams.kafka deployment.

``HealthyApps(sim).start()`` watches the pods kubesim's controller makes and answers each one's
application port (through the pod proxy, as the readiness gates read them) the way a healthy
component does, chosen by the pod's ``app.kubernetes.io/name`` label:

| component | port | answers |
|---|---|---|
| zookeeper | 8080 | AdminServer mntr/srvr: pod 0 leads, every other member follows (replicas from the StatefulSet) |
| kafka | 9404 | broker metrics (tests/kafka_metrics.py): RUNNING, broker 0 the active controller, no URP (KRaft: below) |
| kafka-controller | 9404 | KRaft controller metrics (tests/kafka_metrics.py): a healthy quorum, pod 0 the leader and active controller |
| connect, mirrormaker | 8083 | a Kafka Connect REST API that keeps state (tests/fake_connect.py), one per Deployment |
| bridge | 8080 | ``/ready`` 204 and ``/`` as Bridge 0.31 |
| exporter | 9404 | kafka_exporter metrics with ``kafka_brokers`` = the brokers of the cluster's StatefulSet |

KRaft brokers: when the cluster has a ``<cluster>-kafka-controller`` StatefulSet (dedicated
controllers) no broker is the active controller and brokers serve no controller metrics; when
``<cluster>-kafka`` carries ``streams.kafka/metadata-mode: kraft`` without one (combined mode)
the brokers are also the quorum, broker 0 its leader and the active controller.

``python -m tests.kubesim --healthy-apps`` runs it, for the molecule scenario and for trying the
playbooks by hand; the pytest suites script their backends per test instead.
"""

import json
import pathlib
import re
import threading

from tests.fake_connect import FakeConnect
from tests.kafka_metrics import broker_metrics, controller_metrics, metrics_handler

FIXTURES = pathlib.Path(__file__).resolve().parent / "unit" / "fixtures"
JSON = {"Content-Type": "application/json"}
PROMETHEUS = {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}
NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"


def ordinal(pod_name):
    match = re.search(r"-([0-9]+)$", pod_name)
    return int(match.group(1)) if match else 0


class HealthyApps:
    """Registers a healthy backend for each new pod of `sim` (a started tests.kubesim.KubeSim)."""

    def __init__(self, sim, poll=0.5):
        self.sim = sim
        self.poll = poll
        self.served = set()
        self._connect = {}
        self._lock = threading.Lock()
        self._thread = None

    def start(self):
        self.serve_new_pods()
        self._thread = threading.Thread(target=self._watch, name="kubesim-healthy-apps", daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        store = self.sim.store
        while not store.closed:
            seen = int(store.resource_version)
            self.serve_new_pods()
            store.events_after(seen, self.poll)

    def serve_new_pods(self):
        """Route every pod not routed yet; returns the (namespace, pod) pairs routed now."""
        routed = []
        for pod in self.sim.objects("v1", "Pod"):
            meta = pod.get("metadata") or {}
            key = (meta.get("namespace"), meta.get("name"))
            labels = meta.get("labels") or {}
            backend = self.backend(key[0], key[1], labels.get(NAME_LABEL), labels.get(INSTANCE_LABEL))
            with self._lock:
                if backend is None or key in self.served:
                    continue
                self.served.add(key)
            self.sim.route_proxy_handler(key[0], key[1], backend[0], backend[1])
            routed.append(key)
        return routed

    def _replicas(self, namespace, kind, name):
        obj = self.sim.get("apps/v1", kind, namespace, name)
        return int(((obj or {}).get("spec") or {}).get("replicas", 0))

    def backend(self, namespace, pod, component, cluster):
        """(port, handler) answering as a healthy `component` of `cluster`, or None for other pods."""
        if not component or not cluster:
            return None
        if component == "zookeeper":
            return 8080, self._zookeeper(namespace, cluster, ordinal(pod))
        if component == "kafka":
            return 9404, metrics_handler(self._broker_text(namespace, cluster, ordinal(pod)))
        if component == "kafka-controller":
            member = ordinal(pod)
            return 9404, metrics_handler(lambda: controller_metrics(state="leader" if member == 0 else "follower", leader=1000,
                                                                    controller=member == 0))
        if component in ("connect", "mirrormaker"):
            with self._lock:
                fake = self._connect.setdefault((namespace, cluster, component), FakeConnect())
            return 8083, fake
        if component == "bridge":
            return 8080, self._bridge
        if component == "exporter":
            return 9404, self._exporter(namespace, cluster)
        return None

    def _broker_text(self, namespace, cluster, member):
        """The metrics of a healthy broker, as the cluster's metadata mode has it (read at each scrape)."""
        def text():
            if self.sim.get("apps/v1", "StatefulSet", namespace, "%s-kafka-controller" % cluster) is not None:
                # KRaft with dedicated controllers: brokers have no controller metrics.
                return broker_metrics(leave_out=("kafka_controller_kafkacontroller_activecontrollercount",
                                                 "kafka_controller_kafkacontroller_offlinepartitionscount"))
            sts = self.sim.get("apps/v1", "StatefulSet", namespace, "%s-kafka" % cluster) or {}
            if ((sts.get("metadata") or {}).get("annotations") or {}).get("streams.kafka/metadata-mode") == "kraft":
                return controller_metrics(state="leader" if member == 0 else "follower", leader=0, controller=member == 0,
                                          broker={})
            return broker_metrics(controller=member == 0)
        return text

    def _zookeeper(self, namespace, cluster, member):
        def handler(method, path, _query, _body):
            if method != "GET":
                return 405, {}, b""
            if path == "/commands/mntr":
                data = {"version": "3.8.4", "server_state": "leader" if member == 0 else "follower"}
                if member == 0:
                    data["synced_followers"] = self._replicas(namespace, "StatefulSet", "%s-zookeeper" % cluster) - 1
            elif path == "/commands/srvr":
                data = {"server_stats": {"last_processed_zxid": 0x100000001}, "command": "server_stats", "error": None}
            else:
                return 404, {}, b"not found"
            return 200, JSON, json.dumps(data).encode()
        return handler

    @staticmethod
    def _bridge(method, path, _query, _body):
        if method == "GET" and path == "/ready":
            return 204, {}, b""
        if method == "GET" and path == "/":
            return 200, JSON, (FIXTURES / "bridge_root.json").read_bytes()
        return 404, {}, b""

    def _exporter(self, namespace, cluster):
        recorded = (FIXTURES / "kafka_exporter_metrics.txt").read_text()

        def handler(method, path, _query, _body):
            if method == "GET" and path == "/healthz":
                return 200, {}, b"OK"
            if method != "GET" or path != "/metrics":
                return 404, {}, b""
            brokers = self._replicas(namespace, "StatefulSet", "%s-kafka" % cluster)
            return 200, PROMETHEUS, re.sub(r"(?m)^kafka_brokers .*$", "kafka_brokers %d" % brokers, recorded).encode()
        return handler
