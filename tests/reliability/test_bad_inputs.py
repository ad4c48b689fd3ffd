"""Bad input is refused before any API write, with a message that names the variable.

Every file in bad_inputs/ is one broken inventory host: `vars` are its host_vars on top of a
valid deployment (the string SELF stands for the host's own name), `message` is what its
failure must say. All hosts run in one site.yml run
against kubesim, and kubesim must see no write at all.
"""

import pathlib
import re

import pytest
import yaml

from tests.helpers import run_playbook, write_inventory

CASES = sorted(pathlib.Path(__file__).parent.glob("bad_inputs/*.yml"))


def load(path):
    case = yaml.safe_load(path.read_text())
    assert set(case) == {"description", "vars", "message"}, path.name
    return case


def host_name(path):
    return re.sub(r"[^a-z0-9-]", "-", path.stem.lower())


def test_the_corpus_is_large_and_names_variables():
    assert len(CASES) >= 40, len(CASES)
    for path in CASES:
        case = load(path)
        names = [name for name in case["vars"] if name in case["message"]]
        assert names, "%s: the expected message names none of %s" % (path.name, sorted(case["vars"]))


@pytest.fixture(scope="module", name="outcome")
def outcome_fixture(tmp_path_factory):
    from tests.kubesim import KubeSim  # pylint: disable=import-outside-toplevel
    tmp_path = tmp_path_factory.mktemp("bad-inputs")
    with KubeSim() as sim:
        sim.start()
        kubeconfig = sim.write_kubeconfig(str(tmp_path / "kubeconfig"))
        hosts = {}
        for path in CASES:
            host = {"streams_cluster_name": "bad", "streams_kubeconfig": kubeconfig, "streams_namespace": "kafka"}
            # "SELF" stands for the host's own inventory name (a host mirroring itself)
            host.update(yaml.safe_load(yaml.safe_dump(load(path)["vars"]).replace("SELF", host_name(path))))
            hosts[host_name(path)] = host
        inventory = write_inventory(tmp_path / "hosts.yml", hosts)
        run = run_playbook(tmp_path, inventory, args=["--forks", "8"], timeout=900)
        yield run, sim.writes()


def test_no_write_reaches_the_api(outcome):
    _run, writes = outcome
    assert writes == []


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_is_refused_with_its_message(outcome, path):
    run, _writes = outcome
    case = load(path)
    failures = run.failures(host_name(path))
    assert failures, "%s (%s) was not refused:\n%s" % (path.name, case["description"], run.describe())
    messages = " | ".join(msg for _task, _host, msg in failures)
    assert case["message"] in messages, messages
