"""End to end: kubernetes.core modules run by ansible-playbook against the simulator."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

# make test installs both; a missing one must fail these tests, not skip them.
import kubernetes  # noqa: F401  pylint: disable=unused-import
import ansible_collections.kubernetes.core  # noqa: F401  pylint: disable=unused-import


def ansible_playbook():
    found = shutil.which("ansible-playbook") or str(Path(sys.executable).parent / "ansible-playbook")
    assert os.access(found, os.X_OK), "ansible-playbook is not installed next to %s" % sys.executable
    return found


def k8s_task(kubeconfig, definition, **options):
    return {"kubernetes.core.k8s": dict({"kubeconfig": kubeconfig, "apply": True, "definition": definition}, **options)}


def run_playbook(tmp_path, tasks, *args):
    """Run tasks on localhost; returns (changed count, output)."""
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
    env = dict(
        os.environ,
        TMPDIR=str(tmp_path),  # kubernetes.core caches discovery per server in the temp dir
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
        ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
    )
    command = [ansible_playbook(), "-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}", str(playbook), *args]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    return int(re.search(r"localhost\s+: ok=\d+\s+changed=(\d+)", output).group(1)), output


def namespace_and_configmap(value):
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kafka"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "kafka"}, "data": {"retention": value}},
    ]


def test_apply_is_idempotent_and_check_mode_only_dry_runs(kubesim, kubeconfig, tmp_path):
    tasks = [k8s_task(kubeconfig, namespace_and_configmap("7d"))]
    changed, _out = run_playbook(tmp_path, tasks)
    assert changed == 1
    assert kubesim.get("v1", "ConfigMap", "kafka", "settings")["data"] == {"retention": "7d"}
    assert {(w["method"], w["path"]) for w in kubesim.writes()} == {
        ("POST", "/api/v1/namespaces"), ("POST", "/api/v1/namespaces/kafka/configmaps")}

    kubesim.clear_requests()
    version = kubesim.store.resource_version
    changed, _out = run_playbook(tmp_path, tasks)
    assert changed == 0
    assert kubesim.writes() == [] and kubesim.requests, "a second apply only reads"
    assert kubesim.store.resource_version == version

    kubesim.clear_requests()
    changed, _out = run_playbook(tmp_path, [k8s_task(kubeconfig, namespace_and_configmap("30d"))], "--check")
    assert changed == 1
    assert kubesim.writes() == []
    dry_runs = [r for r in kubesim.requests if r["dry_run"] and r["method"] != "GET"]
    assert [(r["method"], r["path"]) for r in dry_runs] == [("PATCH", "/api/v1/namespaces/kafka/configmaps/settings")]
    assert kubesim.get("v1", "ConfigMap", "kafka", "settings")["data"] == {"retention": "7d"}
    assert kubesim.store.resource_version == version


def test_wait_for_statefulset_and_deployment(kubesim, kubeconfig, tmp_path):
    labels = {"app": "kafka"}
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "kafka", "namespace": "default"},
           "spec": {"replicas": 3, "serviceName": "kafka", "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "kafka", "image": "kafka:3.7"}]}},
                    "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                              "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}
    web = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ui", "namespace": "default"},
           "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "ui"}},
                    "template": {"metadata": {"labels": {"app": "ui"}}, "spec": {"containers": [{"name": "ui", "image": "ui:1"}]}}}}
    wait = {"wait": True, "wait_sleep": 1, "wait_timeout": 30}
    tasks = [k8s_task(kubeconfig, sts, **wait), k8s_task(kubeconfig, web, **wait)]
    changed, output = run_playbook(tmp_path, tasks)
    assert changed == 2, output
    assert kubesim.get("apps/v1", "StatefulSet", "default", "kafka")["status"]["readyReplicas"] == 3
    assert kubesim.get("apps/v1", "Deployment", "default", "ui")["status"]["availableReplicas"] == 2
    assert len(kubesim.objects("v1", "PersistentVolumeClaim", "default")) == 3

    # kubernetes.core re-sends a merge patch for kinds with keyed lists (containers); it must change nothing.
    version = kubesim.store.resource_version
    kubesim.clear_requests()
    changed, output = run_playbook(tmp_path, tasks)
    assert changed == 0, output
    assert {w["method"] for w in kubesim.writes()} == {"PATCH"}
    assert kubesim.store.resource_version == version
