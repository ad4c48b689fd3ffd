"""manifest_apply: send a patch only when the server would store something different."""

import pytest

from ansible_collections.streams.kafka.plugins.module_utils import k8s_api, manifest_apply


class FakeApi:
    """Records calls; `live` maps name -> stored object."""

    def __init__(self, live=None, create_status=None):
        self.live = live or {}
        self.calls = []
        self.create_status = create_status

    def read(self, obj):
        self.calls.append(("read", obj["metadata"]["name"]))
        return self.live.get(obj["metadata"]["name"])

    def create(self, obj):
        self.calls.append(("create", obj["metadata"]["name"]))
        if self.create_status:
            raise k8s_api.ApiError("namespaces \"kafka\" not found", self.create_status)
        return dict(obj, metadata=dict(obj["metadata"], uid="u1", resourceVersion="1"))

    def patch(self, obj, patch):
        self.calls.append(("patch", obj["metadata"]["name"]))
        return k8s_api.dict_merge(self.live[obj["metadata"]["name"]], patch)


def service(port=8080):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc", "namespace": "kafka"},
            "spec": {"ports": [{"name": "http", "port": port}], "selector": {"a": "b"}}}


def stored(desired):
    """What a server returns after an apply: defaults filled in, bookkeeping added."""
    obj = k8s_api.with_last_applied(desired)
    obj["metadata"].update(uid="u1", resourceVersion="7", creationTimestamp="2026-01-01T00:00:00Z")
    for port in obj["spec"]["ports"]:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port["port"])
    obj["spec"].update(type="ClusterIP", clusterIP="10.0.0.1", sessionAffinity="None")
    return obj


@pytest.mark.parametrize("wanted,actual,expected", [
    ({"a": 1}, {"a": 1, "b": 2}, True),
    ({"a": 1}, {"a": 2}, False),
    ({"a": None}, {}, True),
    ({"a": None}, {"a": 1}, False),
    ({"l": [{"n": 1}]}, {"l": [{"n": 1, "default": "x"}]}, True),
    ({"l": [{"n": 1}]}, {"l": [{"n": 1}, {"n": 2}]}, False),
    ({"l": [1, 2]}, {"l": [2, 1]}, False),
    ({"d": {"x": {"y": 1}}}, {"d": {"x": {"y": 1, "z": 2}}}, True),
])
def test_contained(wanted, actual, expected):
    assert manifest_apply.contained(wanted, actual) is expected


def test_absent_object_is_created_with_the_annotation():
    api = FakeApi()
    result = manifest_apply.apply_all(api, [service()])
    assert api.calls == [("read", "svc"), ("create", "svc")]
    assert result["objects"] == [{"object": "kafka/Service/svc", "action": "created"}]
    assert result["changed"] is True


def test_server_defaults_in_lists_do_not_cause_a_patch():
    api = FakeApi({"svc": stored(service())})
    result = manifest_apply.apply_all(api, [service()])
    assert api.calls == [("read", "svc")]
    assert result == {"changed": False, "objects": [{"object": "kafka/Service/svc", "action": "unchanged"}], "diff": []}


def test_a_real_change_is_patched_and_diffed_without_bookkeeping():
    api = FakeApi({"svc": stored(service())})
    result = manifest_apply.apply_all(api, [service(port=9090)])
    assert api.calls == [("read", "svc"), ("patch", "svc")]
    diff = result["diff"][0]
    assert diff["before_header"] == "kafka/Service/svc"
    assert "resourceVersion" not in str(diff) and manifest_apply.LAST_APPLIED not in str(diff)
    assert "9090" in str(diff["after"])


def test_removed_field_is_patched_away():
    live = stored(service())
    desired = service()
    del desired["spec"]["selector"]
    api = FakeApi({"svc": live})
    manifest_apply.apply_all(api, [desired])
    assert api.calls[-1] == ("patch", "svc")


def test_check_mode_reports_objects_of_a_namespace_not_created_yet():
    api = FakeApi(create_status=404)
    result = manifest_apply.apply_all(api, [service()], check_mode=True)
    assert result["objects"][0]["action"] == "created"
    with pytest.raises(k8s_api.ApiError):
        manifest_apply.apply_all(FakeApi(create_status=404), [service()], check_mode=False)


def test_secret_values_are_redacted_and_string_data_is_compared_encoded():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "kafka"},
              "stringData": {"password": "hunter2"}}
    api = FakeApi()
    result = manifest_apply.apply_all(api, [secret])
    assert "hunter2" not in str(result) and "aHVudGVyMg" not in str(result)
    assert result["diff"][0]["after"]["data"] == {"password": manifest_apply.REDACTED}

    live = k8s_api.with_last_applied(k8s_api.stored_form(secret))
    api = FakeApi({"s": live})
    assert manifest_apply.apply_all(api, [secret])["changed"] is False
