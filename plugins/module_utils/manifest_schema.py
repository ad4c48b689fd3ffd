# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Strict schema checks of rendered objects: Kubernetes' own schemas and the CRDs we ship."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import functools
import os

try:
    import yaml
    HAS_YAML = True
except ImportError:
    HAS_YAML = False

try:
    import jsonschema
    HAS_JSONSCHEMA = True
except ImportError:
    HAS_JSONSCHEMA = False

try:
    import kubernetes_validate
    from kubernetes_validate import utils as kubernetes_validate_utils
    from kubernetes_validate.utils import all_versions
    HAS_KUBERNETES_VALIDATE = True
except ImportError:
    HAS_KUBERNETES_VALIDATE = False

if HAS_KUBERNETES_VALIDATE and not hasattr(kubernetes_validate_utils.schema_contents, "cache_info"):
    # kubernetes_validate.validate() reads and parses a version's _definitions.json (1.4 MB) for each
    # object it checks. The files do not change while we run, and validation only reads the parsed
    # schemas, so each file is parsed once per process: a component's objects validate 2-3 times faster.
    kubernetes_validate_utils.schema_contents = functools.lru_cache(maxsize=None)(kubernetes_validate_utils.schema_contents)


def missing_library():
    """The name of a library validation needs that is not installed, or None."""
    for name, present in (("kubernetes-validate", HAS_KUBERNETES_VALIDATE), ("jsonschema", HAS_JSONSCHEMA), ("PyYAML", HAS_YAML)):
        if not present:
            return name
    return None


class ManifestError(Exception):
    """Rendered objects that would not be accepted; `problems` lists each one."""

    def __init__(self, problems):
        self.problems = problems
        super(ManifestError, self).__init__(
            "%d problem(s) in the rendered objects:\n- %s" % (len(problems), "\n- ".join(problems)))


def object_ref(obj):
    meta = obj.get("metadata") or {}
    ref = "%s/%s" % (obj.get("kind", "?"), meta.get("name", "?"))
    if meta.get("namespace"):
        ref = "%s/%s" % (meta["namespace"], ref)
    return ref


def _strict(schema):
    """Return a copy that refuses unknown fields, as kubectl's strict field validation does."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = dict((name, _strict(sub)) for name, sub in value.items())
        else:
            out[key] = _strict(value)
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.get("nullable"):
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
    preserve = out.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    return out


def load_crd_schemas(paths):
    """Map (apiVersion, kind) to a strict JSON schema for every CRD file under `paths`."""
    schemas = {}
    for path in paths:
        files = [path]
        if os.path.isdir(path):
            files = sorted(os.path.join(path, name) for name in os.listdir(path) if name.endswith((".yaml", ".yml")))
        for filename in files:
            with open(filename) as handle:
                # libyaml's loader, when PyYAML has it, reads the CRDs about ten times faster.
                for doc in yaml.load_all(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
                    if not doc or doc.get("kind") != "CustomResourceDefinition":
                        continue
                    spec = doc["spec"]
                    for version in spec.get("versions", []):
                        schema = (version.get("schema") or {}).get("openAPIV3Schema")
                        if schema:
                            key = ("%s/%s" % (spec["group"], version["name"]), spec["names"]["kind"])
                            schemas[key] = _strict(schema)
    return schemas


def _label_problems(obj, required_labels):
    labels = (obj.get("metadata") or {}).get("labels") or {}
    problems = []
    for key in ("app.kubernetes.io/name", "app.kubernetes.io/component"):
        if not labels.get(key):
            problems.append("%s: label %s is missing" % (object_ref(obj), key))
    for key, value in sorted(required_labels.items()):
        if labels.get(key) != value:
            problems.append("%s: label %s is %r, expected %r" % (object_ref(obj), key, labels.get(key), value))
    return problems


def _schema_problems(obj, versions, crd_schemas):
    key = (obj.get("apiVersion"), obj.get("kind"))
    if key in crd_schemas:
        validator = jsonschema.Draft7Validator(crd_schemas[key])
        return ["%s: %s: %s (CRD schema)" % (object_ref(obj), "/".join(str(p) for p in error.absolute_path) or "<root>", error.message)
                for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path))]
    problems = []
    for version in versions:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            problems.append("%s: Kubernetes %s has no %s %s and no CRD schema for it is known" % (
                object_ref(obj), version, key[0], key[1]))
        except kubernetes_validate.ValidationError as error:
            problems.append("%s: %s: %s (Kubernetes %s)" % (
                object_ref(obj), "/".join(str(p) for p in error.path) or "<root>", error.message, version))
    return problems


def _check_versions(versions):
    # kubernetes-validate compares versions as strings, so ask for exactly the ones it ships.
    known = [".".join(v.lstrip("v").split(".")[:2]) for v in all_versions()]
    unknown = [v for v in versions if v not in known]
    if unknown or not versions:
        raise ManifestError(["Kubernetes version(s) %s not known to kubernetes-validate; use MAJOR.MINOR from %s" % (
            ", ".join(repr(v) for v in unknown) or "(none given)", ", ".join(known))])


def validate_manifests(manifests, versions, crd_schemas, required_labels=None):
    """Check every object; raise ManifestError listing all problems, else return their refs."""
    _check_versions(versions)
    problems = []
    seen = set()
    for obj in manifests:
        if not isinstance(obj, dict) or not obj.get("kind") or not obj.get("apiVersion"):
            problems.append("not a Kubernetes object (needs apiVersion and kind): %r" % (obj,))
            continue
        ref = object_ref(obj)
        if (obj["apiVersion"], ref) in seen:
            problems.append("%s appears twice" % ref)
        seen.add((obj["apiVersion"], ref))
        problems.extend(_schema_problems(copy.deepcopy(obj), versions, crd_schemas))
        problems.extend(_label_problems(obj, required_labels or {}))
    if problems:
        raise ManifestError(problems)
    return [object_ref(obj) for obj in manifests]


def validate_with_crds(manifests, versions, crd_paths, required_labels=None):
    """validate_manifests with the CRDs found under `crd_paths` (manifest_validate, and
    manifest_apply's validate option). Raises ManifestError, or IOError/OSError/ValueError when
    a CRD cannot be read."""
    return validate_manifests(manifests, versions, load_crd_schemas(crd_paths), required_labels)
