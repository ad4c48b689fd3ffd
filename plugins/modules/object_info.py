#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: object_info
short_description: Read Kubernetes objects, retrying the API's transient errors
version_added: 0.1.0
author: streams.kafka maintainers (@streams-kafka)
description:
  - Reads one object by name, several by their names, or the objects of a kind matching label selectors, like
    M(kubernetes.core.k8s_info), through kubernetes.core's client and auth options.
  - Unlike M(kubernetes.core.k8s_info), a 429, 500, 502, 503 or 504 answer or a connection that
    cannot be opened is retried (5 attempts, honouring C(Retry-After) up to 10 s), as every
    other module of this collection does, so a preflight or status read does not fail a run
    on a transient API error.
  - The roles read with it before their first write (preflight) and in C(playbooks/status.yml), and
    wait with it for the users Job to complete (O(wait_condition)).
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  api_version:
    description: The C(apiVersion) of the objects, for example C(v1) or C(apps/v1).
    type: str
    required: true
  kind:
    description: The C(kind) of the objects, for example C(Secret) or C(StatefulSet).
    type: str
    required: true
  namespace:
    description: The namespace of namespaced objects; omit for cluster-scoped ones.
    type: str
  name:
    description:
      - The object's name. Without it or O(names), every object of the kind in O(namespace) that matches O(label_selectors).
    type: str
  names:
    description:
      - Several objects' names, read in one module run (one request each); RV(missing) lists those that do not exist.
      - Cheaper than a loop over O(name), which starts the module once per name.
    type: list
    elements: str
  label_selectors:
    description: Label selectors (C(key=value), C(key!=value), C(key)); an object must match all.
    type: list
    elements: str
    default: []
  wait_condition:
    description:
      - With O(name), wait until the object exists and its C(status.conditions) has this C(type) with this
        C(status), as M(kubernetes.core.k8s_info)'s O(wait_condition) does, but with the retries above.
      - An object that reports C(Failed=True) (a Job that will not complete) fails at once, with its message.
    type: dict
    suboptions:
      type:
        description: The condition type, for example C(Complete).
        type: str
        required: true
      status:
        description: The condition status.
        type: str
        default: "True"
  wait_timeout:
    description: Seconds O(wait_condition) may take.
    type: int
    default: 120
attributes:
  check_mode:
    support: full
    description: Reads only, in check mode as otherwise.
  diff_mode:
    support: none
    description: Reads only.
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: Wait for a Job to complete
  streams.kafka.object_info:
    api_version: batch/v1
    kind: Job
    namespace: kafka
    name: prod-east-kafka-users-1a2b3c4d5e
    wait_condition: {type: Complete}
    wait_timeout: 330

- name: Read the Kafka StatefulSet, if it exists
  streams.kafka.object_info:
    api_version: apps/v1
    kind: StatefulSet
    namespace: kafka
    name: prod-east-kafka
  register: live

- name: Read a CA certificate and a client certificate in one run
  streams.kafka.object_info:
    api_version: v1
    kind: Secret
    namespace: kafka
    names: [prod-east-cluster-ca-cert, prod-east-connect-user]
  register: secrets
  no_log: true

- name: Read the Deployments of one cluster
  streams.kafka.object_info:
    api_version: apps/v1
    kind: Deployment
    namespace: kafka
    label_selectors:
      - app.kubernetes.io/instance=prod-east
      - app.kubernetes.io/managed-by=streams.kafka
  register: deployments
"""

RETURN = r"""
resources:
  description: The objects found (none when the named object, or its namespace, does not exist).
  returned: success
  type: list
  elements: dict
  sample:
    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: {name: prod-east-kafka, namespace: kafka}
missing:
  description: With O(names), the names that no object has, in the order given.
  returned: success
  type: list
  elements: str
  sample: [prod-east-connect-user]
"""

from ansible_collections.streams.kafka.plugins.module_utils import k8s_api, readiness


def find(api, params):
    """The objects; with wait_condition, once the named object reports the condition."""
    if params["names"] is not None:
        return [obj for name in params["names"] for obj in api.find(params["api_version"], params["kind"], params["namespace"], name)]

    def probe():
        found = api.find(params["api_version"], params["kind"], params["namespace"], params["name"], params["label_selectors"])
        if params["wait_condition"]:
            if not found:
                raise readiness.NotReady("%s %s does not exist yet" % (params["kind"], params["name"]))
            readiness.condition_met(found[0], params["wait_condition"]["type"], params["wait_condition"]["status"])
        return found
    if not params["wait_condition"]:
        return probe()
    return readiness.wait_until(probe, params["wait_timeout"], interval=1.0, max_interval=2.0)[0]


def main():
    module = k8s_api.k8s_module(dict(
        api_version=dict(type="str", required=True),
        kind=dict(type="str", required=True),
        namespace=dict(type="str"),
        name=dict(type="str"),
        names=dict(type="list", elements="str"),
        label_selectors=dict(type="list", elements="str", default=[]),
        wait_condition=dict(type="dict", options=dict(type=dict(type="str", required=True),
                                                      status=dict(type="str", default="True"))),
        wait_timeout=dict(type="int", default=120),
    ), supports_check_mode=True, required_by={"wait_condition": "name"}, mutually_exclusive=[("name", "names")])
    try:
        resources = find(k8s_api.ObjectApi(module), module.params)
    except k8s_api.ApiError as error:
        module.fail_json(msg=str(error), status=error.status)
    except (readiness.NotReady, readiness.ConditionFailed) as error:
        module.fail_json(msg=str(error))
    result = dict(changed=False, resources=resources)
    if module.params["names"] is not None:
        found = set(obj["metadata"]["name"] for obj in resources)
        result["missing"] = [name for name in module.params["names"] if name not in found]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
