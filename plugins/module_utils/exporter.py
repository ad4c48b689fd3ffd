# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kafka Exporter gate: every pod's metrics report `kafka_brokers` equal to the broker count.

kafka_exporter answers `/metrics` only after it has connected to Kafka, and `kafka_brokers`
is the number of brokers in the cluster metadata it got, so the gate proves the exporter is up,
reaches Kafka, and sees all of it. Metrics are read and parsed by module_utils/metrics.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.streams.kafka.plugins.module_utils import metrics
from ansible_collections.streams.kafka.plugins.module_utils.k8s_api import ApiError
from ansible_collections.streams.kafka.plugins.module_utils.workload import DeploymentGate, selector_for, unreachable
from ansible_collections.streams.kafka.plugins.module_utils.zookeeper import short

DEFAULT_PORT = 9404
BROKERS = "kafka_brokers"


def brokers_problem(count, expected):
    """Why a `kafka_brokers` value does not pass, or None."""
    if count is None:
        return "its metrics have no %s (it has not read the Kafka cluster's metadata)" % BROKERS
    if int(count) != expected:
        return "%s is %d, expected %d (brokers missing from the cluster metadata)" % (BROKERS, int(count), expected)
    return None


class ExporterGate(DeploymentGate):
    component = "Kafka Exporter"

    def __init__(self, api, namespace, selector, replicas, brokers, port=DEFAULT_PORT, path=metrics.DEFAULT_PATH,
                 deployment=None, stuck_grace=60, clock=time.monotonic):
        super(ExporterGate, self).__init__(api, namespace, selector, replicas, port, deployment, stuck_grace, clock)
        self.brokers = brokers
        self.path = path

    def blank_pod(self, name):
        entry = super(ExporterGate, self).blank_pod(name)
        entry["kafka_brokers"] = None
        return entry

    def read_pod(self, name):
        try:
            samples = metrics.read(self.api, self.namespace, name, self.port, self.path)
        except ApiError as error:
            return unreachable("metrics on port %s do not answer: %s" % (self.port, short(str(error))))
        except ValueError as error:
            return {"answered": True, "problem": "metrics on port %s%s are %s" % (self.port, self.path, short(str(error)))}
        count = samples.total(BROKERS)
        return {"answered": True, "kafka_brokers": None if count is None else int(count),
                "problem": brokers_problem(count, self.brokers)}


def gate_from_params(params, api, clock=time.monotonic):
    """The ExporterGate the exporter_ready options describe."""
    if params["brokers"] < 1:
        raise ValueError("brokers must be at least 1, got %d" % params["brokers"])
    if params["cluster_name"]:
        selector = selector_for(params["cluster_name"], "exporter")
        deployment = params["deployment"] or "%s-exporter" % params["cluster_name"]
    else:
        selector, deployment = params["selector"], params["deployment"]
    return ExporterGate(api, params["namespace"], selector, params["replicas"], params["brokers"], port=params["port"],
                        path=params["path"], deployment=deployment, stuck_grace=params["stuck_grace"], clock=clock)
