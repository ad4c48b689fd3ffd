"""kubesim's pod proxy routed by pod name pattern, for Deployments' generated pod names."""
import json
import urllib.error
import urllib.request

NS = "default"


def _deployment(name):
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS, "labels": labels},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}


def _get(sim, path):
    try:
        with urllib.request.urlopen(sim.url + path, timeout=5) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_pattern_routes_every_generated_pod_and_exact_routes_win(kubesim):
    kubesim.create(_deployment("web"))
    assert kubesim.wait_for(lambda: len([p for p in kubesim.objects("v1", "Pod", NS) if p["metadata"]["name"].startswith("web-")]) == 2)
    pods = sorted(p["metadata"]["name"] for p in kubesim.objects("v1", "Pod", NS))
    assert kubesim.wait_for(lambda: all((p.get("status") or {}).get("phase") == "Running" for p in kubesim.objects("v1", "Pod", NS)))
    seen = []

    def pattern_handler(method, path, query, _body):
        seen.append((method, path, query))
        return 200, {"Content-Type": "application/json"}, json.dumps({"via": "pattern"})

    kubesim.route_proxy_pattern(NS, r"web-[a-z0-9]+-[a-z0-9]{5}", 8080, pattern_handler)
    kubesim.route_proxy_handler(NS, pods[1], 8080, lambda *_a: (200, {}, "exact"))
    assert _get(kubesim, "/api/v1/namespaces/%s/pods/%s:8080/proxy/ready?x=1" % (NS, pods[0])) == (200, '{"via": "pattern"}')
    assert _get(kubesim, "/api/v1/namespaces/%s/pods/%s:8080/proxy/ready" % (NS, pods[1])) == (200, "exact")
    assert seen == [("GET", "/ready", "x=1")]
    # another port, namespace or name is not routed
    status, body = _get(kubesim, "/api/v1/namespaces/%s/pods/%s:9090/proxy/" % (NS, pods[0]))
    assert status == 503 and "connection refused" in body
    kubesim.clear_proxy_routes()
    assert _get(kubesim, "/api/v1/namespaces/%s/pods/%s:8080/proxy/ready" % (NS, pods[0]))[0] == 503
