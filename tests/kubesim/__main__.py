"""Run the simulator: ``python -m tests.kubesim --port 8080 [--ready-delay 1] [--kubeconfig PATH] [--healthy-apps]``.

``--healthy-apps`` answers the pod proxy of every pod it makes as a healthy component does
(tests/healthy_apps.py), so the readiness gates of playbooks/site.yml pass against it.
"""
import argparse
import signal
import sys
import threading

from .sim import KubeSim


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.kubesim", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--ready-delay", type=float, default=0.0, help="seconds before a pod becomes Ready")
    parser.add_argument("--kubeconfig", help="write a kubeconfig for the simulator to this path")
    parser.add_argument("--healthy-apps", action="store_true",
                        help="answer the pod proxy of ZooKeeper, Kafka, Connect, MirrorMaker 2, Bridge and Exporter pods as healthy")
    args = parser.parse_args(argv)
    stopped = threading.Event()
    # SIGTERM ends the server as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with KubeSim(ready_delay=args.ready_delay).start(args.port) as sim:
        if args.kubeconfig:
            sim.write_kubeconfig(args.kubeconfig)
        if args.healthy_apps:
            from tests.healthy_apps import HealthyApps  # pylint: disable=import-outside-toplevel

            HealthyApps(sim).start()
        print(sim.url, flush=True)
        try:
            while not stopped.wait(1):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
