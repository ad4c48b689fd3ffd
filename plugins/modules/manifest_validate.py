#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: manifest_validate
short_description: Validate rendered Kubernetes objects strictly, before anything is applied
version_added: 0.1.0
author: streams.kafka maintainers (@streams-kafka)
description:
  - Checks every object against the Kubernetes OpenAPI schemas of each version in
    O(kubernetes_versions), in strict mode (unknown fields are errors), using the
    C(kubernetes-validate) library.
  - Objects of custom resources (OpenShift Route, ServiceMonitor, PodMonitor, PrometheusRule)
    are checked against the CustomResourceDefinitions found in O(crd_paths), also strictly.
  - Checks that every object carries the standard C(app.kubernetes.io) labels.
  - Reports every problem at once, naming the object, the field and the Kubernetes version.
  - Changes nothing; the component roles run it before their first API write.
options:
  manifests:
    description: The objects to check.
    type: list
    elements: dict
    required: true
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
    description:
      - Labels every object must carry with exactly these values.
      - C(app.kubernetes.io/name) and C(app.kubernetes.io/component) must always be present.
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
    description: Runs the same in check mode; it never changes anything.
  diff_mode:
    support: none
    description: Nothing to compare; it reads only.
requirements:
  - kubernetes-validate
  - jsonschema
  - PyYAML
"""

EXAMPLES = r"""
- name: Validate the rendered ZooKeeper objects
  streams.kafka.manifest_validate:
    manifests: "{{ zookeeper_manifests }}"
    kubernetes_versions: ["1.27", "1.37"]
    crd_paths:
      - "{{ role_path }}/files/crds"
    required_labels:
      app.kubernetes.io/instance: "{{ streams_cluster_name }}"
      app.kubernetes.io/part-of: streams
"""

RETURN = r"""
objects:
  description: The objects that passed, as C(namespace/Kind/name).
  returned: success
  type: list
  elements: str
  sample: ["kafka/ConfigMap/prod-zookeeper-config"]
problems:
  description: Every problem found, one line each.
  returned: failure
  type: list
  elements: str
  sample: ["kafka/StatefulSet/prod-zookeeper: spec/replicas: 'three' is not of type 'integer' (Kubernetes 1.27)"]
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.streams.kafka.plugins.module_utils import manifest_schema


def main():
    module = AnsibleModule(
        argument_spec=dict(
            manifests=dict(type="list", elements="dict", required=True),
            kubernetes_versions=dict(type="list", elements="str", default=["1.27", "1.37"]),
            crd_paths=dict(type="list", elements="path", default=[]),
            required_labels=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    missing = manifest_schema.missing_library()
    if missing:
        module.fail_json(msg=missing_required_lib(missing))
    try:
        objects = manifest_schema.validate_with_crds(
            module.params["manifests"], module.params["kubernetes_versions"], module.params["crd_paths"],
            module.params["required_labels"])
    except manifest_schema.ManifestError as error:
        module.fail_json(msg=str(error), problems=error.problems)
    except (IOError, OSError, ValueError) as error:
        module.fail_json(msg="cannot read the CRD schemas: %s" % error, exception=traceback.format_exc())
    module.exit_json(changed=False, objects=objects)


if __name__ == "__main__":
    main()
