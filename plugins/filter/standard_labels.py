# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The labels every object of a streams.kafka deployment carries."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError


def standard_labels(cluster_name, component, name=None):
    """Return the app.kubernetes.io labels of one component of one cluster."""
    if not cluster_name or not component:
        raise AnsibleFilterError(
            "standard_labels needs a cluster name and a component, got %r and %r" % (cluster_name, component))
    return {
        "app.kubernetes.io/name": name or component,
        "app.kubernetes.io/instance": cluster_name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "streams",
        "app.kubernetes.io/managed-by": "streams.kafka",
    }


class FilterModule(object):
    def filters(self):
        return {"standard_labels": standard_labels}
