#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: manifest_apply
short_description: Apply a component's objects idempotently, with no API writes when nothing changed
version_added: 0.1.0
author: streams.kafka maintainers (@streams-kafka)
description:
  - Applies each object in order the way C(kubernetes.core.k8s) with O(ignore:apply=true) does
    (client-side apply with the C(kubectl.kubernetes.io/last-applied-configuration) annotation),
    using kubernetes.core's own client, auth options and patch computation.
  - Unlike C(kubernetes.core.k8s), it sends the patch only when some value in it differs from
    the live object. Lists such as containers and ports no longer cause a PATCH on every run,
    so a run with nothing to change makes GET requests only.
  - In check mode, creates and patches are server-side dry runs (C(dryRun=All)); objects of a
    namespace that does not exist yet are reported as created.
  - Secret values never appear in the result or the diff. Still set C(no_log) on tasks that pass
    Secrets, so the module arguments stay out of logs.
  - With O(validate), every object is first validated strictly against the Kubernetes (and
    CRD) schemas; an invalid object fails the task before any request is sent.
  - Requests answered 429, 500, 502, 503 or 504, and connections that could not be opened, are
    retried (five attempts in all, with backoff, honouring C(Retry-After) up to 10 seconds). A
    create answered 409 AlreadyExists (a retried create the server had already stored, or an
    object created meanwhile) is applied to the object that is there and reported as created.
options:
  manifests:
    description: The objects, applied in the given order.
    type: list
    elements: dict
    required: true
  request_timeout:
    description: Seconds each API request may take.
    type: int
    default: 120
  validate:
    description:
      - Validate every object first, exactly as M(streams.kafka.manifest_validate) does, and
        fail before the first API request when any object is invalid, naming every problem.
      - Saves the roles a module run per component. Omit it to apply without validating.
    type: dict
    suboptions:
      kubernetes_versions:
        description: Kubernetes versions (C(MAJOR.MINOR)) whose schemas each object must pass.
        type: list
        elements: str
        default: ["1.27", "1.37"]
      crd_paths:
        description: CRD files, or directories of them, for objects Kubernetes itself does not define.
        type: list
        elements: path
        default: []
      required_labels:
        description: Labels (name and value) every object must carry.
        type: dict
        default: {}
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    description: Writes become server-side dry runs; nothing is stored.
  diff_mode:
    support: full
    description: Returns the changed parts of every created or patched object.
requirements:
  - kubernetes
"""

EXAMPLES = r"""
- name: Apply the ZooKeeper objects
  streams.kafka.manifest_apply:
    manifests: "{{ zookeeper_manifests }}"

- name: Validate the Kafka objects against the schemas of Kubernetes 1.27 and 1.37, then apply them
  streams.kafka.manifest_apply:
    manifests: "{{ kafka_manifests }}"
    validate:
      kubernetes_versions: ["1.27", "1.37"]
      required_labels:
        app.kubernetes.io/part-of: streams

- name: Apply with an explicit context (or set module_defaults group/streams.kafka.k8s)
  streams.kafka.manifest_apply:
    context: prod-east
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata:
          name: settings
          namespace: kafka
        data:
          greeting: hello
"""

RETURN = r"""
objects:
  description: What happened to each object, in order.
  returned: always
  type: list
  elements: dict
  contains:
    object:
      description: The object, as C(namespace/Kind/name).
      type: str
      sample: kafka/ConfigMap/prod-zookeeper-config
    action:
      description: V(created), V(patched) or V(unchanged).
      type: str
      sample: unchanged
problems:
  description: With O(validate), what is wrong with the objects, when the task failed for it.
  returned: failure
  type: list
  elements: str
diff:
  description: The changed parts of each created or patched object (with C(--diff)).
  returned: changed
  type: list
  elements: dict
"""

import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.streams.kafka.plugins.module_utils import k8s_api, manifest_apply, manifest_schema


def validate(module):
    """Fails the module when an object is invalid; nothing has been sent yet."""
    options = module.params["validate"]
    missing = manifest_schema.missing_library()
    if missing:
        module.fail_json(msg=missing_required_lib(missing))
    try:
        manifest_schema.validate_with_crds(module.params["manifests"], options["kubernetes_versions"], options["crd_paths"],
                                           options["required_labels"])
    except manifest_schema.ManifestError as error:
        module.fail_json(msg=str(error), problems=error.problems)
    except (IOError, OSError, ValueError) as error:
        module.fail_json(msg="cannot read the CRD schemas: %s" % error, exception=traceback.format_exc())


def main():
    module = k8s_api.k8s_module(
        dict(manifests=dict(type="list", elements="dict", required=True),
             request_timeout=dict(type="int", default=120),
             validate=dict(type="dict", options=dict(
                 kubernetes_versions=dict(type="list", elements="str", default=["1.27", "1.37"]),
                 crd_paths=dict(type="list", elements="path", default=[]),
                 required_labels=dict(type="dict", default={})))),
        supports_check_mode=True,
    )
    if module.params["validate"] is not None:
        validate(module)
    try:
        result = manifest_apply.apply_all(k8s_api.ObjectApi(module, module.params["request_timeout"]), module.params["manifests"], module.check_mode)
    except k8s_api.ApiError as error:
        module.fail_json(msg=str(error), status=error.status)
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
