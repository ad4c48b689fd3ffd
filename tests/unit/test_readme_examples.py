"""The snippets of README.md's "Inventory examples" section render, as written.

Each snippet is a ```yaml block right after an ``<!-- example: <component>-<kind> -->`` comment.
Per component, its snippets become the hosts of one inventory (host name = example name, the
snippet = the host's vars), and ``playbooks/site.yml --tags <component>`` renders them in
directory mode: a snippet that preflight, the argument specs or the schema validation refuses
fails the run, which names its host. (The tag keeps other components' tasks out: ZooKeeper and
Kafka with their defaults are what their own minimal snippets render. One run per component
costs less than one run of every host through every role's skipped tasks.)

MirrorMaker 2 snippets mirror the inventory host ``prod-east``; the test adds it, outside the
play's group, with the Kafka production snippet's vars on another Kubernetes cluster (its own
``streams_context``), so they must reach it through its ``streams_kafka_external_bootstrap``.
"""

from __future__ import annotations

import re

import pytest
import yaml

from tests.helpers import REPO, run_playbook, write_inventory

README = REPO / "README.md"
SECTION = "## Inventory examples"
COMPONENTS = ("zookeeper", "kafka", "connect", "mirrormaker", "bridge", "exporter")
KINDS = ("minimal", "production")
# NN of build/manifests/<host>/NN-<component>.yaml
ORDER = yaml.safe_load((REPO / "roles" / "common" / "vars" / "main.yml").read_text())["common_component_order"]
EXAMPLE = re.compile(r"<!-- example: ([a-z0-9-]+) -->\n```yaml\n(.*?)```", re.S)
ROLES = ("common", "zookeeper", "kafka", "connect", "mirrormaker", "bridge", "exporter", "monitoring")
# the inventory host MirrorMaker 2 snippets mirror: the Kafka production snippet, on its own cluster
SOURCE = "prod-east"


def section(text: str) -> str:
    start = text.index(SECTION + "\n")
    end = text.find("\n## ", start + len(SECTION))
    return text[start:end if end >= 0 else len(text)]


def examples(text: str | None = None) -> dict:
    """{example name: its vars} of the README section, in order."""
    found = {}
    for name, body in EXAMPLE.findall(section(README.read_text() if text is None else text)):
        assert name not in found, f"README example {name} appears twice"
        found[name] = yaml.safe_load(body)
        assert isinstance(found[name], dict) and found[name], f"README example {name} is not a mapping of variables"
    return found


def known_variables() -> set:
    names = set()
    for role in ROLES:
        specs = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())
        for entry in specs["argument_specs"].values():
            names.update(entry.get("options") or {})
    return names


def test_every_component_has_a_minimal_and_a_production_example():
    assert sorted(examples()) == sorted(f"{c}-{k}" for c in COMPONENTS for k in KINDS)


def test_the_examples_use_only_variables_of_the_roles():
    # and the Kafka address variables of docs/variables.md, which the kafka_client filter reads
    # from hostvars (also another host's), so no role's argument spec lists them
    known = known_variables() | {"streams_kafka_bootstrap", "streams_kafka_external_bootstrap", "streams_kafka_client_properties"}
    unknown = {name: sorted(set(variables) - known) for name, variables in examples().items() if set(variables) - known}
    assert not unknown, f"README examples set variables no role knows (typos?): {unknown}"


@pytest.mark.parametrize("component", COMPONENTS)
def test_the_examples_render(tmp_path, component):
    found = {name: variables for name, variables in examples().items() if name.rsplit("-", 1)[0] == component}
    inventory = write_inventory(tmp_path / "hosts.yml", found)
    if component == "mirrormaker":
        # the source: an inventory host outside the play, which runs on kafka_clusters
        document = yaml.safe_load(inventory.read_text())
        document["sources"] = {"hosts": {SOURCE: dict(examples()["kafka-production"], streams_context=SOURCE)}}
        inventory.write_text(yaml.safe_dump(document, default_flow_style=False))
    out = tmp_path / "manifests"
    run = run_playbook(tmp_path, inventory, extra_vars={"streams_deploy_to": "directory", "streams_manifest_dir": str(out)},
                       args=["--tags", f"{component},monitoring"])
    assert run.rc == 0, "\n".join(f"{host}: {task}: {msg}" for task, host, msg in run.failures()) + "\n" + run.describe()
    for name, variables in found.items():
        manifest = out / name / f"{ORDER[component]:02d}-{component}.yaml"
        assert manifest.is_file() and manifest.stat().st_size > 0, f"example {name} wrote no {manifest.name}"
        if variables.get("monitoring_enabled"):
            assert (out / name / "70-monitoring.yaml").is_file(), name
        if component == "mirrormaker":
            # prod-east is on another cluster: its connectors use the source's external address
            assert examples()["kafka-production"]["streams_kafka_external_bootstrap"] in manifest.read_text(), name
    assert not (out / SOURCE).exists()
