# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check kafka_listeners and turn it into what the kafka role's templates render."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.streams.kafka.plugins.module_utils import kafka_listeners as listeners_util


def kafka_listeners(listeners, cluster_name, namespace, replicas):
    """Return {'problems': [...], 'listeners': [...], 'advertised_listeners': [...]}; the last two are
    empty when there are problems."""
    if not cluster_name or not namespace:
        raise AnsibleFilterError("kafka_listeners needs the cluster name and namespace, got %r and %r" % (cluster_name, namespace))
    try:
        replicas = int(replicas)
    except (TypeError, ValueError):
        raise AnsibleFilterError("kafka_listeners needs the number of brokers, got %r" % (replicas,))
    problems = listeners_util.problems(listeners, cluster_name, replicas)
    if problems or replicas < 1:
        return {"problems": problems, "listeners": [], "advertised_listeners": []}
    normalized = listeners_util.normalize(listeners, cluster_name, namespace, replicas)
    return {"problems": [], "listeners": normalized, "advertised_listeners": listeners_util.advertised_listeners(normalized)}


class FilterModule(object):
    def filters(self):
        return {"kafka_listeners": kafka_listeners}
