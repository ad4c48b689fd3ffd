# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kafka Bridge gate: every pod's `GET /ready` answers 2xx through the pod proxy.

The Bridge answers `/ready` with 204 No Content up to 0.33 and 200 from 1.0; any 2xx is ready.
:func:`ready_problem` and :func:`parse_version` are pure, for the recorded-answer unit tests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

from ansible_collections.streams.kafka.plugins.module_utils.k8s_api import ApiError
from ansible_collections.streams.kafka.plugins.module_utils.workload import (
    DeploymentGate,
    api_server_message,
    selector_for,
    unreachable,
)
from ansible_collections.streams.kafka.plugins.module_utils.zookeeper import short

DEFAULT_PORT = 8080
READY_PATH = "/ready"


def ready_problem(status, text):
    """None when the answer to `/ready` says ready (any 2xx), else why not."""
    if 200 <= status < 300:
        return None
    return "GET %s answered %s%s" % (READY_PATH, status, ": " + short(text) if text and text.strip() else "")


def parse_version(text):
    """The `bridge_version` of the Bridge's `GET /`, or None when the answer has none."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        return None
    return data.get("bridge_version") if isinstance(data, dict) else None


class BridgeGate(DeploymentGate):
    component = "Kafka Bridge"

    def blank_pod(self, name):
        entry = super(BridgeGate, self).blank_pod(name)
        entry.update(status=None, bridge_version=None)
        return entry

    def read_pod(self, name):
        try:
            status, text = self.api.proxy_request(self.namespace, name, self.port, READY_PATH)
        except ApiError as error:
            return unreachable(error)
        from_api_server = api_server_message(text)
        if from_api_server and not 200 <= status < 300:
            return unreachable("HTTP API on port %s does not answer: %s" % (self.port, from_api_server))
        read = {"answered": True, "status": status, "problem": ready_problem(status, text)}
        if read["problem"] is None:
            try:
                root_status, root = self.api.proxy_request(self.namespace, name, self.port, "/")
                read["bridge_version"] = parse_version(root) if 200 <= root_status < 300 else None
            except ApiError:
                read["bridge_version"] = None
        return read


def gate_from_params(params, api, clock=time.monotonic):
    """The BridgeGate the bridge_ready options describe."""
    if params["cluster_name"]:
        selector = selector_for(params["cluster_name"], "bridge")
        deployment = params["deployment"] or "%s-bridge" % params["cluster_name"]
    else:
        selector, deployment = params["selector"], params["deployment"]
    return BridgeGate(api, params["namespace"], selector, params["replicas"], params["port"],
                      deployment=deployment, stuck_grace=params["stuck_grace"], clock=clock)
