# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs M(streams.kafka.manifest_validate) in Ansible's worker process (plugins/plugin_utils/module_in_worker.py)."""

from __future__ import annotations

from ansible_collections.streams.kafka.plugins.plugin_utils.module_in_worker import ModuleInWorker

try:
    from ansible_collections.streams.kafka.plugins.modules import manifest_validate as module
except ImportError:
    module = None


class ActionModule(ModuleInWorker):
    MODULE = module
    MODULE_NAME = "streams.kafka.manifest_validate"
