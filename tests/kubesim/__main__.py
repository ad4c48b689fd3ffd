"""Run the simulator: ``python -m tests.kubesim --port 8080 [--ready-delay 1] [--kubeconfig PATH]``."""
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
    args = parser.parse_args(argv)
    stopped = threading.Event()
    # SIGTERM ends the server as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with KubeSim(ready_delay=args.ready_delay).start(args.port) as sim:
        if args.kubeconfig:
            sim.write_kubeconfig(args.kubeconfig)
        print(sim.url, flush=True)
        try:
            while not stopped.wait(1):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
