"""The workload controller: a background thread that turns workloads into pods and keeps statuses current.

It is event driven: every stored change wakes it, and it sleeps until the earliest timer
(a pod due to become Ready, a crash-loop restart) when nothing else happens.
"""
import logging
import re
import secrets
import threading
import time
from collections import defaultdict

from . import workloads
from .errors import ApiError
from .pods import BEHAVIOURS, PodState, is_ready, render
from .store import timestamp

LOG = logging.getLogger(__name__)
API_VERSIONS = {
    "Pod": "v1",
    "PersistentVolumeClaim": "v1",
    "Event": "v1",
    "StatefulSet": "apps/v1",
    "Deployment": "apps/v1",
    "ReplicaSet": "apps/v1",
    "Job": "batch/v1",
}
READINESS_FAILURE = "Readiness probe failed: HTTP probe failed with statuscode: 503"


class Controller:
    def __init__(self, store, catalog, ready_delay=0.0):
        self.store = store
        self._catalog = catalog
        self._ready_delay = float(ready_delay)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = None
        self._rules = []
        self._states = {}
        self._ready_times = {}
        self._revisions = {}
        self._next_ip = 0
        store.add_listener(self._wake.set)

    # -- lifecycle and settings ------------------------------------------------

    def start(self):
        """Start (again, after ``stop()``: pod states and timers carry on)."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="kubesim-controller", daemon=True)
        self._thread.start()

    def stop(self):
        self._stopping.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=5)

    def wake(self):
        self._wake.set()

    @property
    def ready_delay(self):
        return self._ready_delay

    @ready_delay.setter
    def ready_delay(self, seconds):
        self._ready_delay = float(seconds)
        self._wake.set()

    def set_pod_behaviour(self, namespace, name_regex, behaviour):
        """Pods in ``namespace`` (None: any) whose name fully matches ``name_regex`` behave so; newest rule wins."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}; expected one of {', '.join(BEHAVIOURS)}")
        pattern = re.compile(name_regex)
        with self.store.lock:
            self._rules = [r for r in self._rules if (r[0], r[1].pattern) != (namespace, name_regex)]
            self._rules.insert(0, (namespace, pattern, behaviour))
        self._wake.set()

    def clear_pod_behaviours(self):
        with self.store.lock:
            self._rules = []
        self._wake.set()

    def ready_times(self):
        """``{"<namespace>/<pod>": monotonic time the pod last became Ready}``."""
        with self.store.lock:
            return dict(self._ready_times)

    # -- helpers for the reconcilers ----------------------------------------------

    def res(self, kind):
        return self._catalog.by_kind(API_VERSIONS[kind], kind)

    def get(self, kind, namespace, name):
        return self.store.get(self.res(kind), namespace, name)

    def create(self, kind, obj):
        try:
            return self.store.create(self.res(kind), obj)
        except ApiError as exc:
            # The object appeared meanwhile, or its namespace is being deleted.
            if exc.code in (404, 409):
                return None
            raise

    def delete(self, obj):
        meta = obj["metadata"]
        try:
            self.store.delete(self.res(obj["kind"]), meta.get("namespace"), meta["name"])
        except ApiError as exc:
            if exc.code != 404:
                raise

    def set_status(self, obj, status):
        if status != obj.get("status"):
            meta = obj["metadata"]
            self.store.update_status(self.res(obj["kind"]), meta.get("namespace"), meta["name"], status)

    def scale(self, obj, replicas):
        obj["spec"]["replicas"] = replicas
        meta = obj["metadata"]
        self.store.update(self.res(obj["kind"]), meta["namespace"], meta["name"], dict(obj, metadata=dict(meta, resourceVersion=None)))

    def remember_revision(self, owner_uid, revision, template):
        self._revisions[(owner_uid, revision)] = template

    def revision_template(self, owner_uid, revision):
        return self._revisions.get((owner_uid, revision))

    # -- the loop -------------------------------------------------------------------

    def _run(self):
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                deadline = self.reconcile()
            except Exception:  # pylint: disable=broad-except
                # One failed pass must not kill the thread every test depends on.
                LOG.exception("kubesim controller pass failed")
                deadline = time.monotonic() + 0.5
            self._wake.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def reconcile(self):
        """One pass over everything; returns the monotonic time of the next timer, or None."""
        with self.store.lock:
            now = time.monotonic()
            pods = self.store.list(self.res("Pod"))
            deadlines = [self._sync_pod(pod, now) for pod in pods]
            live = {p["metadata"]["uid"] for p in pods}
            self._states = {uid: s for uid, s in self._states.items() if uid in live}
            by_owner = self._by_owner(self.store.list(self.res("Pod")))
            for sts in self.store.list(self.res("StatefulSet")):
                workloads.statefulset(self, sts, by_owner[sts["metadata"]["uid"]])
            replica_sets = self.store.list(self.res("ReplicaSet"))
            rs_by_owner = self._by_owner(replica_sets)
            for dep in self.store.list(self.res("Deployment")):
                workloads.deployment(self, dep, rs_by_owner[dep["metadata"]["uid"]], by_owner)
            for rs in self.store.list(self.res("ReplicaSet")):
                workloads.replicaset(self, rs, by_owner[rs["metadata"]["uid"]])
            for job in self.store.list(self.res("Job")):
                workloads.job(self, job, by_owner[job["metadata"]["uid"]])
            live_sets = {s["metadata"]["uid"] for s in self.store.list(self.res("StatefulSet"))}
            self._revisions = {k: v for k, v in self._revisions.items() if k[0] in live_sets}
            return min((d for d in deadlines if d is not None), default=None)

    @staticmethod
    def _by_owner(objects):
        owned = defaultdict(list)
        for obj in objects:
            for ref in obj["metadata"].get("ownerReferences") or []:
                if ref.get("controller"):
                    owned[ref.get("uid")].append(obj)
        return owned

    def _behaviour(self, namespace, name):
        for rule_namespace, pattern, behaviour in self._rules:
            if rule_namespace in (None, namespace) and pattern.fullmatch(name):
                return behaviour
        return "ready"

    def _allocate_ip(self):
        self._next_ip = self._next_ip % 253 + 1
        return f"127.0.0.{self._next_ip + 1}"

    def _sync_pod(self, pod, now):
        meta = pod["metadata"]
        namespace, name = meta.get("namespace"), meta["name"]
        wall = timestamp()
        behaviour = self._behaviour(namespace, name)
        state = self._states.get(meta["uid"])
        if state is None:
            state = PodState(self._allocate_ip(), now, wall, wall, behaviour)
            self._states[meta["uid"]] = state
        elif state.behaviour != behaviour:
            state.restart(behaviour, now, wall)
        completes = any(ref.get("kind") == "Job" for ref in meta.get("ownerReferences") or [])
        status, deadline = render(pod, state, now, self._ready_delay, completes, wall)
        if status != pod.get("status"):
            updated = self.store.update_status(self.res("Pod"), namespace, name, status)
            if is_ready(updated) and not is_ready(pod):
                self._ready_times[f"{namespace}/{name}"] = time.monotonic()
        if state.behaviour == "never_ready" and not state.warned:
            state.warned = True
            self._event(pod, "Unhealthy", READINESS_FAILURE, wall)
        return deadline

    def _event(self, pod, reason, message, wall):
        meta = pod["metadata"]
        containers = (pod.get("spec") or {}).get("containers") or [{}]
        self.create("Event", {
            "metadata": {"name": f"{meta['name']}.{secrets.token_hex(8)}", "namespace": meta["namespace"]},
            "involvedObject": {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"],
                               "apiVersion": "v1", "fieldPath": f"spec.containers{{{containers[0].get('name')}}}"},
            "reason": reason,
            "message": message,
            "type": "Warning",
            "count": 1,
            "firstTimestamp": wall,
            "lastTimestamp": wall,
            "source": {"component": "kubelet", "host": "kubesim-node"},
            "reportingComponent": "kubelet",
            "reportingInstance": "kubesim-node",
        })
