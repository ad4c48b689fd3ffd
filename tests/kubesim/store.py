"""Object storage: metadata, resourceVersion, generation, garbage collection and the watch event log."""
import copy
import random
import threading
import time
import uuid
from collections import defaultdict, deque, namedtuple

from .defaults import apply_defaults
from .errors import ApiError, already_exists, conflict, invalid, not_found

EVENT_LOG_SIZE = 20000
SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
NAMESPACES = ("", "namespaces")
PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
# Fields the server owns: a client cannot change them through a write.
SERVER_META = ("name", "namespace", "uid", "creationTimestamp", "generation", "resourceVersion", "deletionTimestamp")

WatchEvent = namedtuple("WatchEvent", "rv type key obj")


def timestamp():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def random_suffix(length=5):
    return "".join(random.choice(SUFFIX_ALPHABET) for _i in range(length))


def _without(obj, *keys):
    return {k: v for k, v in obj.items() if k not in keys}


def _comparable(obj):
    """The object minus what a write bumps by itself, to tell a real change from a no-op."""
    meta = _without(obj.get("metadata") or {}, "resourceVersion", "generation", "managedFields")
    return dict(obj, metadata=meta)


class Store:
    """Thread-safe storage; every mutation that really changes an object gets a new resourceVersion."""

    def __init__(self, catalog):
        self.catalog = catalog
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)
        self._objects = defaultdict(dict)
        self._rv = 1000
        self._events = deque(maxlen=EVENT_LOG_SIZE)
        self._floor = self._rv
        self._listeners = []
        self._closed = False

    @property
    def resource_version(self):
        return str(self._rv)

    def add_listener(self, callback):
        """``callback()`` runs after every stored change (with the lock held: keep it short)."""
        self._listeners.append(callback)

    def close(self):
        with self.lock:
            self._closed = True
            self._changed.notify_all()

    def reopen(self):
        """Serve again after ``close()``, with everything stored."""
        with self.lock:
            self._closed = False

    # -- reads -------------------------------------------------------------

    def get(self, res, namespace, name):
        with self.lock:
            obj = self._objects[res.key].get((self._ns(res, namespace), name))
            return copy.deepcopy(obj) if obj is not None else None

    def list(self, res, namespace=None):
        with self.lock:
            items = sorted(self._objects[res.key].items())
            return [copy.deepcopy(obj) for (ns, _name), obj in items if namespace is None or ns == namespace]

    def dump(self, namespace=None):
        """Every stored object (of ``namespace``: None for all), sorted by apiVersion, kind, namespace, name."""
        with self.lock:
            objects = [copy.deepcopy(obj) for objs in self._objects.values() for (ns, _name), obj in objs.items()
                       if namespace is None or ns == namespace]
        return sorted(objects, key=lambda o: (o["apiVersion"], o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]))

    def snapshot(self, res, namespace=None):
        """Objects and the resourceVersion they were read at, atomically."""
        with self.lock:
            return self.list(res, namespace), self._rv

    def namespace_exists(self, name):
        return ("", name) in self._objects[NAMESPACES]

    # -- writes ------------------------------------------------------------

    def create(self, res, obj, dry_run=False):
        with self.lock:
            obj = copy.deepcopy(obj)
            obj["apiVersion"], obj["kind"] = res.api_version, res.kind
            meta = obj.setdefault("metadata", {})
            if not meta.get("name"):
                if not meta.get("generateName"):
                    raise invalid(res, "", "metadata.name: Required value: name or generateName is required")
                meta["name"] = meta["generateName"] + random_suffix()
            if res.namespaced:
                if not meta.get("namespace"):
                    raise invalid(res, meta["name"], "metadata.namespace: Required value")
                if not self.namespace_exists(meta["namespace"]):
                    raise not_found(self.catalog.lookup("", "v1", "namespaces"), meta["namespace"])
            else:
                meta.pop("namespace", None)
            key = (meta.get("namespace", ""), meta["name"])
            if key in self._objects[res.key]:
                raise already_exists(res, meta["name"])
            for field in ("resourceVersion", "deletionTimestamp", "managedFields"):
                meta.pop(field, None)
            meta.update(uid=str(uuid.uuid4()), creationTimestamp=timestamp(), generation=1)
            apply_defaults(res, obj)
            if dry_run:
                return obj
            self._commit(res.key, key, obj, "ADDED")
            return copy.deepcopy(obj)

    def update(self, res, namespace, name, obj, dry_run=False, subresource=None):
        """Replace an object; a ``metadata.resourceVersion`` in ``obj`` is a precondition."""
        with self.lock:
            key = (self._ns(res, namespace), name)
            old = self._objects[res.key].get(key)
            if old is None:
                raise not_found(res, name)
            meta = obj.get("metadata") or {}
            if meta.get("name") not in (None, name):
                raise ApiError(400, f"the name of the object ({meta['name']}) does not match the name on the URL ({name})")
            wanted_rv = meta.get("resourceVersion")
            if wanted_rv and wanted_rv != old["metadata"]["resourceVersion"]:
                raise conflict(res, name)
            new = self._merge_update(res, old, obj, subresource)
            if _comparable(new) == _comparable(old):
                return copy.deepcopy(old)
            if _without(new, "metadata", "status") != _without(old, "metadata", "status"):
                new["metadata"]["generation"] = old["metadata"].get("generation", 0) + 1
            if dry_run:
                return new
            self._commit(res.key, key, new, "MODIFIED")
            return copy.deepcopy(new)

    def update_status(self, res, namespace, name, status):
        """Controller write: replace only the status, with no resourceVersion precondition."""
        with self.lock:
            return self.update(res, namespace, name, {"status": status}, subresource="status")

    def delete(self, res, namespace, name, dry_run=False, orphan=False):
        with self.lock:
            key = (self._ns(res, namespace), name)
            old = self._objects[res.key].get(key)
            if old is None:
                raise not_found(res, name)
            if res.key == NAMESPACES and name in PROTECTED_NAMESPACES:
                raise ApiError(403, f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                               details={"name": name, "kind": "namespaces"})
            if dry_run:
                return copy.deepcopy(old)
            self._remove(res.key, key)
            if res.key == NAMESPACES:
                self._purge_namespace(name)
            self._collect(old["metadata"]["uid"], orphan)
            return copy.deepcopy(old)

    # -- watch -------------------------------------------------------------

    def events_after(self, resource_version, timeout):
        """Events newer than ``resource_version``, waiting up to ``timeout``; None if it is too old."""
        deadline = time.monotonic() + timeout
        with self._changed:
            if resource_version < self._floor:
                return None
            while not self._closed:
                newer = []
                for event in reversed(self._events):
                    if event.rv <= resource_version:
                        break
                    newer.append(event)
                if newer:
                    return newer[::-1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            return []

    @property
    def closed(self):
        return self._closed

    # -- internals ---------------------------------------------------------

    @staticmethod
    def _ns(res, namespace):
        return (namespace or "") if res.namespaced else ""

    @staticmethod
    def _merge_update(res, old, obj, subresource):
        if subresource == "status":
            new = copy.deepcopy(old)
            new["status"] = copy.deepcopy(obj.get("status"))
            if new["status"] is None:
                del new["status"]
            return new
        new = copy.deepcopy(obj)
        new["apiVersion"], new["kind"] = res.api_version, res.kind
        meta = new.setdefault("metadata", {})
        for field in SERVER_META:
            if field in old["metadata"]:
                meta[field] = old["metadata"][field]
            else:
                meta.pop(field, None)
        meta.pop("managedFields", None)
        if "status" in res.subresources:
            # The main resource ignores status changes when a status subresource exists.
            new.pop("status", None)
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
        return apply_defaults(res, new)

    def _bump(self):
        self._rv += 1
        return self._rv

    def _emit(self, etype, res_key, obj, rv):
        if len(self._events) == self._events.maxlen:
            self._floor = self._events[0].rv
        self._events.append(WatchEvent(rv, etype, res_key, copy.deepcopy(obj)))
        self._changed.notify_all()
        for callback in self._listeners:
            callback()

    def _commit(self, res_key, key, obj, etype):
        rv = self._bump()
        obj["metadata"]["resourceVersion"] = str(rv)
        self._objects[res_key][key] = obj
        self._emit(etype, res_key, obj, rv)

    def _remove(self, res_key, key):
        obj = self._objects[res_key].pop(key)
        rv = self._bump()
        obj["metadata"]["resourceVersion"] = str(rv)
        self._emit("DELETED", res_key, obj, rv)
        return obj

    def _purge_namespace(self, namespace):
        for res_key, objects in list(self._objects.items()):
            for key in [k for k in objects if k[0] == namespace]:
                self._remove(res_key, key)

    def _collect(self, owner_uid, orphan):
        """Garbage-collect (or orphan) dependents whose owner is gone, recursively."""
        live_uids = {o["metadata"]["uid"] for objs in self._objects.values() for o in objs.values()}
        for res_key, objects in list(self._objects.items()):
            for key, obj in list(objects.items()):
                refs = obj["metadata"].get("ownerReferences") or []
                if key not in objects or not any(r.get("uid") == owner_uid for r in refs):
                    continue
                remaining = [r for r in refs if r.get("uid") != owner_uid]
                if orphan or any(r.get("uid") in live_uids for r in remaining):
                    updated = copy.deepcopy(obj)
                    updated["metadata"]["ownerReferences"] = remaining
                    if not remaining:
                        del updated["metadata"]["ownerReferences"]
                    self._commit(res_key, key, updated, "MODIFIED")
                else:
                    removed = self._remove(res_key, key)
                    self._collect(removed["metadata"]["uid"], orphan=False)
