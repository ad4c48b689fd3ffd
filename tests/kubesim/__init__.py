"""kubesim: a small in-process Kubernetes API server for the test suite.

Python API (see sim.KubeSim)::

    with KubeSim(ready_delay=0.5).start() as sim:        # or the ``kubesim`` pytest fixture
        sim.write_kubeconfig(path, namespace=None)       # context "kubesim", token auth
        sim.get(api_version, kind, namespace, name)      # stored object or None
        sim.objects(api_version, kind, namespace=None)
        sim.create(obj)                                  # direct store write, not logged
        sim.set_ready_delay(s); sim.pod_ready_times()    # {"ns/pod": time.monotonic()}
        sim.set_pod_behaviour(ns, name_regex, "crashloop")
        sim.delete_pod(ns, name)
        sim.add_fault(method=None, path_regex=".*", status=500, times=None, delay=0.0,
                      retry_after=None, after=False)            # after: applied, then answered with status
        sim.add_random_faults(rate=0.1, seed=0, statuses=(500, 503, 429), writes_only=False,
                              retry_after=1, user_agent=None)  # seeded, answered before doing anything
        sim.route_proxy(ns, pod, port, "http://127.0.0.1:18080")
        sim.route_proxy_handler(ns, pod, port, handler)  # handler(method, path, query, body)
        sim.requests; sim.writes(); sim.clear_requests()
        sim.wait_for(predicate, timeout=10.0)            # re-checks on every stored change
        sim.snapshot(namespace=None)                     # every stored object
        sim.stop(); sim.start()                          # down (connections refused), then back on
                                                         # the same port with the same state
        sim.stop_after(match=None, method=None, path_regex=None, name_regex=None, restart_after=None)

The same controls are served as JSON under ``/_sim/`` (requests, faults, faults/random,
stop_after, pods, proxy, config, ready_times, objects); ``python -m tests.kubesim --port N`` runs it standalone.
"""
from .sim import KubeSim

__all__ = ["KubeSim"]
