"""manifest_validate: the objects are checked first; with dest they are then written, and only then."""

import os

import yaml

from ansible_collections.streams.kafka.plugins.filter.standard_labels import standard_labels
from ansible_collections.streams.kafka.plugins.modules import manifest_validate

from .module_run import run_main

CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "dev-kafka-config", "namespace": "kafka", "labels": standard_labels("dev", "kafka")},
             "data": {"server.properties": "num.partitions=3\n"}}


def run(capsys, **args):
    return run_main(manifest_validate, capsys, args)


def test_without_dest_it_only_checks(capsys):
    result = run(capsys, manifests=[CONFIGMAP])
    assert result["_rc"] == 0 and not result["changed"] and "dest" not in result
    assert result["objects"] == ["kafka/ConfigMap/dev-kafka-config"]


def test_dest_is_written_once_every_object_passed_and_then_unchanged(capsys, tmp_path):
    dest = str(tmp_path / "dev" / "20-kafka.yaml")
    first = run(capsys, manifests=[CONFIGMAP], dest=dest, header="kafka objects of dev", _ansible_diff=True)
    assert first["_rc"] == 0 and first["changed"] and first["dest"] == dest
    text = open(dest, encoding="utf-8").read()
    assert text.startswith("# kafka objects of dev\n---\n") and list(yaml.safe_load_all(text)) == [CONFIGMAP]
    assert first["diff"] == {"before": "", "after": text, "before_header": dest, "after_header": dest}
    again = run(capsys, manifests=[CONFIGMAP], dest=dest, header="kafka objects of dev")
    assert again["_rc"] == 0 and not again["changed"]


def test_a_refused_object_fails_and_leaves_the_file_as_it_was(capsys, tmp_path):
    dest = tmp_path / "20-kafka.yaml"
    dest.write_text("previous\n")
    bad = dict(CONFIGMAP, spec={"replicas": 3})
    result = run(capsys, manifests=[CONFIGMAP, bad], dest=str(dest))
    assert result["_rc"] == 1 and any("spec" in problem for problem in result["problems"]), result
    assert dest.read_text() == "previous\n"


def test_check_mode_reports_the_change_and_writes_nothing(capsys, tmp_path):
    dest = str(tmp_path / "dev" / "20-kafka.yaml")
    result = run(capsys, manifests=[CONFIGMAP], dest=dest, _ansible_check_mode=True, _ansible_diff=True)
    assert result["_rc"] == 0 and result["changed"] and "num.partitions=3" in result["diff"]["after"]
    assert not os.path.exists(os.path.dirname(dest))


def test_a_bad_mode_or_an_unwritable_dest_fails_naming_it(capsys, tmp_path):
    bad_mode = run(capsys, manifests=[CONFIGMAP], dest=str(tmp_path / "a.yaml"), mode="rw-r--r--")
    assert bad_mode["_rc"] == 1 and "mode='rw-r--r--' is not valid" in bad_mode["msg"]
    (tmp_path / "dev").write_text("a file")
    blocked = run(capsys, manifests=[CONFIGMAP], dest=str(tmp_path / "dev" / "20-kafka.yaml"))
    assert blocked["_rc"] == 1 and "cannot write %s" % (tmp_path / "dev" / "20-kafka.yaml") in blocked["msg"]
