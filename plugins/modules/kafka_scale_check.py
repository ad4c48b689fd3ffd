#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kafka_scale_check
short_description: Refuse a Kafka scale-down while the brokers it would remove still hold partitions
version_added: 0.1.0
author: streams.kafka maintainers (@streams-kafka)
description:
  - Reads the live Kafka StatefulSet C(<cluster_name>-kafka). When O(replicas) is below its
    current size, reads the metrics of every broker a scale-down would remove (the highest
    ordinals) through the API server's pod proxy, and fails when any of them still holds a
    partition replica (C(kafka_log_log_size{topic,partition})), listing the broker ids and the
    partitions. Kafka does not move partitions off a broker that goes away; they would be lost
    or left under-replicated.
  - Also fails when a broker to remove does not answer, because what it holds cannot be told.
  - Only broker pods count, selected by
    C(app.kubernetes.io/instance=<cluster_name>,app.kubernetes.io/name=kafka). In KRaft mode
    the dedicated controllers (C(<cluster_name>-kafka-controller-N), labelled
    C(app.kubernetes.io/name=kafka-controller), StatefulSet C(<cluster_name>-kafka-controller))
    hold no partitions and are neither read nor counted.
  - Changes nothing. The C(streams.kafka.kafka) role runs it in its preflight, before any write.
  - Needs RBAC verbs C(get) on C(statefulsets), C(list) on C(pods) and C(get) on C(pods/proxy).
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  namespace:
    description: Namespace of the brokers.
    type: str
    required: true
  cluster_name:
    description: The C(streams_cluster_name) the brokers were deployed with.
    type: str
    required: true
  replicas:
    description: The number of brokers wanted.
    type: int
    required: true
  metrics_port:
    description: Port of the brokers' Prometheus JMX exporter agent.
    type: int
    default: 9404
  metrics_path:
    description: Path of the metrics on O(metrics_port).
    type: str
    default: /metrics
attributes:
  check_mode:
    support: full
    description: Reads only, in check mode as otherwise.
  diff_mode:
    support: none
    description: Reads only.
requirements:
  - kubernetes >= 24.2.0
  - prometheus_client
"""

EXAMPLES = r"""
- name: Refuse to go to 3 brokers while brokers 3 and 4 hold partitions
  streams.kafka.kafka_scale_check:
    namespace: kafka
    cluster_name: prod-east
    replicas: 3
"""

RETURN = r"""
current_replicas:
  description: The StatefulSet's replicas now; null when it does not exist yet.
  returned: always
  type: int
  sample: 5
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.streams.kafka.plugins.module_utils import k8s_api, kafka, kafka_roll, metrics
from ansible_collections.streams.kafka.plugins.module_utils.readiness import NotReady


def main():
    options = dict((key, kafka.GATE_OPTIONS[key]) for key in ("namespace", "replicas", "metrics_port", "metrics_path"))
    options["cluster_name"] = dict(type="str", required=True)
    module = k8s_api.k8s_module(options, supports_check_mode=True)
    if not metrics.HAS_PROMETHEUS_CLIENT:
        module.fail_json(msg=missing_required_lib("prometheus_client"), exception=metrics.PROMETHEUS_CLIENT_IMPORT_ERROR)
    params = module.params
    try:
        current = kafka_roll.check_scale_down(k8s_api.PodApi(module, request_timeout=10), params["namespace"],
                                              params["cluster_name"], params["replicas"], params["metrics_port"],
                                              params["metrics_path"])
    except (kafka_roll.ScaleDownRefused, NotReady, k8s_api.ApiError) as error:
        module.fail_json(msg="kafka_replicas=%d for %s in %s is refused: %s" % (
            params["replicas"], params["cluster_name"], params["namespace"], error))
    module.exit_json(changed=False, current_replicas=current)


if __name__ == "__main__":
    main()
