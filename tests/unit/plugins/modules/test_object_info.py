"""object_info against kubesim: what it finds, and that it rides out transient API errors."""

import pytest

from ansible_collections.streams.kafka.plugins.modules import object_info

from .module_run import run_main

NS = "kafka"


def run(capsys, **args):
    return run_main(object_info, capsys, args)


@pytest.fixture(name="objects")
def objects_fixture(kubesim):
    kubesim.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    for name, instance in (("a", "prod"), ("b", "prod"), ("c", "dev")):
        kubesim.create({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": name, "namespace": NS, "labels": {"app.kubernetes.io/instance": instance}},
                        "data": {"k": name}})
    return kubesim


def names(result):
    return sorted(item["metadata"]["name"] for item in result["resources"])


def test_reads_one_object_by_name_and_none_when_missing(objects, kubeconfig, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    found = run(capsys, kubeconfig=kubeconfig, api_version="v1", kind="ConfigMap", namespace=NS, name="b")
    assert found["_rc"] == 0 and names(found) == ["b"] and found["resources"][0]["data"] == {"k": "b"}
    assert not found["changed"]
    missing = run(capsys, kubeconfig=kubeconfig, api_version="v1", kind="ConfigMap", namespace=NS, name="zzz")
    assert missing["_rc"] == 0 and missing["resources"] == []
    namespace = run(capsys, kubeconfig=kubeconfig, api_version="v1", kind="Namespace", name=NS)
    assert names(namespace) == [NS]


def test_reads_several_by_name_in_one_run_and_says_which_are_missing(objects, kubeconfig, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    objects.clear_requests()
    found = run(capsys, kubeconfig=kubeconfig, api_version="v1", kind="ConfigMap", namespace=NS, names=["c", "zzz", "a"])
    assert found["_rc"] == 0 and not found["changed"]
    # in the order asked, the missing one left out and named
    assert [item["metadata"]["name"] for item in found["resources"]] == ["c", "a"] and found["missing"] == ["zzz"]
    gets = [r["path"] for r in objects.requests if r["method"] == "GET" and "/configmaps" in r["path"]]
    assert sorted(gets) == sorted("/api/v1/namespaces/%s/configmaps/%s" % (NS, n) for n in ("a", "c", "zzz")), gets
    none = run(capsys, kubeconfig=kubeconfig, api_version="v1", kind="ConfigMap", namespace=NS, names=[])
    assert none["_rc"] == 0 and none["resources"] == [] and none["missing"] == []
    # name and names together are refused; without names there is no missing
    both = run(capsys, kubeconfig=kubeconfig, api_version="v1", kind="ConfigMap", namespace=NS, name="a", names=["b"])
    assert both["_rc"] == 1 and "mutually exclusive" in both["msg"]
    assert "missing" not in run(capsys, kubeconfig=kubeconfig, api_version="v1", kind="ConfigMap", namespace=NS, name="a")


def test_lists_by_every_selector(objects, kubeconfig, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    prod = run(capsys, kubeconfig=kubeconfig, api_version="v1", kind="ConfigMap", namespace=NS,
               label_selectors=["app.kubernetes.io/instance=prod"])
    assert names(prod) == ["a", "b"]
    everything = run(capsys, kubeconfig=kubeconfig, api_version="v1", kind="ConfigMap", namespace=NS)
    assert names(everything) == ["a", "b", "c"]
    elsewhere = run(capsys, kubeconfig=kubeconfig, api_version="v1", kind="ConfigMap", namespace="nowhere")
    assert elsewhere["_rc"] == 0 and elsewhere["resources"] == []


def test_retries_transient_errors(objects, kubeconfig, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    objects.add_fault(method="GET", path_regex=r"/configmaps/a$", status=503, times=2, retry_after=0)
    objects.add_fault(method="GET", path_regex=r"/configmaps$", status=429, times=1, retry_after=0)
    one = run(capsys, kubeconfig=kubeconfig, api_version="v1", kind="ConfigMap", namespace=NS, name="a")
    assert one["_rc"] == 0 and names(one) == ["a"]
    listed = run(capsys, kubeconfig=kubeconfig, api_version="v1", kind="ConfigMap", namespace=NS)
    assert listed["_rc"] == 0 and names(listed) == ["a", "b", "c"]
    assert sum(1 for r in objects.requests if r["fault"] is not None) == 3


def test_a_lasting_error_fails_with_the_servers_answer(objects, kubeconfig, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    objects.add_fault(method="GET", path_regex=r"/secrets/s$", status=403)
    result = run(capsys, kubeconfig=kubeconfig, api_version="v1", kind="Secret", namespace=NS, name="s")
    assert result["_rc"] == 1 and result["failed"]
    assert "403" in result["msg"] and result["status"] == 403, result


def test_waits_for_a_condition_and_says_what_is_missing(objects, kubeconfig, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    objects.create({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "users", "namespace": NS},
                    "spec": {"template": {"spec": {"restartPolicy": "Never",
                                                   "containers": [{"name": "users", "image": "kafka"}]}}}})
    done = run(capsys, kubeconfig=kubeconfig, api_version="batch/v1", kind="Job", namespace=NS, name="users",
               wait_condition={"type": "Complete"}, wait_timeout=30)
    assert done["_rc"] == 0, done
    conditions = done["resources"][0]["status"]["conditions"]
    assert [(c["type"], c["status"]) for c in conditions if c["type"] == "Complete"] == [("Complete", "True")]
    # an object that never reports it: a failure after wait_timeout, naming what it reports
    never = run(capsys, kubeconfig=kubeconfig, api_version="v1", kind="ConfigMap", namespace=NS, name="a",
                wait_condition={"type": "Complete"}, wait_timeout=1)
    assert never["_rc"] == 1 and never["msg"] == "a does not report Complete=True yet (conditions: none)", never
    missing = run(capsys, kubeconfig=kubeconfig, api_version="batch/v1", kind="Job", namespace=NS, name="zzz",
                  wait_condition={"type": "Complete"}, wait_timeout=1)
    assert missing["_rc"] == 1 and missing["msg"] == "Job zzz does not exist yet", missing


def test_a_failed_job_fails_the_wait_at_once():
    from ansible_collections.streams.kafka.plugins.module_utils import readiness  # pylint: disable=import-outside-toplevel
    job = {"metadata": {"name": "users"}, "status": {"conditions": [
        {"type": "Failed", "status": "True", "message": "Job was active longer than specified deadline"}]}}
    with pytest.raises(readiness.ConditionFailed, match="users reports Failed: Job was active longer than specified deadline"):
        readiness.condition_met(job, "Complete")
    assert readiness.condition_met({"metadata": {"name": "j"}, "status": {"conditions": [{"type": "Complete", "status": "True"}]}},
                                   "Complete")
