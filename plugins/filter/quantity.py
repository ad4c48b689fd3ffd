# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The numeric value of a Kubernetes quantity."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.streams.kafka.plugins.module_utils.quantity import parse_quantity


def quantity(value):
    """Return the value of a Kubernetes quantity: an int when it is whole, else a float."""
    try:
        number = parse_quantity(value)
    except ValueError as error:
        raise AnsibleFilterError(str(error))
    return int(number) if number == number.to_integral_value() else float(number)


class FilterModule(object):
    def filters(self):
        return {"quantity": quantity}
