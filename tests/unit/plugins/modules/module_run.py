"""Run a module's main() as Ansible runs it, in this process: arguments in, JSON result out."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args


def run_main(module, capsys, args, check_mode=False, diff=False):
    """``module``'s result for ``args``, with its exit code as ``_rc``."""
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exited:
            module.main()
    result = json.loads(capsys.readouterr().out)
    result["_rc"] = exited.value.code
    return result
