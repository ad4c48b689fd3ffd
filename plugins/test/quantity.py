# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a value is a Kubernetes quantity."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.streams.kafka.plugins.module_utils.quantity import is_quantity


class TestModule(object):
    def tests(self):
        return {"quantity": is_quantity}
