"""execution-environment.yml: ansible-builder makes a build context with our collection and pins."""

import pathlib
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent


def run(*cmd, cwd=ROOT):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_ansible_builder_creates_the_context(tmp_path):
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    collections = tmp_path / "ee-collections"
    run(BIN / "ansible-galaxy", "collection", "build", "--output-path", collections, ".")
    tarball = collections / ("streams-kafka-%s.tar.gz" % version)
    assert tarball.is_file()

    # The EE file names its inputs relative to the repository root, as `make ee-context` runs it.
    ee = yaml.safe_load((ROOT / "execution-environment.yml").read_text())
    ee["additional_build_files"] = [{"src": str(collections), "dest": "ee-collections"}]
    ee["dependencies"]["python"] = str(ROOT / "meta/ee-requirements.txt")
    ee_file = tmp_path / "execution-environment.yml"
    ee_file.write_text(yaml.safe_dump(ee))
    context = tmp_path / "context"
    run(BIN / "ansible-builder", "create", "-f", ee_file, "--context", context)

    galaxy = yaml.safe_load((context / "_build/requirements.yml").read_text())["collections"]
    assert {"name": "/build/ee-collections/%s" % tarball.name, "type": "file"} in galaxy
    assert (context / "_build/ee-collections" / tarball.name).is_file()
    python = (context / "_build/requirements.txt").read_text()
    for package in ("kubernetes==", "kubernetes-validate==", "prometheus_client==", "jsonschema=="):
        assert package in python, python
    pins = (ROOT / "requirements.txt").read_text()
    containerfile = next(context.glob("*file")).read_text()
    core = [line for line in pins.splitlines() if line.startswith("ansible-core==")][0]
    assert core in containerfile


def test_runtime_pins_are_the_ee_pins():
    ee_pins = {line.split("==")[0] for line in (ROOT / "meta/ee-requirements.txt").read_text().splitlines()
               if "==" in line}
    assert {"kubernetes", "kubernetes-validate", "prometheus_client"} <= ee_pins
    assert "-r meta/ee-requirements.txt" in (ROOT / "requirements.txt").read_text()
