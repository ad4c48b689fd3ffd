"""manifest_apply's validate option: objects are checked before the first request."""

from ansible_collections.streams.kafka.plugins.modules import manifest_apply

from .module_run import run_main

LABELS = {"app.kubernetes.io/part-of": "streams"}
STANDARD = dict(LABELS, **{"app.kubernetes.io/name": "settings", "app.kubernetes.io/component": "config"})


def configmap(name, **extra):
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default", "labels": dict(STANDARD)},
           "data": {"k": "v"}}
    obj.update(extra)
    return obj


def run(capsys, **args):
    return run_main(manifest_apply, capsys, args)


def test_an_invalid_object_fails_before_any_request(kubesim, kubeconfig, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    kubesim.clear_requests()
    bad = configmap("bad", spec={"replicas": 3})
    result = run(capsys, kubeconfig=kubeconfig, manifests=[configmap("good"), bad],
                 validate={"kubernetes_versions": ["1.37"], "required_labels": LABELS})
    assert result["_rc"] == 1, result
    assert any("default/ConfigMap/bad" in problem and "spec" in problem for problem in result["problems"]), result
    assert kubesim.requests == []


def test_a_missing_label_fails_and_valid_objects_are_applied(kubesim, kubeconfig, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    unlabelled = configmap("plain")
    unlabelled["metadata"]["labels"] = {}
    refused = run(capsys, kubeconfig=kubeconfig, manifests=[unlabelled],
                  validate={"kubernetes_versions": ["1.27"], "required_labels": LABELS})
    assert refused["_rc"] == 1 and "app.kubernetes.io/part-of" in refused["msg"], refused
    applied = run(capsys, kubeconfig=kubeconfig, manifests=[configmap("good")],
                  validate={"kubernetes_versions": ["1.27", "1.37"], "required_labels": LABELS})
    assert applied["_rc"] == 0 and applied["changed"], applied
    assert kubesim.get("v1", "ConfigMap", "default", "good")["data"] == {"k": "v"}
