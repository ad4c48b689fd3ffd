"""The /_sim/ HTTP control API, mirroring the Python API with JSON in and out."""

from .errors import ApiError
from .response import json_response


class Control:
    def __init__(self, sim):
        self.sim = sim
        self.routes = {
            ("GET", "/_sim/requests"): lambda body, query: sim.requests,
            ("DELETE", "/_sim/requests"): lambda body, query: sim.clear_requests(),
            ("GET", "/_sim/faults"): lambda body, query: sim.faults.list(),
            ("POST", "/_sim/faults"): lambda body, query: {"id": sim.add_fault(**body)},
            ("DELETE", "/_sim/faults"): lambda body, query: sim.clear_faults(),
            ("POST", "/_sim/faults/random"): lambda body, query: {"id": sim.add_random_faults(**body)},
            # Stops after answering the matching request; {"restart_after": s} brings it back.
            ("POST", "/_sim/stop_after"): lambda body, query: sim.stop_after(
                None, body.get("method"), body.get("path_regex"), body.get("name_regex"), body.get("restart_after")),
            ("POST", "/_sim/pods"): lambda body, query: sim.set_pod_behaviour(body.get("namespace"), body["name_regex"], body["behaviour"]),
            ("DELETE", "/_sim/pods"): lambda body, query: sim.clear_pod_behaviours(),
            ("POST", "/_sim/pods/delete"): lambda body, query: sim.delete_pod(body["namespace"], body["name"]),
            ("POST", "/_sim/proxy"): lambda body, query: sim.route_proxy(body["namespace"], body["pod"], body.get("port"), body["target_url"]),
            ("DELETE", "/_sim/proxy"): lambda body, query: sim.clear_proxy_routes(),
            ("GET", "/_sim/config"): lambda body, query: {"ready_delay": sim.ready_delay},
            ("POST", "/_sim/config"): lambda body, query: sim.set_ready_delay(body["ready_delay"]),
            ("GET", "/_sim/ready_times"): lambda body, query: sim.pod_ready_times(),
            ("GET", "/_sim/objects"): lambda body, query: sim.objects(query["apiVersion"], query["kind"], query.get("namespace")),
        }

    def handle(self, req):
        route = self.routes.get((req.method, req.path.rstrip("/")))
        if route is None:
            return json_response(404, {"error": f"no control route {req.method} {req.path}"})
        try:
            body = req.json() if req.body else {}
            result = route(body, req.query)
        except ApiError as exc:
            return json_response(exc.code, exc.body())
        except (KeyError, TypeError, ValueError) as exc:
            return json_response(400, {"error": f"{type(exc).__name__}: {exc}"})
        return json_response(200, {} if result is None else result)
