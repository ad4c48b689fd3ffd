"""The template lookup: renders as ansible.builtin.template does, without deep-copying the variables."""

import functools

import pytest
from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader, lookup_loader
from ansible.template import Templar


class NoCopy:
    """A variable that refuses to be deep-copied, as a big deployment's variables take seconds to."""

    def __deepcopy__(self, memo):
        raise AssertionError("the variables were deep-copied")


@functools.lru_cache(maxsize=None)
def _plugin_loader():
    init_plugin_loader()


def get(name):
    _plugin_loader()
    loader = DataLoader()
    return lookup_loader.get(name, loader=loader, templar=Templar(loader=loader))


@pytest.fixture(name="lookup")
def lookup_fixture():
    return get("streams.kafka.template")


@pytest.fixture(name="search_path")
def search_path_fixture(tmp_path):
    (tmp_path / "templates" / "worker").mkdir(parents=True)
    (tmp_path / "templates" / "worker" / "worker.properties.j2").write_text(
        "{% include 'common.j2' %}\nname={{ worker.name }}\nbrokers={{ brokers | join(',') }}\n")
    (tmp_path / "templates" / "common.j2").write_text("# cluster {{ cluster }}")
    (tmp_path / "templates" / "plain.j2").write_text("a\\nb {{ 1 + 1 }}\n")
    return str(tmp_path)


def test_renders_with_the_task_variables_and_template_vars_over_them(lookup, search_path):
    variables = {"ansible_search_path": [search_path], "cluster": "dev", "brokers": ["b0", "b1"], "worker": {"name": "task"},
                 "certificates": NoCopy()}
    rendered = lookup.run(["worker/worker.properties.j2", "plain.j2"], variables, template_vars={"worker": {"name": "mm2"}})
    # trim_blocks, as in ansible.builtin.template: no newline after a block tag
    assert rendered == ["# cluster devname=mm2\nbrokers=b0,b1\n", "a\\nb 2\n"]
    assert variables["worker"] == {"name": "task"}
    del variables["certificates"]
    assert rendered == get("ansible.builtin.template").run(["worker/worker.properties.j2", "plain.j2"], variables,
                                                           template_vars={"worker": {"name": "mm2"}})


def test_a_missing_template_is_named(lookup, search_path):
    with pytest.raises(AnsibleError, match="the template file nowhere.j2 could not be found"):
        lookup.run(["nowhere.j2"], {"ansible_search_path": [search_path]})
