#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kafka_connector
short_description: Create, update, pause, stop, resume and delete a Kafka Connect connector through the pod proxy
version_added: 0.1.0
author: streams.kafka maintainers (@streams-kafka)
description:
  - Manages one connector of a Kafka Connect (or MirrorMaker 2) cluster on Kubernetes through
    the workers' REST API, reached via the API server's pod proxy
    (C(/api/v1/namespaces/NS/pods/POD:8083/proxy/connectors/...)), so it works from wherever the
    Kubernetes API is reachable, without access to the pod network or a Route.
  - Idempotent. It reads C(GET /connectors/NAME/config) and C(/status) first and writes only
    what differs - C(PUT /connectors/NAME/config) to create or update, C(PUT .../pause),
    C(.../resume) or C(.../stop) to change the state, C(DELETE /connectors/NAME) to delete - so a
    run with nothing to change makes no REST writes.
  - Config values are compared as Connect stores them, as strings; booleans become
    V(true)/V(false) and lists comma-separated values.
  - While the workers rebalance (HTTP 409), start (503), or the chosen pod goes away, it retries
    on a ready pod until O(timeout). Other errors (an invalid config, an unknown connector class)
    fail at once with Connect's message.
  - Connects as M(kubernetes.core.k8s) does, and belongs to the C(streams.kafka.k8s) action
    group, so C(module_defaults) of C(group/streams.kafka.k8s) set its connection.
  - Needs RBAC verbs C(list) on C(pods) and C(create), C(get), C(update) and C(delete) on
    C(pods/proxy) in O(namespace).
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  namespace:
    description: Namespace of the Connect cluster.
    type: str
    required: true
  cluster_name:
    description:
      - The C(streams_cluster_name) the Connect cluster was deployed with; its pods are selected
        by C(app.kubernetes.io/instance=<cluster_name>,app.kubernetes.io/name=<component>).
      - Exactly one of O(cluster_name) and O(selector) is required.
    type: str
  selector:
    description: A label selector of the workers' pods, for Connect clusters not deployed by this collection.
    type: str
  component:
    description: Which Connect-based component O(cluster_name) names.
    type: str
    choices: [connect, mirrormaker]
    default: connect
  port:
    description: Port of the workers' REST API.
    type: int
    default: 8083
  name:
    description:
      - Name of the connector. Letters, digits, C(.), C(_) and C(-), starting with a letter or
        digit, because it travels in the proxied URL path.
    type: str
    required: true
  config:
    description:
      - The connector's configuration, as given to C(PUT /connectors/NAME/config); C(name) is
        added. Required unless O(state=absent).
      - Values are strings, numbers, booleans or lists. Keep secrets out of it with a config
        provider reference such as C(${file:/opt/kafka/external-secrets/db/password}); values of
        keys that look secret (C(password), C(secret), C(jaas), C(token)) are masked in the
        result and the diff.
    type: dict
  state:
    description:
      - V(running) creates or updates the connector and resumes it when paused or stopped.
      - V(paused) and V(stopped) create or update it, then pause it (its tasks stay assigned)
        or stop it (its tasks are shut down; Kafka 3.5 and later). A new connector is created
        running and paused or stopped right after.
      - V(absent) deletes it.
    type: str
    choices: [running, paused, stopped, absent]
    default: running
  timeout:
    description: Seconds to keep retrying while the workers rebalance or no worker is ready.
    type: int
    default: 120
attributes:
  check_mode:
    support: full
    description:
      - Reads the connector and reports what would change, without writing. When no worker is
        ready (the Connect cluster itself was only dry-run), it reports the connector as to be
        created.
  diff_mode:
    support: full
    description: Returns the connector's state and config before and after (secret-looking values masked).
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: A file sink on the Connect cluster of prod-east
  streams.kafka.kafka_connector:
    namespace: kafka
    cluster_name: prod-east
    name: orders-file-sink
    config:
      connector.class: org.apache.kafka.connect.file.FileStreamSinkConnector
      tasks.max: 1
      topics: [orders]
      file: /tmp/orders.txt

- name: Pause it
  streams.kafka.kafka_connector:
    namespace: kafka
    cluster_name: prod-east
    name: orders-file-sink
    state: paused
    config:
      connector.class: org.apache.kafka.connect.file.FileStreamSinkConnector
      tasks.max: 1
      topics: [orders]
      file: /tmp/orders.txt

