"""The foundation pipeline end to end: preflight, validate, deliver (cluster and directory)."""

import json
import re
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "tests/integration/playbooks/deliver_configmap.yml"


def ansible_playbook(playbook, inventory, *args, extra=None, check=False):
    """Run ansible-playbook from the venv with the checkout as streams.kafka; return (rc, output)."""
    cmd = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), str(playbook), "-i", str(inventory)]
    if extra:
        cmd += ["-e", json.dumps(extra)]
    if check:
        cmd += ["--check", "--diff"]
    cmd += list(args)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".venv/collections"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_STDOUT_CALLBACK="default",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def recap(output, host):
    """The PLAY RECAP counters of one host, as a dict."""
    for line in output.splitlines():
        if line.startswith(host + " ") and "ok=" in line:
            return {k: int(v) for k, v in (field.split("=") for field in line.split(":", 1)[1].split())}
    raise AssertionError("no PLAY RECAP line for %s in:\n%s" % (host, output))


@pytest.fixture(name="inventory")
def inventory_fixture(tmp_path):
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": {"dev": {"ansible_connection": "local"}}}}))
    return path


def cluster_vars(kubeconfig, **more):
    return dict({"streams_kubeconfig": str(kubeconfig), "streams_namespace": "kafka-test"}, **more)


