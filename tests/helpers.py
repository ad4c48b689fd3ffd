"""What the role and playbook tests share: run ansible-playbook on this checkout and read results.

``run_playbook`` runs the real ``ansible-playbook`` of the venv in a subprocess, with this
checkout as the ``streams.kafka`` collection, the ``ansible.posix.json`` stdout callback (so
results are parsed, not scraped) and a private ANSIBLE_HOME/tmp under the test's tmp_path.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import subprocess
import sys
import time

import yaml

REPO = pathlib.Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
COLLECTIONS_PATH = REPO / ".venv" / "collections"
SITE = REPO / "playbooks" / "site.yml"
CRDS = REPO / "roles" / "common" / "files" / "crds"
KUBERNETES_VERSIONS = ["1.27", "1.37"]

# A Kafka cluster that has to be asked for: plaintext, without the ACL authorizer. For hosts whose
# kafka role does not run (so no certificate is issued), in tests about something else.
PLAINTEXT_KAFKA = {"kafka_authorization": "none",
                   "kafka_listeners": [{"name": "plain", "port": 9092, "type": "internal", "tls": False}]}


def ansible_bin(name: str) -> str:
    path = VENV_BIN / name
    if path.exists():
        return str(path)
    return str(pathlib.Path(sys.executable).parent / name)


@dataclasses.dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    seconds: float
    cmd: list

    @property
    def report(self) -> dict:
        """The json callback's document (plays, tasks, per-host results, stats)."""
        start = self.stdout.find("{")
        if start < 0:
            raise AssertionError(f"no JSON in ansible-playbook output:\n{self.describe()}")
        return json.loads(self.stdout[start:])

    def results(self, host: str | None = None):
        """(task name, host, result) for every task result, in order."""
        out = []
        for play in self.report.get("plays", []):
            for task in play.get("tasks", []):
                for name, result in task.get("hosts", {}).items():
                    if host is None or name == host:
                        out.append((task["task"]["name"], name, result))
        return out

    def failures(self, host: str | None = None):
        """(task name, host, msg) of every failed task result (loop items included)."""
        out = []
        for task, name, result in self.results(host):
            items = result.get("results") if isinstance(result.get("results"), list) else []
            if result.get("failed") and not items:
                out.append((task, name, str(result.get("msg", ""))))
            for item in items:
                if isinstance(item, dict) and item.get("failed"):
                    out.append((task, name, str(item.get("msg", ""))))
        return out

    def result_of(self, task_name: str, host: str | None = None) -> dict:
        matches = [result for task, _name, result in self.results(host) if task == task_name]
        if not matches:
            raise AssertionError(f"task {task_name!r} did not run:\n{self.describe()}")
        return matches[-1]

    def describe(self) -> str:
        return (f"$ {' '.join(self.cmd)}\nrc={self.rc} after {self.seconds:.1f}s\n"
                f"--- stdout (tail) ---\n{self.stdout[-6000:]}\n--- stderr (tail) ---\n{self.stderr[-3000:]}")


def write_inventory(path: pathlib.Path, hosts: dict, group: str = "kafka_clusters", group_vars: dict | None = None) -> pathlib.Path:
    """A YAML inventory: ``hosts`` maps host names to their variables; connection is local."""
    all_vars = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    all_vars.update(group_vars or {})
    inventory = {group: {"hosts": {name: dict(variables or {}) for name, variables in hosts.items()}, "vars": all_vars}}
    path.write_text(yaml.safe_dump(inventory, default_flow_style=False))
    return path


def run_playbook(tmp_path: pathlib.Path, inventory: pathlib.Path, playbook: pathlib.Path = SITE,
                 extra_vars: dict | None = None, check: bool = False, timeout: float = 600,
                 env: dict | None = None, args=()) -> PlaybookRun:
    """Run ansible-playbook from ``tmp_path`` (so relative manifest dirs land there).

    ``timeout`` only stops a hung run: under pytest-xdist two runs share the two cores, and a
    site.yml that takes 100 s alone can take twice that."""
    home = tmp_path / ".ansible-home"
    home.mkdir(exist_ok=True)
    cmd = [ansible_bin("ansible-playbook"), str(playbook), "-i", str(inventory)]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if check:
        cmd.append("--check")
    cmd += list(args)
    run_env = dict(os.environ)
    run_env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_PATH),
        "ANSIBLE_HOME": str(home),
        "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PWD": str(tmp_path),
    })
    for key in [k for k in run_env if k.startswith("K8S_AUTH_")]:
        del run_env[key]
    run_env.update(env or {})
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=tmp_path, env=run_env, capture_output=True, text=True, timeout=timeout, check=False)
    return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start, cmd)


def load_manifests(path: pathlib.Path) -> list:
    """The objects of one written manifest file."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def by_kind(objects: list) -> dict:
    """{kind: object} for objects of which there is one per kind; {kind: [objects]} otherwise."""
    out = {}
    for obj in objects:
        out.setdefault(obj["kind"], []).append(obj)
    return {kind: items[0] if len(items) == 1 else items for kind, items in out.items()}


def run_tasks(tmp_path: pathlib.Path, tasks: list, check: bool = False, timeout: float = 300) -> PlaybookRun:
    """Run ``tasks`` in a one-play playbook on localhost (for driving one module as Ansible does)."""
    playbook = tmp_path / "tasks-playbook.yml"
    playbook.write_text(yaml.safe_dump([{"name": "Tasks under test", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
    inventory = tmp_path / "localhost.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    return run_playbook(tmp_path, inventory, playbook=playbook, check=check, timeout=timeout)


def pod_api(kubeconfig: str, request_timeout: float = 5):
    """plugins/module_utils/k8s_api.PodApi outside Ansible, connected through ``kubeconfig``."""
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
    from ansible_collections.streams.kafka.plugins.module_utils.k8s_api import PodApi

    class _Module:
        server_side_dry_run = False
        check_mode = False

        def __init__(self):
            self.params = dict.fromkeys(AUTH_ARG_SPEC)
            self.params["kubeconfig"] = kubeconfig

        def requires(self, *_args, **_kwargs):
            return None

    return PodApi(_Module(), request_timeout=request_timeout)


def object_api(kubeconfig: str, request_timeout: float = 5, check_mode: bool = False):
    """plugins/module_utils/k8s_api.ObjectApi outside Ansible, connected through ``kubeconfig``
    (``check_mode``: its writes are server-side dry runs, as in a module run with --check)."""
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
    from ansible_collections.streams.kafka.plugins.module_utils.k8s_api import ObjectApi

    class _Module:
        server_side_dry_run = check_mode

        def __init__(self):
            self.check_mode = check_mode
            self.params = dict.fromkeys(AUTH_ARG_SPEC)
            self.params["kubeconfig"] = kubeconfig

        def requires(self, *_args, **_kwargs):
            return None

    return ObjectApi(_Module(), request_timeout=request_timeout)
