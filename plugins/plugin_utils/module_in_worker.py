# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one of our modules in Ansible's worker process instead of a new Python process.

Every task of this collection runs on the controller (connection local: the controller only talks
to the Kubernetes API), so a module process would run on the same machine anyway. Starting one cost
about 2 s of CPU: AnsiballZ, `ansible.module_utils.basic` and above all the imports of the
kubernetes client (some 850 model modules), kubernetes.core, jsonschema and prometheus_client.
That was most of a no-op `site.yml` (docs/performance.md).

Ansible forks one worker per task and host from its main process, and its strategies load the
task's action plugin in the main process first (to read BYPASS_HOST_LOOP). Our action plugins
import their module at load, so the main process pays those imports once and every worker starts
with them. The worker then runs the module's main() with the arguments `_execute_module` would
send, and takes its result through `AnsibleModule._record_module_result`, the hook ansible-core
keeps for ansible.netcommon's in-worker execution (its `import_modules` option). The worker exits
after the task, so nothing the module sets survives it.

A task this cannot run the same way (another connection, become, async, `environment`, a
controller without the module's libraries) runs the module the usual way.
"""

from __future__ import annotations

import json

from ansible.errors import AnsibleError
from ansible.module_utils import basic
from ansible.module_utils.common.json import Direction, get_module_encoder
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.vars.clean import remove_internal_keys

display = Display()

# Our modules declare no serialization profile, so they use ansible-core's default.
PROFILE = "legacy"


def in_worker_refusal(action):
    """Why `action`'s task cannot run its module in the worker, or None when it can."""
    task = action._task
    if action._connection.transport != "local":
        return "connection %s" % action._connection.transport
    if action._play_context.become:
        return "become"
    if task.async_val:
        return "async"
    environment = {}
    action._compute_environment_string(environment)
    if environment:
        return "environment"
    return None


class ModuleInWorker(ActionBase):
    """Base of our action plugins. A subclass sets MODULE to its imported module and
    MODULE_NAME to the module's FQCN (None when the controller could not import it)."""

    MODULE = None
    MODULE_NAME = None

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ModuleInWorker, self).run(tmp, task_vars)
        refusal = "the controller cannot import the module" if self.MODULE is None else in_worker_refusal(self)
        if refusal:
            display.vvvv("%s: runs as a module process (%s)" % (self.MODULE_NAME or self._task.action, refusal))
            result.update(self._execute_module(module_name=self.MODULE_NAME or self._task.action, task_vars=task_vars))
            return result
        result.update(self._run_in_worker(task_vars))
        return result

    def _run_in_worker(self, task_vars):
        args = dict(self._task.args)
        self._update_module_args(self.MODULE_NAME, args, task_vars)
        basic._ANSIBLE_ARGS = json.dumps(
            {"ANSIBLE_MODULE_ARGS": args},
            cls=get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE),
        ).encode("utf-8")
        basic._ANSIBLE_PROFILE = PROFILE
        recorded = []

        def record(module, outcome):
            recorded.append(json.dumps(outcome, cls=get_module_encoder(PROFILE, Direction.MODULE_TO_CONTROLLER)))

        basic.AnsibleModule._record_module_result = record
        try:
            self.MODULE.main()
        except SystemExit:
            pass  # exit_json and fail_json end with sys.exit; the result is recorded before
        if not recorded:
            raise AnsibleError("module %s ended without exit_json or fail_json" % self.MODULE_NAME)
        # The same decoding and clean-up `_execute_module` applies to a module's output.
        data = self._parse_returned_data({"stdout": recorded[-1], "stderr": "", "rc": 0}, PROFILE)
        remove_internal_keys(data)
        return data
