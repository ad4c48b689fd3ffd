"""The template lookup: renders as ansible.builtin.template does, without deep-copying the variables.

The lookups run in a fresh interpreter: Ansible's plugin loader cannot load a collection plugin
in a process that has already imported the collection as a plain package, as pytest's does."""

import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[4]

SCRIPT = r'''
import json, sys
from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader, lookup_loader
from ansible.template import Templar


class NoCopy:
    """A variable that refuses to be deep-copied, as a big deployment's variables take seconds to."""

    def __deepcopy__(self, memo):
        raise AssertionError("the variables were deep-copied")


init_plugin_loader([sys.argv[1]])


def run(name, terms, variables, **kwargs):
    loader = DataLoader()
    try:
        return lookup_loader.get(name, loader=loader, templar=Templar(loader=loader)).run(terms, variables, **kwargs)
    except (AnsibleError, AssertionError) as error:
        return "%s: %s" % (type(error).__name__, str(error).splitlines()[0])


base = {"ansible_search_path": [sys.argv[2]], "cluster": "dev", "brokers": ["b0", "b1"], "worker": {"name": "task"}}
terms = ["worker/worker.properties.j2", "plain.j2"]
print(json.dumps({
    "ours": run("streams.kafka.template", terms, dict(base, certificates=NoCopy()), template_vars={"worker": {"name": "mm2"}}),
    "builtin": run("ansible.builtin.template", terms, dict(base), template_vars={"worker": {"name": "mm2"}}),
    "builtin_copies": run("ansible.builtin.template", terms, dict(base, certificates=NoCopy())),
    "missing": run("streams.kafka.template", ["nowhere.j2"], dict(base)),
    "worker_after": base["worker"],
}))
'''


@pytest.fixture(scope="module", name="results")
def results_fixture(tmp_path_factory):
    search_path = tmp_path_factory.mktemp("role")
    (search_path / "templates" / "worker").mkdir(parents=True)
    (search_path / "templates" / "worker" / "worker.properties.j2").write_text(
        "{% include 'common.j2' %}\nname={{ worker.name }}\nbrokers={{ brokers | join(',') }}\n")
    (search_path / "templates" / "common.j2").write_text("# cluster {{ cluster }}")
    (search_path / "templates" / "plain.j2").write_text("a\\nb {{ 1 + 1 }}\n")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(ROOT / ".venv" / "collections"), str(search_path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_renders_with_the_task_variables_and_template_vars_over_them(results):
    # trim_blocks, as in ansible.builtin.template: no newline after a block tag
    assert results["ours"] == ["# cluster devname=mm2\nbrokers=b0,b1\n", "a\\nb 2\n"]
    assert results["ours"] == results["builtin"]
    assert results["worker_after"] == {"name": "task"}


def test_the_variables_are_not_deep_copied_as_the_builtin_does(results):
    # "ours" above had the variable that refuses a deep copy; the builtin lookup trips on it
    assert results["builtin_copies"] == "AssertionError: the variables were deep-copied"


def test_a_missing_template_is_named(results):
    assert results["missing"] == "AnsibleError: the template file nowhere.j2 could not be found for the lookup"
