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
  - Without O(dest) it changes nothing; the component roles run it before their first API write.
  - With O(dest) it then writes the objects to that file as YAML documents (directory mode's
    C(NN-<component>.yaml)), only when every object passed, and only when the file differs.
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
  dest:
    description:
      - A file to write the objects to once they passed, each as a YAML document with its keys sorted.
      - Its directory is created (mode C(0755)) when missing. The file is replaced in one step, so a
        reader sees the old content or the new, never part of it.
    type: path
  header:
    description: Text for the top of O(dest), each line written as a YAML comment.
    type: str
    default: ""
  mode:
    description: The permissions of O(dest), as three octal digits.
    type: str
    default: "0644"
attributes:
  check_mode:
    support: full
    description: Validates the same in check mode, and reports whether O(dest) would change without writing it.
  diff_mode:
    support: full
    description: With O(dest), returns the file's content before and after.
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

- name: Validate the Kafka objects and write them for kubectl apply -f
  streams.kafka.manifest_validate:
    manifests: "{{ kafka_manifests }}"
    dest: build/manifests/dev/20-kafka.yaml
    header: kafka objects of dev, written by streams.kafka.
"""

RETURN = r"""
objects:
  description: The objects that passed, as C(namespace/Kind/name).
  returned: success
  type: list
  elements: str
  sample: ["kafka/ConfigMap/prod-zookeeper-config"]
dest:
  description: The file written, or that would be written in check mode.
  returned: when O(dest) is set and every object passed
  type: str
  sample: /srv/manifests/dev/20-kafka.yaml
problems:
  description: Every problem found, one line each.
  returned: failure
  type: list
  elements: str
  sample: ["kafka/StatefulSet/prod-zookeeper: spec/replicas: 'three' is not of type 'integer' (Kubernetes 1.27)"]
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.streams.kafka.plugins.module_utils import manifest_file, manifest_schema


def main():
    module = AnsibleModule(
        argument_spec=dict(
            manifests=dict(type="list", elements="dict", required=True),
            kubernetes_versions=dict(type="list", elements="str", default=["1.27", "1.37"]),
            crd_paths=dict(type="list", elements="path", default=[]),
            required_labels=dict(type="dict", default={}),
            dest=dict(type="path"),
            header=dict(type="str", default=""),
            mode=dict(type="str", default="0644"),
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
    if not module.params["dest"]:
        module.exit_json(changed=False, objects=objects)
    dest = module.params["dest"]
    text = manifest_file.manifest_text(module.params["manifests"], module.params["header"])
    try:
        changed, before = manifest_file.write_manifest_file(dest, text, manifest_file.parse_mode(module.params["mode"]),
                                                            check_mode=module.check_mode)
    except manifest_file.ManifestFileError as error:
        module.fail_json(msg=str(error), objects=objects)
    result = dict(changed=changed, objects=objects, dest=dest)
    if module._diff:
        result["diff"] = dict(before=before or "", after=text, before_header=dest, after_header=dest)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
