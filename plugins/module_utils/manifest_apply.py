# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client-side apply that sends nothing when nothing would change.

kubernetes.core's apply computes its patch from the last-applied annotation, but returns the
whole desired list for every list field, so objects with containers or ports are PATCHed on
every run even when the server would store the same thing. Here a patch is sent only when
some value in it differs from the live object, ignoring fields the server filled in.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.streams.kafka.plugins.module_utils import k8s_api
from ansible_collections.streams.kafka.plugins.module_utils.manifest_schema import object_ref

REDACTED = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# Fields the server owns; they never decide whether an object changed.
SERVER_FIELDS = ("resourceVersion", "uid", "generation", "creationTimestamp", "managedFields", "selfLink")


def contained(wanted, actual):
    """True when every value in `wanted` is already in `actual`.

    Dicts compare key by key; lists element by element with the same length, so list items
    the server defaulted (a container's terminationMessagePath) do not count as changes.
    """
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(contained(value, actual.get(key)) for key, value in wanted.items())
    if isinstance(wanted, list):
        return isinstance(actual, list) and len(wanted) == len(actual) and all(
            contained(w, a) for w, a in zip(wanted, actual))
    return wanted == actual


def redact(obj):
    """A copy safe to show: Secret values replaced."""
    if not obj or obj.get("kind") != "Secret":
        return obj
    safe = dict(obj)
    for field in ("data", "stringData"):
        if isinstance(obj.get(field), dict):
            safe[field] = dict((key, REDACTED) for key in obj[field])
    return safe


def _shown(obj):
    """What a diff shows: no server bookkeeping, no last-applied copy (it repeats Secret values)."""
    meta = dict((k, v) for k, v in (obj.get("metadata") or {}).items() if k not in SERVER_FIELDS)
    annotations = dict((k, v) for k, v in (meta.get("annotations") or {}).items() if k != LAST_APPLIED)
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return redact(dict(obj, metadata=meta))


def _patched(api, existing, desired):
    """The object after applying `desired` to `existing`: PATCHed only when something differs."""
    patch = k8s_api.last_applied_patch(existing, desired)
    if contained(patch, existing):
        return None
    return api.patch(desired, patch)


def apply_one(api, desired, check_mode=False):
    """Apply one object; return (action, before, after) where action is created/patched/unchanged."""
    desired = k8s_api.stored_form(desired)
    existing = api.read(desired)
    if existing is None:
        body = k8s_api.with_last_applied(desired)
        try:
            return "created", {}, api.create(body)
        except k8s_api.ApiError as error:
            # A dry run cannot create inside a namespace that was itself only dry-run created.
            if check_mode and error.status == 404:
                return "created", {}, body
            if error.status != 409:
                raise
        # 409 AlreadyExists: our own create, stored by an attempt whose answer was lost (the
        # client retried it), or someone else's since our read. Either way it exists now and
        # did not when we looked: apply to what is there, and report it created.
        existing = api.read(desired)
        if existing is None:
            raise k8s_api.ApiError("cannot create %s: the API server says it exists, but it cannot be read"
                                   % object_ref(desired), 409)
        return "created", {}, _patched(api, existing, desired) or existing
    after = _patched(api, existing, desired)
    if after is None:
        return "unchanged", existing, existing
    return "patched", existing, after


def apply_all(api, manifests, check_mode=False):
    """Apply objects in order. Returns a result dict for exit_json: changed, objects, diff."""
    results, diffs = [], []
    for desired in manifests:
        action, before, after = apply_one(api, desired, check_mode)
        ref = object_ref(desired)
        results.append({"object": ref, "action": action})
        if action != "unchanged":
            diff = k8s_api.object_diff(_shown(before), _shown(after)) if before else {"before": {}, "after": _shown(after)}
            diffs.append(dict(diff, before_header=ref, after_header=ref))
    return {"changed": bool(diffs), "objects": results, "diff": diffs}
