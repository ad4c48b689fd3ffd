"""Pure functions of the simulator: patch types and selectors."""
import pytest

from tests.kubesim.errors import ApiError
from tests.kubesim.patch import json_patch, merge_patch, strategic_merge
from tests.kubesim.selectors import field_matcher, label_matcher, matches_label_selector


def test_merge_patch_is_rfc7386():
    target = {"a": "b", "c": {"d": "e", "f": "g"}, "list": [1, 2]}
    assert merge_patch(target, {"a": "z", "c": {"f": None}, "list": [3]}) == {"a": "z", "c": {"d": "e"}, "list": [3]}
    assert target["c"] == {"d": "e", "f": "g"}, "the target is not modified"


def test_strategic_merge_keys():
    pod_spec = {
        "containers": [{"name": "a", "image": "a:1", "volumeMounts": [{"mountPath": "/data", "name": "data"}],
                        "ports": [{"containerPort": 80, "name": "http"}]}],
        "volumes": [{"name": "data", "emptyDir": {}}],
        "tolerations": [{"key": "x"}],
    }
    patch = {
        "containers": [{"name": "a", "volumeMounts": [{"mountPath": "/data", "readOnly": True}, {"mountPath": "/logs", "name": "logs"}],
                        "ports": [{"containerPort": 80, "protocol": "TCP"}]}],
        "volumes": [{"name": "logs", "emptyDir": {}}],
        "tolerations": [{"key": "y"}],
    }
    merged = strategic_merge(pod_spec, patch)
    container = merged["containers"][0]
    assert container["image"] == "a:1"
    assert container["volumeMounts"] == [{"mountPath": "/data", "name": "data", "readOnly": True}, {"mountPath": "/logs", "name": "logs"}]
    assert container["ports"] == [{"containerPort": 80, "name": "http", "protocol": "TCP"}]
    assert [v["name"] for v in merged["volumes"]] == ["data", "logs"]
    assert merged["tolerations"] == [{"key": "y"}], "lists without a merge key are replaced"


def test_strategic_merge_directives_and_other_keys():
    spec = {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}],
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"a": 1}}],
            "finalizers": ["a", "b"], "selector": {"x": "1", "y": "2"}}
    merged = strategic_merge(spec, {
        "ports": [{"port": 443, "$patch": "delete"}, {"port": 80, "name": "http"}],
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"b": 2}}],
        "$deleteFromPrimitiveList/finalizers": ["a"],
        "selector": {"$patch": "replace", "z": "3"},
    })
    assert merged["ports"] == [{"port": 80, "targetPort": 8080, "name": "http"}]
    assert merged["volumeClaimTemplates"] == [{"metadata": {"name": "data"}, "spec": {"a": 1, "b": 2}}]
    assert merged["finalizers"] == ["b"]
    assert merged["selector"] == {"z": "3"}
    assert strategic_merge({"env": [{"name": "A"}]}, {"env": [{"$patch": "replace"}, {"name": "B"}]}) == {"env": [{"name": "B"}]}


def test_json_patch_operations_and_errors():
    doc = {"a": [1, 2], "b": {"c": 1}}
    assert json_patch(doc, [{"op": "add", "path": "/a/-", "value": 3}, {"op": "add", "path": "/a/0", "value": 0},
                            {"op": "move", "from": "/b/c", "path": "/d"}]) == {"a": [0, 1, 2, 3], "b": {}, "d": 1}
    for bad in ([{"op": "remove", "path": "/missing"}], [{"op": "replace", "path": "/a/9", "value": 1}],
                [{"op": "test", "path": "/b/c", "value": 2}], [{"op": "add", "path": "/x/y", "value": 1}]):
        with pytest.raises(ApiError) as error:
            json_patch(doc, bad)
        assert error.value.code == 422
    with pytest.raises(ApiError) as error:
        json_patch(doc, [{"op": "frobnicate", "path": "/a"}])
    assert error.value.code == 400


@pytest.mark.parametrize("selector,labels,expected", [
    ("", {}, True),
    ("a=1", {"a": "1"}, True),
    ("a=1", {"a": "2"}, False),
    ("a!=1", {}, True),
    ("a in (1, 2),b", {"a": "2", "b": ""}, True),
    ("a notin (1,2)", {"a": "1"}, False),
    ("!a", {"b": "1"}, True),
    ("app.kubernetes.io/name=kafka", {"app.kubernetes.io/name": "kafka"}, True),
])
def test_label_selectors(selector, labels, expected):
    assert label_matcher(selector)({"metadata": {"labels": labels}}) is expected


def test_bad_selectors_are_bad_requests():
    for text in ("a in b", "=x", "a b c"):
        with pytest.raises(ApiError) as error:
            label_matcher(text)
        assert error.value.code == 400
    with pytest.raises(ApiError):
        field_matcher("metadata.name")


def test_field_selectors_and_label_selector_objects():
    obj = {"metadata": {"name": "p", "namespace": "ns"}, "status": {"phase": "Running"}}
    assert field_matcher("metadata.name=p,status.phase!=Pending")(obj)
    assert not field_matcher("metadata.namespace==other")(obj)
    selector = {"matchLabels": {"app": "k"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a"]},
                                                                  {"key": "gone", "operator": "DoesNotExist"}]}
    assert matches_label_selector(selector, {"app": "k", "tier": "a"})
    assert not matches_label_selector(selector, {"app": "k", "tier": "b"})
