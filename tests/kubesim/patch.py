"""The patch types kubernetes.core sends: merge, strategic merge, JSON patch and server-side apply."""
import copy
import json

import yaml

from .errors import ApiError

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
PATCH_TYPES = (MERGE, STRATEGIC, JSON_PATCH, APPLY)

# Strategic merge keys by field name; a tuple is a path inside the list item.
MERGE_KEYS = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "imagePullSecrets": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "volumeClaimTemplates": ("metadata", "name"),
    "conditions": ("type",),
    "ownerReferences": ("uid",),
    "hostAliases": ("ip",),
}


class PatchError(ApiError):
    def __init__(self, message, code=422):
        super().__init__(code, message)


def decode_body(content_type, raw):
    """Parse a patch body; apply patches are YAML (JSON is a subset)."""
    try:
        if content_type == APPLY:
            return yaml.safe_load(raw.decode("utf-8"))
        return json.loads(raw.decode("utf-8"))
    except (ValueError, yaml.YAMLError) as exc:
        raise PatchError(f"error decoding patch: {exc}", 400) from exc


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _merge_key(field, items):
    if field == "ports":
        # Container ports merge on containerPort, Service ports on port.
        has_container_port = any(isinstance(i, dict) and "containerPort" in i for i in items)
        return ("containerPort",) if has_container_port else ("port",)
    return MERGE_KEYS.get(field)


def _key_of(item, path):
    value = item
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _strip_directives(value):
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


def _merge_list(current, items, key_path):
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in items):
        return [_strip_directives(i) for i in items if not (isinstance(i, dict) and i.get("$patch") == "replace")]
    result = copy.deepcopy(current) if isinstance(current, list) else []
    for item in items:
        key = _key_of(item, key_path) if isinstance(item, dict) else None
        index = next((n for n, old in enumerate(result) if key is not None and _key_of(old, key_path) == key), None)
        if isinstance(item, dict) and item.get("$patch") == "delete":
            if index is not None:
                del result[index]
        elif index is None:
            result.append(_strip_directives(item))
        else:
            result[index] = strategic_merge(result[index], item)
    return result


def strategic_merge(target, patch):
    """An approximation of strategic merge patch: keyed lists merge, other lists replace."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip_directives(patch)
    if directive == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in result.get(field) or [] if v not in value]
        elif key.startswith("$"):
            continue
        elif value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic_merge(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list) and _merge_key(key, value):
            result[key] = _merge_list(result.get(key), value, _merge_key(key, value))
        else:
            result[key] = _strip_directives(value)
    return result


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _container(doc, parts, path):
    node = doc
    for part in parts[:-1]:
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise PatchError(f"path {path!r} does not exist") from exc
    return node


def _index(node, part, path, allow_end=False):
    if allow_end and part == "-":
        return len(node)
    try:
        index = int(part)
    except ValueError as exc:
        raise PatchError(f"invalid array index in {path!r}") from exc
    if not 0 <= index <= len(node) - (0 if allow_end else 1):
        raise PatchError(f"array index out of range in {path!r}")
    return index


def _get(doc, path):
    parts = _pointer(path)
    if not parts:
        return doc
    node = _container(doc, parts, path)
    try:
        return node[_index(node, parts[-1], path)] if isinstance(node, list) else node[parts[-1]]
    except (KeyError, TypeError) as exc:
        raise PatchError(f"path {path!r} does not exist") from exc


def _remove(doc, path):
    parts = _pointer(path)
    node = _container(doc, parts, path)
    if isinstance(node, list):
        return node.pop(_index(node, parts[-1], path))
    if not isinstance(node, dict) or parts[-1] not in node:
        raise PatchError(f"unable to remove nonexistent key {path!r}")
    return node.pop(parts[-1])


def _add(doc, path, value):
    parts = _pointer(path)
    if not parts:
        return value
    node = _container(doc, parts, path)
    if isinstance(node, list):
        node.insert(_index(node, parts[-1], path, allow_end=True), value)
    elif isinstance(node, dict):
        node[parts[-1]] = value
    else:
        raise PatchError(f"path {path!r} does not exist")
    return doc


def json_patch(target, operations):
    """RFC 6902 JSON patch."""
    if not isinstance(operations, list):
        raise PatchError("json patch must be a list of operations", 400)
    doc = copy.deepcopy(target)
    for op in operations:
        kind, path = op.get("op"), op.get("path", "")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            if _pointer(path):
                _remove(doc, path)
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind in ("move", "copy"):
            value = copy.deepcopy(_get(doc, op.get("from", "")))
            if kind == "move":
                _remove(doc, op.get("from", ""))
            doc = _add(doc, path, value)
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise PatchError(f"testing value {path!r} failed")
        else:
            raise PatchError(f"unexpected json patch operation {kind!r}", 400)
    return doc


def apply_patch(content_type, current, body):
    """Apply ``body`` of ``content_type`` to ``current`` (apply patches merge like strategic merge)."""
    if content_type == MERGE:
        return merge_patch(current, body)
    if content_type in (STRATEGIC, APPLY):
        return strategic_merge(current, body)
    if content_type == JSON_PATCH:
        return json_patch(current, body)
    raise unsupported(content_type)


def unsupported(content_type):
    return ApiError(415, f"the body of the request was in an unknown format ({content_type or 'no content type'}) - "
                    f"accepted media types include: {', '.join(PATCH_TYPES)}")
