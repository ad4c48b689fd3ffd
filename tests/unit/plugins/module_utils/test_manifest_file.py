"""manifest_file: directory mode's NN-<component>.yaml, written only when it differs, in one step."""

import os
import stat

import pytest
import yaml

from ansible_collections.streams.kafka.plugins.module_utils import manifest_file

OBJECTS = [
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dev-kafka-config", "namespace": "kafka"},
     "data": {"server.properties": "broker.rack=a\nnum.partitions=3\n", "trailing": "line with space \nnext", "one": "x"}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "dev-kafka", "namespace": "kafka"},
     "spec": {"ports": [{"name": "tls", "port": 9093}], "clusterIP": "None"}},
]


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_text_is_the_header_as_comments_then_each_object_and_reads_back_the_same():
    text = manifest_file.manifest_text(OBJECTS, "kafka objects of dev\n\nkubectl apply -f <dir>")
    assert text.startswith("# kafka objects of dev\n#\n# kubectl apply -f <dir>\n---\napiVersion: v1\n")
    assert text.count("\n---\n") == 2
    assert [doc for doc in yaml.safe_load_all(text) if doc] == OBJECTS
    # a file's lines stay lines, as the pod reads them
    assert "  server.properties: |\n    broker.rack=a\n    num.partitions=3\n" in text


def test_writes_once_then_reports_no_change(tmp_path):
    path = str(tmp_path / "out" / "dev" / "20-kafka.yaml")
    text = manifest_file.manifest_text(OBJECTS)
    assert manifest_file.write_manifest_file(path, text, 0o644) == (True, None)
    assert open(path, encoding="utf-8").read() == text
    assert mode_of(path) == 0o644 and mode_of(os.path.dirname(path)) == 0o755
    assert manifest_file.write_manifest_file(path, text, 0o644) == (False, text)
    assert os.listdir(os.path.dirname(path)) == ["20-kafka.yaml"]


def test_a_new_content_or_mode_is_a_change_and_returns_what_was_there(tmp_path):
    path = str(tmp_path / "20-kafka.yaml")
    manifest_file.write_manifest_file(path, "old\n", 0o644)
    assert manifest_file.write_manifest_file(path, "new\n", 0o644) == (True, "old\n")
    assert open(path, encoding="utf-8").read() == "new\n"
    assert manifest_file.write_manifest_file(path, "new\n", 0o600) == (True, "new\n")
    assert mode_of(path) == 0o600


def test_check_mode_reports_the_change_and_writes_nothing(tmp_path):
    path = str(tmp_path / "dev" / "20-kafka.yaml")
    assert manifest_file.write_manifest_file(path, "new\n", 0o644, check_mode=True) == (True, None)
    assert not os.path.exists(os.path.dirname(path))
    manifest_file.write_manifest_file(path, "old\n", 0o644)
    assert manifest_file.write_manifest_file(path, "new\n", 0o644, check_mode=True) == (True, "old\n")
    assert open(path, encoding="utf-8").read() == "old\n"


def test_an_unwritable_place_is_an_error_naming_the_file(tmp_path):
    blocker = tmp_path / "dev"
    blocker.write_text("a file where the directory should be")
    with pytest.raises(manifest_file.ManifestFileError, match=r"cannot write .*dev/20-kafka\.yaml"):
        manifest_file.write_manifest_file(str(blocker / "20-kafka.yaml"), "new\n", 0o644)


@pytest.mark.parametrize("mode,expected", [("0644", 0o644), ("600", 0o600), ("0755", 0o755)])
def test_modes_in_octal(mode, expected):
    assert manifest_file.parse_mode(mode) == expected


@pytest.mark.parametrize("mode", ["644x", "0o644", "1644", "", "0999", None])
def test_other_modes_are_refused_with_an_example(mode):
    with pytest.raises(manifest_file.ManifestFileError, match=r"is not valid: use three octal digits, such as 0644"):
        manifest_file.parse_mode(mode)
