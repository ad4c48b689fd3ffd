"""ansible-doc renders every module, plugin and role of the collection without a warning."""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
ANSIBLE_DOC = pathlib.Path(sys.executable).parent / "ansible-doc"


def docs():
    for kind, folder in (("module", "modules"), ("filter", "filter"), ("test", "test"), ("lookup", "lookup")):
        for path in sorted((ROOT / "plugins" / folder).glob("*.py")):
            if not path.name.startswith("_"):
                yield kind, path.stem
    for path in sorted((ROOT / "roles").iterdir()):
        if (path / "meta/argument_specs.yml").is_file():
            yield "role", path.name


@pytest.mark.parametrize("kind,name", list(docs()))
def test_renders_without_warnings(kind, name, tmp_path):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".venv/collections"), ANSIBLE_HOME=str(tmp_path),
               ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(ANSIBLE_DOC), "-t", kind, "streams.kafka." + name], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr.upper() and "ERROR" not in proc.stderr.upper(), proc.stderr
    assert name in proc.stdout and len(proc.stdout.splitlines()) > 5, proc.stdout


def test_every_role_documents_main():
    for path in sorted((ROOT / "roles").iterdir()):
        assert (path / "meta/argument_specs.yml").is_file(), path.name