- name: Delete it
  streams.kafka.kafka_connector:
    namespace: kafka
    cluster_name: prod-east
    name: orders-file-sink
    state: absent
"""

RETURN = r"""
actions:
  description: What was done (or would be, in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [updated, paused]
connector:
  description: The connector as wanted after the run.
  returned: always
  type: dict
  contains:
    name:
      description: The connector's name.
      type: str
    state:
      description: V(running), V(paused), V(stopped) or V(absent); or Connect's state (V(failed), V(unassigned)) when nothing was changed.
      type: str
    config:
      description: Its configuration, secret-looking values masked; null when absent.
      type: dict
  sample:
    name: orders-file-sink
    state: paused
    config:
      name: orders-file-sink
      connector.class: org.apache.kafka.connect.file.FileStreamSinkConnector
      tasks.max: "1"
      topics: orders
      file: /tmp/orders.txt
pod:
  description: The worker pod the REST calls went through.
  returned: when a worker was ready
  type: str
  sample: prod-east-connect-6d9f7c8b5-x2x4k
diff:
  description: The connector's state and config before and after (with C(--diff)).
  returned: changed and diff mode
  type: dict
"""

from ansible_collections.streams.kafka.plugins.module_utils import connect, k8s_api, readiness, workload
from ansible_collections.streams.kafka.plugins.module_utils.readiness import NotReady

OPTIONS = dict(
    namespace=dict(type="str", required=True),
    cluster_name=dict(type="str"),
    selector=dict(type="str"),
    component=dict(type="str", choices=list(connect.COMPONENTS), default="connect"),
    port=dict(type="int", default=connect.DEFAULT_PORT),
    name=dict(type="str", required=True),
    config=dict(type="dict"),
    state=dict(type="str", choices=["running", "paused", "stopped", "absent"], default="running"),
    timeout=dict(type="int", default=120),
)


def main():
    module = k8s_api.k8s_module(OPTIONS, supports_check_mode=True,
                                mutually_exclusive=[("cluster_name", "selector")],
                                required_one_of=[("cluster_name", "selector")],
                                required_if=[("state", "running", ["config"]), ("state", "paused", ["config"]),
                                             ("state", "stopped", ["config"])])
    params = module.params
    name, state = params["name"], params["state"]
    selector = params["selector"] or workload.selector_for(params["cluster_name"], params["component"])
    where = "connector %s of %s" % (name, readiness.describe(params, "Kafka Connect" if params["component"] == "connect" else "MirrorMaker 2"))
    manager = None
    try:
        if params["timeout"] < 0:
            raise ValueError("timeout must not be negative")
        manager = connect.ConnectorManager(k8s_api.PodApi(module, request_timeout=30), params["namespace"], selector,
                                           port=params["port"], timeout=0 if module.check_mode else params["timeout"])
        steps, before, after = manager.ensure(name, params["config"], state, module.check_mode)
    except NotReady as error:
        if module.check_mode and state != "absent" and "no Connect pod is ready" in str(error):
            # The Connect cluster itself was only dry-run: the connector would be created with it.
            config = connect.mask(connect.normalize_config(name, params["config"]))
            module.warn("%s: no worker is ready, so the connector is reported as to be created: %s" % (where, error))
            result = dict(changed=True, actions=["created"], connector=dict(name=name, state=state, config=config))
            if module._diff:
                result["diff"] = dict(before=dict(state="absent", config=None), after=dict(state=state, config=config))
            module.exit_json(**result)
        module.fail_json(msg="%s could not be managed within %ds: %s" % (where, params["timeout"], error), actions=[])
    except connect.ConnectError as error:
        module.fail_json(msg="%s: %s" % (where, error), status=error.status, actions=[])
    except k8s_api.ApiError as error:
        module.fail_json(msg="%s cannot be managed: %s" % (where, error), actions=[])
    except ValueError as error:
        module.fail_json(msg=str(error), actions=[])
    result = dict(changed=bool(steps), actions=steps, connector=dict(name=name, state=after["state"], config=after["config"]))
    if manager.pod:
        result["pod"] = manager.pod
    if module._diff and steps:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
