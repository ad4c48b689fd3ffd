# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the NetworkPolicy pieces the inventory gives: lists of peers and label selectors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.streams.kafka.plugins.module_utils import kafka_listeners as listeners_util


def network_policy_problems(value, variable, kind="peers"):
    """One message per problem of `value`, named after `variable`; [] when it is valid."""
    if kind == "peers":
        return listeners_util.peer_problems(variable, value)
    if kind == "selector":
        return listeners_util.selector_problems(variable, value)
    raise AnsibleFilterError("network_policy_problems: kind must be peers or selector, got %r" % (kind,))


class FilterModule(object):
    def filters(self):
        return {"network_policy_problems": network_policy_problems}