def test_cluster_delivery_is_idempotent(kubesim, kubeconfig, inventory):
    rc, out = ansible_playbook(PLAYBOOK, inventory, extra=cluster_vars(kubeconfig))
    assert rc == 0, out
    assert recap(out, "dev")["changed"] == 2
    stored = kubesim.get("v1", "ConfigMap", "kafka-test", "dev-settings")
    assert stored["data"] == {"greeting": "hello"}
    assert stored["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "streams.kafka"
    namespace_labels = kubesim.get("v1", "Namespace", None, "kafka-test")["metadata"]["labels"]
    # shared by every cluster deployed into it, so it names no instance
    assert namespace_labels["app.kubernetes.io/part-of"] == "streams" and "app.kubernetes.io/instance" not in namespace_labels

    kubesim.clear_requests()
    rc, out = ansible_playbook(PLAYBOOK, inventory, extra=cluster_vars(kubeconfig))
    assert rc == 0, out
    assert recap(out, "dev")["changed"] == 0
    assert kubesim.writes() == []
    assert any(r["method"] == "GET" and r["path"].endswith("/configmaps/dev-settings") for r in kubesim.requests)


def test_check_mode_dry_runs_and_shows_the_diff(kubesim, kubeconfig, inventory):
    assert ansible_playbook(PLAYBOOK, inventory, extra=cluster_vars(kubeconfig))[0] == 0
    version = kubesim.get("v1", "ConfigMap", "kafka-test", "dev-settings")["metadata"]["resourceVersion"]
    kubesim.clear_requests()

    rc, out = ansible_playbook(PLAYBOOK, inventory, extra=cluster_vars(kubeconfig, settings={"greeting": "bye"}), check=True)
    assert rc == 0, out
    assert recap(out, "dev")["changed"] == 1
    assert re.search(r'^-\s+"greeting": "hello"$', out, re.M) and re.search(r'^\+\s+"greeting": "bye"$', out, re.M)
    assert "last-applied-configuration" not in out
    mutating = [r for r in kubesim.requests if r["method"] in ("POST", "PUT", "PATCH", "DELETE")]
    assert mutating and all(r["dry_run"] for r in mutating)
    stored = kubesim.get("v1", "ConfigMap", "kafka-test", "dev-settings")
    assert stored["data"] == {"greeting": "hello"} and stored["metadata"]["resourceVersion"] == version


def test_check_mode_on_a_new_namespace_reports_instead_of_failing(kubesim, kubeconfig, inventory):
    rc, out = ansible_playbook(PLAYBOOK, inventory, extra=cluster_vars(kubeconfig), check=True)
    assert rc == 0, out
    assert recap(out, "dev")["changed"] == 2 and "kafka-test/ConfigMap/dev-settings" in out
    assert kubesim.writes() == []
    assert kubesim.objects("v1", "ConfigMap", "kafka-test") == []


def test_bad_input_fails_before_any_request(kubesim, kubeconfig, inventory):
    rc, out = ansible_playbook(PLAYBOOK, inventory, extra=cluster_vars(kubeconfig, streams_cluster_name="Prod_East"))
    assert rc != 0
    assert "streams_cluster_name='Prod_East' is not valid" in out
    assert kubesim.requests == []


def test_invalid_object_fails_before_any_write(kubesim, kubeconfig, inventory):
    rc, out = ansible_playbook(PLAYBOOK, inventory, extra=cluster_vars(kubeconfig, settings="not-a-map"))
    assert rc != 0
    assert "kafka-test/ConfigMap/dev-settings: data" in out and "Kubernetes 1.27" in out
    assert [w for w in kubesim.writes() if "configmaps" in w["path"]] == []


def test_missing_namespace_is_refused_when_not_created(kubesim, kubeconfig, inventory):
    rc, out = ansible_playbook(PLAYBOOK, inventory, extra=cluster_vars(kubeconfig, streams_create_namespace=False))
    assert rc != 0
    assert "namespace 'kafka-test' does not exist and streams_create_namespace is false" in out
    assert kubesim.writes() == []


def test_directory_delivery(tmp_path, inventory):
    out_dir = tmp_path / "manifests"
    extra = {"streams_deploy_to": "directory", "streams_manifest_dir": str(out_dir)}
    rc, out = ansible_playbook(PLAYBOOK, inventory, extra=extra, check=True)
    assert rc == 0, out
    assert not out_dir.exists()

    rc, out = ansible_playbook(PLAYBOOK, inventory, extra=extra)
    assert rc == 0, out
    assert sorted(p.name for p in (out_dir / "dev").iterdir()) == ["00-namespace.yaml", "60-exporter.yaml"]
    docs = list(yaml.safe_load_all((out_dir / "dev/60-exporter.yaml").read_text()))
    assert [d["kind"] for d in docs if d] == ["ConfigMap"]

    rc, out = ansible_playbook(PLAYBOOK, inventory, extra=extra)
    assert rc == 0, out
    assert recap(out, "dev")["changed"] == 0


@pytest.mark.parametrize("name,hosts", [
    ("local", ["dev"]), ("example", ["prod-east"]), ("multi_cluster", ["prod-east", "staging-west"])])
def test_shipped_inventories_render(tmp_path, name, hosts):
    extra = {"streams_deploy_to": "directory", "streams_manifest_dir": str(tmp_path)}
    rc, out = ansible_playbook(ROOT / "playbooks/site.yml", ROOT / "inventories" / name, extra=extra)
    assert rc == 0, out
    assert sorted(p.name for p in tmp_path.iterdir()) == hosts
    for host in hosts:
        assert (tmp_path / host / "00-namespace.yaml").is_file()


WORKLOADS = ROOT / "tests/integration/playbooks/deliver_workloads.yml"
SECRET = "s3cr3t-Pa55word"


def test_workloads_and_secrets_rerun_without_writes(kubesim, kubeconfig, inventory):
    extra = cluster_vars(kubeconfig, bridge_password=SECRET)
    rc, out = ansible_playbook(WORKLOADS, inventory, "-v", "--diff", extra=extra)
    assert rc == 0, out
    assert SECRET not in out
    assert kubesim.get("apps/v1", "Deployment", "kafka-test", "dev-bridge")["spec"]["template"]["spec"]["containers"][0]["image"]

    kubesim.clear_requests()
    rc, out = ansible_playbook(WORKLOADS, inventory, "-v", "--diff", extra=extra)
    assert rc == 0, out
    assert recap(out, "dev")["changed"] == 0
    assert kubesim.writes() == []

    kubesim.clear_requests()
    rc, out = ansible_playbook(WORKLOADS, inventory, "--diff", extra=dict(extra, bridge_image="example.com/bridge:2"))
    assert rc == 0, out
    assert [(w["method"], w["path"]) for w in kubesim.writes()] == [
        ("PATCH", "/apis/apps/v1/namespaces/kafka-test/deployments/dev-bridge")]
    assert kubesim.get("apps/v1", "Deployment", "kafka-test", "dev-bridge")["spec"]["template"]["spec"]["containers"][0]["image"] \
        == "example.com/bridge:2"


def test_changed_secret_is_applied_without_showing_it(kubesim, kubeconfig, inventory):
    assert ansible_playbook(WORKLOADS, inventory, extra=cluster_vars(kubeconfig, bridge_password=SECRET))[0] == 0
    kubesim.clear_requests()
    rc, out = ansible_playbook(WORKLOADS, inventory, "-vvv", "--diff", extra=cluster_vars(kubeconfig, bridge_password="n3w-" + SECRET))
    assert rc == 0, out
    assert SECRET not in out
    assert [w["path"] for w in kubesim.writes()] == ["/api/v1/namespaces/kafka-test/secrets/dev-bridge-credentials"]
