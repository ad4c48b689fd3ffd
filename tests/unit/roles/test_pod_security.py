"""Every pod the roles render against the restricted Pod Security Standard (and what OpenShift's
restricted-v2 SCC adds), with the collection's own stricter rules: read-only root filesystems
and no service account token except where a container needs one.

The shared render of tests/security_render.py (one site.yml run) holds the default stack (the
local inventory), rack awareness (the init container that reads its node's labels, and the
downward API), JBOD, metrics on every component, MirrorMaker 2 and OpenShift. Every workload kind with a pod template is checked,
so Jobs added later are covered too.
"""

import pytest
import yaml

from tests.security_render import POD_HOSTS, render

# The restricted profile (https://kubernetes.io/docs/concepts/security/pod-security-standards/).
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}
ALLOWED_CAPABILITIES = {"NET_BIND_SERVICE"}
SECCOMP_TYPES = {"RuntimeDefault", "Localhost"}
SELINUX_TYPES = {"container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
# Containers that may see a service account token: the rack init container reads its node.
TOKEN_CONTAINERS = {"kafka-init"}
WORKLOAD_KINDS = {"Pod", "StatefulSet", "Deployment", "DaemonSet", "ReplicaSet", "Job", "CronJob"}


def _pod_template(obj):
    """(pod metadata, pod spec) of any workload kind."""
    if obj["kind"] == "Pod":
        return obj.get("metadata", {}), obj["spec"]
    if obj["kind"] == "CronJob":
        template = obj["spec"]["jobTemplate"]["spec"]["template"]
    else:
        template = obj["spec"]["template"]
    return template.get("metadata", {}), template["spec"]


def violations(obj, service_accounts=None, platform="kubernetes"):
    """Every way one workload's pod breaks the rules; [] when it keeps them all."""
    metadata, spec = _pod_template(obj)
    out = []
    pod_sc = spec.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            out.append("pod %s" % field)
    for volume in spec.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            out.append("volume %s is %s" % (volume["name"], ", ".join(sorted(kinds - RESTRICTED_VOLUMES))))
    if pod_sc.get("sysctls"):
        out.append("pod sysctls")
    if pod_sc.get("runAsUser") == 0:
        out.append("pod runAsUser 0")
    if platform == "openshift" and any(field in pod_sc for field in ("runAsUser", "fsGroup", "supplementalGroups")):
        out.append("pod fixes a UID or group that restricted-v2 assigns")
    for key in metadata.get("annotations") or {}:
        if key.startswith("container.apparmor.security.beta.kubernetes.io/") and \
                metadata["annotations"][key] not in ("runtime/default",) and not metadata["annotations"][key].startswith("localhost/"):
            out.append("annotation %s" % key)
    selinux = pod_sc.get("seLinuxOptions") or {}
    if selinux.get("user") or selinux.get("role") or selinux.get("type", "container_t") not in SELINUX_TYPES:
        out.append("pod seLinuxOptions")
    # service account tokens
    token_volumes = {v["name"] for v in spec.get("volumes") or []
                     if any("serviceAccountToken" in s for s in (v.get("projected") or {}).get("sources") or [])}
    if spec.get("automountServiceAccountToken") is not False:
        account = spec.get("serviceAccountName", "default")
        if (service_accounts or {}).get(account, {}).get("automountServiceAccountToken") is not False:
            out.append("pod automounts the service account token")
    containers = [("init", c) for c in spec.get("initContainers") or []] + [("", c) for c in spec.get("containers") or []] \
        + [("ephemeral", c) for c in spec.get("ephemeralContainers") or []]
    for kind, box in containers:
        name = ("%s container %s" % (kind, box["name"])).strip()
        sc = box.get("securityContext") or {}
        if sc.get("privileged"):
            out.append("%s privileged" % name)
        if sc.get("allowPrivilegeEscalation") is not False:
            out.append("%s allowPrivilegeEscalation is not false" % name)
        run_as_non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
        if run_as_non_root is not True:
            out.append("%s runAsNonRoot is not true" % name)
        if sc.get("runAsUser") == 0:
            out.append("%s runAsUser 0" % name)
        seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
        if seccomp not in SECCOMP_TYPES:
            out.append("%s seccompProfile is %s" % (name, seccomp))
        capabilities = sc.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            out.append("%s does not drop ALL capabilities" % name)
        if set(capabilities.get("add") or []) - ALLOWED_CAPABILITIES:
            out.append("%s adds capabilities %s" % (name, sorted(set(capabilities["add"]) - ALLOWED_CAPABILITIES)))
        if any(port.get("hostPort") for port in box.get("ports") or []):
            out.append("%s hostPort" % name)
        if sc.get("procMount", "Default") != "Default":
            out.append("%s procMount" % name)
        container_selinux = sc.get("seLinuxOptions") or {}
        if container_selinux.get("user") or container_selinux.get("role") or container_selinux.get("type", "container_t") not in SELINUX_TYPES:
            out.append("%s seLinuxOptions" % name)
        # the collection's own rules
        if sc.get("readOnlyRootFilesystem") is not True:
            out.append("%s root filesystem is writable" % name)
        mounts = {m["name"] for m in box.get("volumeMounts") or []}
        if mounts & token_volumes and box["name"] not in TOKEN_CONTAINERS:
            out.append("%s mounts a service account token" % name)
        if sc.get("readOnlyRootFilesystem") is True and "/tmp" not in {m["mountPath"] for m in box.get("volumeMounts") or []}:
            out.append("%s has no writable /tmp" % name)
    return out


# --- the checker itself -------------------------------------------------------------------

GOOD = {"kind": "Deployment", "metadata": {"name": "good"}, "spec": {"template": {"metadata": {}, "spec": {
    "automountServiceAccountToken": False,
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [{"name": "app", "securityContext": {
        "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]}],
    "volumes": [{"name": "tmp", "emptyDir": {}}]}}}}

BAD = {"kind": "StatefulSet", "metadata": {"name": "bad"}, "spec": {"template": {
    "metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}},
    "spec": {
        "hostNetwork": True, "hostPID": True, "hostIPC": True,
        "securityContext": {"runAsUser": 0, "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}],
                            "seLinuxOptions": {"type": "spc_t"}},
        "initContainers": [{"name": "setup", "securityContext": {"privileged": True, "capabilities": {"add": ["SYS_ADMIN"]}}}],
        "containers": [{"name": "app", "ports": [{"containerPort": 80, "hostPort": 80}],
                        "securityContext": {"runAsNonRoot": False, "allowPrivilegeEscalation": True, "procMount": "Unmasked",
                                            "seccompProfile": {"type": "Unconfined"}, "capabilities": {"drop": ["NET_RAW"]}},
                        "volumeMounts": [{"name": "token", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]}],
        "volumes": [{"name": "host", "hostPath": {"path": "/var/run/docker.sock"}},
                    {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}]}}}}


def test_checker_passes_a_restricted_pod():
    assert violations(GOOD) == []


def test_checker_names_every_problem_of_a_bad_pod():
    found = violations(BAD)
    expected = [
        "pod hostNetwork", "pod hostPID", "pod hostIPC", "volume host is hostPath", "pod sysctls", "pod runAsUser 0",
        "annotation container.apparmor.security.beta.kubernetes.io/app", "pod seLinuxOptions",
        "pod automounts the service account token",
        "init container setup privileged", "init container setup allowPrivilegeEscalation is not false",
        "init container setup runAsNonRoot is not true", "init container setup seccompProfile is None",
        "init container setup does not drop ALL capabilities", "init container setup adds capabilities ['SYS_ADMIN']",
        "init container setup root filesystem is writable",
        "container app allowPrivilegeEscalation is not false", "container app runAsNonRoot is not true",
        "container app seccompProfile is Unconfined", "container app does not drop ALL capabilities", "container app hostPort",
        "container app procMount", "container app root filesystem is writable", "container app mounts a service account token",
    ]
    assert sorted(found) == sorted(expected)


def test_checker_takes_the_service_accounts_automount_and_openshift_rules():
    pod = yaml.safe_load(yaml.safe_dump(GOOD))
    spec = pod["spec"]["template"]["spec"]
    del spec["automountServiceAccountToken"]
    spec["serviceAccountName"] = "app"
    assert violations(pod, {"app": {"automountServiceAccountToken": False}}) == []
    assert violations(pod, {"app": {}}) == ["pod automounts the service account token"]
    spec["securityContext"]["fsGroup"] = 0
    assert violations(pod, {"app": {"automountServiceAccountToken": False}}, platform="openshift") == [
        "pod fixes a UID or group that restricted-v2 assigns"]


# --- the rendered pods ----------------------------------------------------------------------

HOSTS = ["dev"] + sorted(POD_HOSTS)
PLATFORM = {"ocp": "openshift"}


@pytest.fixture(scope="module", name="rendered")
def rendered_fixture():
    rendered = render()
    for host in HOSTS:
        assert host not in {h for _task, h, _msg in rendered.run.failures()}, rendered.run.describe()
    return rendered


def workloads(rendered, host):
    objs = rendered.objects(host)
    accounts = {o["metadata"]["name"]: o for o in objs if o["kind"] == "ServiceAccount"}
    return [o for o in objs if o["kind"] in WORKLOAD_KINDS], accounts


@pytest.mark.parametrize("host", HOSTS)
def test_every_pod_is_restricted(rendered, host):
    found, accounts = workloads(rendered, host)
    assert found
    problems = {"%s/%s" % (o["kind"], o["metadata"]["name"]): violations(o, accounts, PLATFORM.get(host, "kubernetes")) for o in found}
    assert {name: p for name, p in problems.items() if p} == {}


def test_the_variants_render_the_pods_they_are_about(rendered):
    names = {host: sorted("%s/%s" % (o["kind"], o["metadata"]["name"]) for o in workloads(rendered, host)[0]) for host in HOSTS}
    assert {"StatefulSet/dev-zookeeper", "StatefulSet/dev-kafka", "Deployment/dev-connect", "Deployment/dev-bridge",
            "Deployment/dev-exporter"} <= set(names["dev"])
    assert "Deployment/ocp-mirrormaker" in names["ocp"]
    rack = [o for o in workloads(rendered, "rack")[0] if o["metadata"]["name"] == "rack-kafka"][0]
    spec = rack["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["initContainers"]] == ["kafka-init"]
    assert len(rack["spec"]["volumeClaimTemplates"]) == 2
    assert [name for name in names["rack"] if name.startswith("Job/")], names["rack"]


def test_only_the_rack_init_container_gets_a_token_and_its_account_does_not_automount(rendered):
    found, accounts = workloads(rendered, "rack")
    kafka = [o for o in found if o["metadata"]["name"] == "rack-kafka"][0]
    spec = kafka["spec"]["template"]["spec"]
    assert spec["automountServiceAccountToken"] is False
    assert spec["serviceAccountName"] == "rack-kafka"
    assert accounts["rack-kafka"]["automountServiceAccountToken"] is False
    token_volumes = {v["name"] for v in spec["volumes"] if "projected" in v}
    mounting = sorted(c["name"] for c in spec["initContainers"] + spec["containers"]
                      if token_volumes & {m["name"] for m in c.get("volumeMounts", [])})
    assert mounting == ["kafka-init"]
    # without the init container no pod names a service account
    for host in ("dev", "downward", "ocp"):
        for obj in workloads(rendered, host)[0]:
            assert "serviceAccountName" not in obj["spec"]["template"]["spec"], obj["metadata"]["name"]
