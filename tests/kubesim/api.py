"""The Kubernetes REST API: discovery, CRUD, patch, subresources and watch."""
import json
import time

import yaml

from .errors import ApiError, bad_request, no_route, not_found
from .patch import APPLY, PATCH_TYPES, apply_patch, decode_body, unsupported
from .response import Response, json_response
from .selectors import field_matcher, label_matcher

VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.0",
    "gitCommit": "6911225c3f747e1cd9d109c305436d08b668f086",
    "gitTreeState": "clean",
    "buildDate": "2024-08-13T07:28:49Z",
    "goVersion": "go1.22.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}
DEFAULT_WATCH_TIMEOUT = 5.0


def _body_object(req):
    try:
        if "yaml" in req.content_type:
            obj = yaml.safe_load(req.body.decode("utf-8"))
        else:
            obj = req.json()
    except (ValueError, yaml.YAMLError) as exc:
        raise bad_request(f"error decoding request body: {exc}") from exc
    if not isinstance(obj, dict):
        raise bad_request("the request body must be an object")
    return obj


def _success(res, obj):
    details = {"name": obj["metadata"]["name"], "kind": res.plural, "uid": obj["metadata"]["uid"]}
    if res.group:
        details["group"] = res.group
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


class Api:
    """Answers API requests against a Store; the HTTP layer, faults and proxy live elsewhere."""

    def __init__(self, store, catalog, address):
        self.store = store
        self.catalog = catalog
        self.address = address
        self.reviews = {"SelfSubjectAccessReview": self._access_review}

    def handle(self, req):
        parts = [p for p in req.path.split("/") if p]
        if parts == ["version"]:
            return json_response(200, VERSION)
        if parts in (["healthz"], ["readyz"], ["livez"]):
            return Response(200, b"ok", "text/plain")
        if parts and parts[0] == "api":
            if len(parts) == 1:
                return json_response(200, self.catalog.api_versions(self.address()))
            return self._group_version("", parts[1], parts[2:], req)
        if parts and parts[0] == "apis":
            if len(parts) == 1:
                return json_response(200, self.catalog.api_group_list())
            if len(parts) == 2:
                return self._document(self.catalog.api_group(parts[1]))
            return self._group_version(parts[1], parts[2], parts[3:], req)
        raise no_route()

    @staticmethod
    def _document(doc):
        if doc is None:
            raise no_route()
        return json_response(200, doc)

    def _group_version(self, group, version, rest, req):
        if not rest:
            return self._document(self.catalog.resource_list(group, version))
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            scoped = self.catalog.lookup(group, version, rest[2])
            if scoped is not None and scoped.namespaced:
                namespace, rest = rest[1], rest[2:]
        res = self.catalog.lookup(group, version, rest[0])
        if res is None or len(rest) > 3 or (res.namespaced and namespace is None and len(rest) > 1):
            raise no_route()
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and sub not in res.subresources:
            raise no_route()
        if not res.stored:
            if req.method != "POST" or name is not None:
                raise ApiError(405, f"the server does not allow this method on the requested resource ({req.method})")
            return self.reviews[res.kind](res, req)
        if name is None:
            return self._collection(res, namespace, req)
        handler = {None: self._item, "status": self._item, "scale": self._scale, "log": self._log}.get(sub)
        if handler is None:
            raise no_route()
        return handler(res, namespace, name, sub, req)

    # -- collections -------------------------------------------------------

    def _collection(self, res, namespace, req):
        if req.method == "GET":
            if req.flag("watch"):
                return self._watch(res, namespace, req)
            return json_response(200, self._list(res, namespace, req))
        if req.method == "POST":
            return self._create(res, namespace, _body_object(req), req.dry_run)
        if req.method == "DELETE":
            listing = self._list(res, namespace, req)
            for item in listing["items"]:
                meta = item["metadata"]
                self.store.delete(res, meta.get("namespace"), meta["name"], req.dry_run)
            return json_response(200, listing)
        raise ApiError(405, f"the server does not allow this method on the requested resource ({req.method})")

    def _matcher(self, req):
        labels = label_matcher(req.query.get("labelSelector"))
        fields = field_matcher(req.query.get("fieldSelector"))
        return lambda obj: labels(obj) and fields(obj)

    def _list(self, res, namespace, req):
        matches = self._matcher(req)
        items, rv = self.store.snapshot(res, namespace)
        items = [obj for obj in items if matches(obj)]
        if not res.custom:
            # Built-in list items carry no kind/apiVersion on a real server.
            for obj in items:
                obj.pop("kind", None)
                obj.pop("apiVersion", None)
        return {"kind": f"{res.kind}List", "apiVersion": res.api_version, "metadata": {"resourceVersion": str(rv)}, "items": items}

    def _create(self, res, namespace, obj, dry_run):
        meta = obj.setdefault("metadata", {})
        if res.namespaced:
            if meta.get("namespace") not in (None, namespace):
                raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
            meta["namespace"] = namespace
        return json_response(201, self.store.create(res, obj, dry_run))

    def _watch(self, res, namespace, req):
        matches = self._matcher(req)
        timeout = float(req.query.get("timeoutSeconds") or DEFAULT_WATCH_TIMEOUT)
        start = req.query.get("resourceVersion") or "0"
        try:
            since = int(start)
        except ValueError as exc:
            raise bad_request(f"invalid resource version: {start}") from exc

        def relevant(obj):
            return (namespace is None or obj["metadata"].get("namespace") == namespace) and matches(obj)

        def line(etype, obj):
            return (json.dumps({"type": etype, "object": obj}) + "\n").encode("utf-8")

        def stream():
            deadline = time.monotonic() + timeout
            last = since
            if since == 0:
                items, last = self.store.snapshot(res, namespace)
                for obj in filter(relevant, items):
                    yield line("ADDED", obj)
            while not self.store.closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                events = self.store.events_after(last, remaining)
                if events is None:
                    gone = ApiError(410, f"too old resource version: {since}", "Expired")
                    yield line("ERROR", gone.body())
                    return
                for event in events:
                    last = event.rv
                    if event.key == res.key and relevant(event.obj):
                        yield line(event.type, event.obj)

        return Response(200, stream=stream())

    # -- single objects ----------------------------------------------------

    def _item(self, res, namespace, name, sub, req):
        if req.method == "GET":
            obj = self.store.get(res, namespace, name)
            if obj is None:
                raise not_found(res, name)
            return json_response(200, obj)
        if req.method == "PUT":
            return json_response(200, self.store.update(res, namespace, name, _body_object(req), req.dry_run, sub))
        if req.method == "PATCH":
            return self._patch(res, namespace, name, sub, req)
        if req.method == "DELETE" and sub is None:
            return self._delete(res, namespace, name, req)
        raise ApiError(405, f"the server does not allow this method on the requested resource ({req.method})")

    def _patch(self, res, namespace, name, sub, req):
        content_type = req.content_type.split(";")[0].strip()
        if content_type not in PATCH_TYPES:
            raise unsupported(content_type)
        body = decode_body(content_type, req.body)
        if content_type == APPLY:
            self._check_apply(res, name, body, req)
        # Held across read-modify-write so a concurrent controller write cannot cause a spurious conflict.
        with self.store.lock:
            current = self.store.get(res, namespace, name)
            if current is None:
                if content_type == APPLY and sub is None:
                    body.setdefault("metadata", {})["name"] = name
                    return self._create(res, namespace, body, req.dry_run)
                raise not_found(res, name)
            patched = apply_patch(content_type, current, body)
            return json_response(200, self.store.update(res, namespace, name, patched, req.dry_run, sub))

    @staticmethod
    def _check_apply(res, name, body, req):
        if not req.query.get("fieldManager"):
            raise ApiError(422, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch')
        if not isinstance(body, dict) or not body.get("apiVersion") or not body.get("kind"):
            raise bad_request("apiVersion and kind must be set in an apply patch")
        if (body.get("apiVersion"), body.get("kind")) != (res.api_version, res.kind):
            raise bad_request(f"the body kind {body.get('kind')} does not match the resource {res.qualified}")
        body_name = (body.get("metadata") or {}).get("name")
        if body_name not in (None, name):
            raise bad_request(f"the name of the object ({body_name}) does not match the name on the URL ({name})")

    def _delete(self, res, namespace, name, req):
        options = _body_object(req) if req.body else {}
        policy = req.query.get("propagationPolicy") or options.get("propagationPolicy")
        orphan = policy == "Orphan" or req.flag("orphanDependents") or options.get("orphanDependents") is True
        obj = self.store.delete(res, namespace, name, req.dry_run, orphan)
        if res.kind == "Namespace":
            obj.setdefault("status", {})["phase"] = "Terminating"
            return json_response(200, obj)
        if res.kind == "Pod":
            return json_response(200, obj)
        return json_response(200, _success(res, obj))

    # -- subresources ------------------------------------------------------

    @staticmethod
    def _scale_of(obj):
        selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        meta = obj["metadata"]
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta},
            "spec": {"replicas": obj["spec"].get("replicas", 1)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0), "selector": ",".join(f"{k}={v}" for k, v in selector.items())},
        }

    def _scale(self, res, namespace, name, _sub, req):
        with self.store.lock:
            obj = self.store.get(res, namespace, name)
            if obj is None:
                raise not_found(res, name)
            scale = self._scale_of(obj)
            if req.method == "GET":
                return json_response(200, scale)
            if req.method == "PUT":
                scale = _body_object(req)
            elif req.method == "PATCH":
                content_type = req.content_type.split(";")[0].strip()
                if content_type not in PATCH_TYPES:
                    raise unsupported(content_type)
                scale = apply_patch(content_type, scale, decode_body(content_type, req.body))
            else:
                raise ApiError(405, f"the server does not allow this method on the requested resource ({req.method})")
            obj["spec"]["replicas"] = int((scale.get("spec") or {}).get("replicas", 0))
            del obj["metadata"]["resourceVersion"]
            return json_response(200, self._scale_of(self.store.update(res, namespace, name, obj, req.dry_run)))

    def _log(self, res, namespace, name, _sub, req):
        if req.method != "GET":
            raise ApiError(405, f"the server does not allow this method on the requested resource ({req.method})")
        if self.store.get(res, namespace, name) is None:
            raise not_found(res, name)
        # Containers here produce no output.
        return Response(200, b"", "text/plain")

    @staticmethod
    def _access_review(_res, req):
        review = _body_object(req)
        review["status"] = {"allowed": True, "reason": "kubesim allows every request"}
        return json_response(201, review)
