"""Our action plugins run the modules in Ansible's worker, with the results a module process gives."""

import json

from tests.integration.test_foundation import ansible_playbook, recap, ROOT

PLAYBOOK = ROOT / "tests/integration/playbooks/module_in_worker.yml"


def run(tmp_path, kubeconfig, greeting):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"all": {"hosts": {"dev": {"ansible_connection": "local"}}}}))
    results = tmp_path / "results.json"
    rc, out = ansible_playbook(PLAYBOOK, inventory, "-vvv",
                               extra={"streams_kubeconfig": kubeconfig, "greeting": greeting, "results_file": str(results)})
    assert rc == 0, out
    return json.loads(results.read_text()), out


def test_modules_run_in_the_worker_unless_the_task_needs_a_process(kubesim, kubeconfig, tmp_path):
    results, out = run(tmp_path, kubeconfig, "hello")

    # only the two tasks with `environment` started a module process
    assert out.count("AnsiballZ_object_info.py") > 0 and "AnsiballZ_manifest_apply.py" not in out, out
    started = [line for line in out.splitlines() if "EXEC" in line and "python" in line
               and ("AnsiballZ_object_info" in line or "AnsiballZ_manifest_apply" in line)]
    assert len(started) == 2 and all("STREAMS_TEST_MARKER=1" in line for line in started), started

    assert results["in_worker"]["resources"][0]["data"] == {"greeting": "hello"}
    assert results["in_worker"]["missing"] == ["absent"]
    assert results["in_worker"] == results["as_process"]

    # check mode and diff reach the module; the dry run wrote nothing
    assert results["dry_run"]["changed"] is True and results["dry_run"]["diff"], results["dry_run"]
    assert results["applied"]["changed"] is True
    creates = [r for r in kubesim.requests if r["method"] == "POST" and r["path"].endswith("/configmaps")]
    assert [r["query"].get("dryRun") for r in creates] == ["All", None], creates

    # a fail_json in the worker is the same failure as from a module process
    failed = results["failed_in_worker"]
    assert "cannot connect to the Kubernetes API" in failed["msg"] and failed["status"] == 0, failed
    assert failed == results["failed_as_process"]

    again, _out = run(tmp_path, kubeconfig, "hello")
    assert again["applied"]["changed"] is False
    assert recap(out, "dev")["failed"] == 0
