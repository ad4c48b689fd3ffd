"""Run a real ZooKeeper ensemble on loopback from a zoo.cfg rendered for Kubernetes.

The role renders ``zoo.cfg`` for pods: ``server.N`` lines name pod DNS names
(``zk-zookeeper-0.zk-zookeeper-nodes.kafka.svc``), paths point into the pod's
volumes and ``quorumListenOnAllIPs=true`` binds every port on 0.0.0.0.
:class:`Ensemble` turns that text into one config per member that can run on
this host, starts each member with the Debian ``zookeeper`` package's own
server class (``org.apache.zookeeper.server.quorum.QuorumPeerMain``) and
talks to each member's AdminServer over HTTP.

Every member gets its own loopback IP (127.0.0.11, 127.0.0.12, ... by default;
on Linux the whole of 127.0.0.0/8 is routed to ``lo``), so the ports stay
exactly as rendered.

Standard library only, but for ``Ensemble(..., tls=True)``, which needs ``cryptography``: it
keeps the rendered TLS settings (quorum TLS, the secure client port) and points their keystore
and truststore at certificates it makes for the test (a CA, and one certificate per member naming
its pod DNS name and its loopback IP, in ZooKeeper's PEM keystore form: key and certificate in one
file). Linux only (loopback aliases, PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import atexit
import ctypes
import errno
import ipaddress
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import weakref
import zipfile

# --- where the Debian package puts things ---------------------------------
#
# /usr/share/zookeeper/bin/zkServer.sh sources zkEnv.sh, which sets
#   ZOOMAIN=org.apache.zookeeper.server.quorum.QuorumPeerMain
#   CLASSPATH="/etc/zookeeper/conf:/usr/share/java/zookeeper.jar"
# and then runs  java -cp "$CLASSPATH" $JVMFLAGS $ZOOMAIN "$ZOOCFG".
# zookeeper.jar (package libzookeeper-java) carries a manifest Class-Path that
# pulls in jute, netty, jetty9 (AdminServer), jackson, slf4j-api, metrics, ...
# We use the same jar but leave /etc/zookeeper/conf out of the classpath so
# nothing from /etc is read. Two jars are added:
#  * servlet-api.jar (libservlet-api-java, a dependency of libjetty9-java):
#    the manifest lists jetty9-server/-servlet but not the javax.servlet API,
#    so with the package's own classpath ZooKeeper 3.8.0-11+deb12u2 logs
#    "Unable to load jetty, not starting JettyAdminServer"
#    (NoClassDefFoundError: javax/servlet/Servlet) and runs with NO AdminServer.
#  * slf4j-log4j12 + log4j 1.2 (both dependencies of libzookeeper-java):
#    slf4j-api alone has no binding and ZooKeeper would log nothing; log4j is
#    pointed at a per-member properties file.
ZOOKEEPER_JAR = pathlib.Path("/usr/share/java/zookeeper.jar")
EXTRA_JARS = (
    pathlib.Path("/usr/share/java/servlet-api.jar"),
    # netty-codec and netty-resolver (libnetty-java): the manifest lists netty-handler and
    # netty-transport but not these, which they need; without them a member's TLS server side
    # (the quorum listener with sslQuorum, the secure client port) dies with
    # NoClassDefFoundError: io/netty/handler/codec/ByteToMessageDecoder, swallowed by ZooKeeper.
    pathlib.Path("/usr/share/java/netty-codec.jar"),
    pathlib.Path("/usr/share/java/netty-resolver.jar"),
    pathlib.Path("/usr/share/java/netty-transport-native-unix-common.jar"),
    pathlib.Path("/usr/share/java/slf4j-log4j12.jar"),
    pathlib.Path("/usr/share/java/log4j-1.2.jar"),
)
MAIN_CLASS = "org.apache.zookeeper.server.quorum.QuorumPeerMain"

JVM_FLAGS = (
    "-Xmx128m",
    "-Xms32m",
    "-XX:+UseSerialGC",
    # C1 only: the JVMs live for seconds, so start-up time matters more than
    # peak throughput.
    "-XX:TieredStopAtLevel=1",
    "-Xshare:auto",
    "-Djava.net.preferIPv4Stack=true",
    "-Djava.awt.headless=true",
)

DEFAULT_ADMIN_PORT = 8080
DEFAULT_COMMAND_URL = "/commands"

# Settings dropped from the rendered config because they cannot work on this
# host. Reasons are written into each member's zoo.cfg and kept in
# Ensemble.dropped.
_TLS_KEYS = {
    "secureClientPort",
    "secureClientPortAddress",
    "sslQuorum",
    "portUnification",
    "client.portUnification",
    "sslQuorumReloadCertFiles",
    "client.certReload",
    "admin.forceHttps",
    "admin.portUnification",
}
_TLS_REASON = (
    "TLS: keystore/truststore paths point into the pod's mounted Secret and "
    "the certificates name pod DNS names, not loopback IPs"
)
_SASL_REASON = (
    "quorum SASL needs a JAAS login config that the pod passes as a JVM "
    "system property; there is none here"
)
_DYNCFG_REASON = "dynamicConfigFile is a path inside the pod; server.N lines are used instead"


def java_binary() -> str | None:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and os.access(os.path.join(java_home, "bin", "java"), os.X_OK):
        return os.path.join(java_home, "bin", "java")
    return shutil.which("java")


def zookeeper_available() -> bool:
    """True when the Debian zookeeper server jar and a java binary are installed."""
    return ZOOKEEPER_JAR.is_file() and java_binary() is not None


def missing_reason() -> str | None:
    """Human-readable reason why zookeeper_available() is False, else None."""
    if not ZOOKEEPER_JAR.is_file():
        return (
            f"{ZOOKEEPER_JAR} not found: the Debian 'zookeeper' package is not "
            "installed (apt-get install -y zookeeper; `make test` installs it)"
        )
    if java_binary() is None:
        return "no java binary on PATH (and JAVA_HOME unset or wrong)"
    return None


def classpath() -> str:
    jars = [ZOOKEEPER_JAR] + [j for j in EXTRA_JARS if j.is_file()]
    return os.pathsep.join(str(j) for j in jars)


# --- zoo.cfg parsing --------------------------------------------------------


def parse_properties(text: str) -> dict[str, str]:
    """Parse java.util.Properties-style text (what ZooKeeper reads), keeping order.

    Handles comments (# and !), blank lines, ``key=value`` / ``key:value`` /
    ``key value`` separators and backslash line continuations. Later
    duplicates win, as in Java.
    """
    props: dict[str, str] = {}
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.lstrip()
        if not pending and (not line or line[0] in "#!"):
            continue
        # odd number of trailing backslashes -> continuation
        stripped = line.rstrip("\r\n")
        trailing = len(stripped) - len(stripped.rstrip("\\"))
        if trailing % 2 == 1:
            pending += stripped[:-1]
            continue
        logical.append(pending + stripped)
        pending = ""
    if pending:
        logical.append(pending)

    for line in logical:
        i = 0
        while i < len(line) and line[i] not in "=: \t\f":
            i += 1
        key = line[:i]
        rest = line[i:].lstrip(" \t\f")
        if rest[:1] in ("=", ":"):
            rest = rest[1:].lstrip(" \t\f")
        props[key] = rest.rstrip()
    return props


def _split_host_port(addr: str) -> tuple[str, str]:
    """'host:2888' -> ('host', '2888'); handles '[::1]:2888'."""
    if addr.startswith("["):
        end = addr.index("]")
        return addr[1:end], addr[end + 2 :]
    host, _sep, port = addr.rpartition(":")
    return host, port


class _ServerLine:
    """One ``server.N`` value: ``addr[|addr...][;[clientHost:]clientPort]``.

    Each addr is ``host:quorumPort:electionPort[:role]``.
    """

    def __init__(self, member_id: int, value: str):
        self.member_id = member_id
        quorum_part, sep, client_part = value.partition(";")
        self.client_part = client_part.strip() if sep else None
        self.addrs: list[tuple[str, str, str, str | None]] = []
        for addr in quorum_part.strip().split("|"):
            fields = addr.strip().split(":")
            if len(fields) not in (3, 4):
                raise ValueError(f"cannot parse server.{member_id}={value!r}")
            host, qport, eport = fields[:3]
            role = fields[3] if len(fields) == 4 else None
            self.addrs.append((host, qport, eport, role))

    @property
    def host(self) -> str:
        return self.addrs[0][0]

    @property
    def role(self) -> str:
        return self.addrs[0][3] or "participant"

    def ports(self) -> list[int]:
        out = []
        for _host, qport, eport, _role in self.addrs:
            out += [int(qport), int(eport)]
        if self.client_part:
            out.append(int(_split_host_port(self.client_part)[1]) if ":" in self.client_part else int(self.client_part))
        return out

    def render(self, ip: str) -> str:
        addrs = "|".join(
            ":".join([ip, qport, eport] + ([role] if role else [])) for _host, qport, eport, role in self.addrs
        )
        if self.client_part is None:
            return addrs
        # ";2181" means 0.0.0.0:2181. ZooKeeper refuses a config whose
        # clientPortAddress differs from the server line's client address, and
        # 0.0.0.0 would collide between members anyway, so pin it to the IP.
        port = _split_host_port(self.client_part)[1] if ":" in self.client_part else self.client_part
        return f"{addrs};{ip}:{port}"


# --- process hygiene --------------------------------------------------------

# Never route AdminServer requests through an http_proxy from the environment:
# no_proxy rarely covers 127.0.0.11 and friends.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

_LIVE: "weakref.WeakSet[Ensemble]" = weakref.WeakSet()
_LIVE_LOCK = threading.Lock()


@atexit.register
def _stop_all_at_exit() -> None:
    with _LIVE_LOCK:
        ensembles = list(_LIVE)
    for ens in ensembles:
        try:
            ens.stop()
        except Exception:  # pragma: no cover - best effort at interpreter exit
            pass


def _die_with_parent() -> None:  # runs in the child between fork and exec
    # If the Python process is SIGKILLed (atexit never runs), the kernel sends
    # SIGKILL to the JVM. Note: PDEATHSIG fires when the *thread* that forked
    # exits, so create ensembles from a long-lived thread (pytest's main one).
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


# --- the ensemble -----------------------------------------------------------


class EnsembleError(RuntimeError):
    pass


class _Member:
    def __init__(self, member_id: int, ip: str, root: pathlib.Path):
        self.id = member_id
        self.ip = ip
        self.root = root
        self.conf_dir = root / "conf"
        self.data_dir = root / "data"
        self.data_log_dir = root / "datalog"
        self.log_dir = root / "log"
        self.cfg_path = self.conf_dir / "zoo.cfg"
        self.proc: subprocess.Popen | None = None
        self.stdout_path = self.log_dir / "zookeeper.out"
        self.log_offset = 0  # chars of zookeeper.log written before the current run
        self.keystore: pathlib.Path | None = None  # tls=True: key and certificate, PEM

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Ensemble:
    """A real ZooKeeper ensemble on loopback, built from a rendered zoo.cfg."""

    def __init__(self, zoo_cfg_text: str, workdir: pathlib.Path, hosts: dict[str, str] | None = None,
                 tls: bool = False):
        self.workdir = pathlib.Path(workdir).resolve()
        self.tls = tls
        self.source = parse_properties(zoo_cfg_text)
        self.dropped: dict[str, str] = {}  # key -> reason
        self.last_cmd: list[str] | None = None

        servers = {
            int(k.split(".", 1)[1]): _ServerLine(int(k.split(".", 1)[1]), v)
            for k, v in self.source.items()
            if k.startswith("server.") and k.split(".", 1)[1].isdigit()
        }
        if not servers:
            raise ValueError("rendered zoo.cfg has no server.N lines")
        self._servers = dict(sorted(servers.items()))

        if self.source.get("admin.enableServer", "true").strip().lower() != "true":
            raise ValueError(
                "rendered zoo.cfg disables the AdminServer (admin.enableServer); "
                "this harness drives every member through it"
            )
        self.admin_port = int(self.source.get("admin.serverPort", DEFAULT_ADMIN_PORT))
        self.command_url = "/" + self.source.get("admin.commandURL", DEFAULT_COMMAND_URL).strip("/")

        hosts = dict(hosts or {})
        self._members: dict[int, _Member] = {}
        seen_ips: dict[str, int] = {}
        for sid, line in self._servers.items():
            ip = hosts.get(line.host, f"127.0.0.{10 + sid}")
            if not ipaddress.ip_address(ip).is_loopback:
                raise ValueError(f"server.{sid}: {ip} is not a loopback address")
            if ip in seen_ips:
                raise ValueError(f"server.{sid} and server.{seen_ips[ip]} both map to {ip}; their ports would collide")
            seen_ips[ip] = sid
            self._members[sid] = _Member(sid, ip, self.workdir / f"zk{sid}")

        self._metrics_provider_ok = self._metrics_provider_available()
        if tls:
            self._make_certificates()
        for m in self._members.values():
            self._prepare(m)

        self._stopped = False
        with _LIVE_LOCK:
            _LIVE.add(self)

    # -- config -------------------------------------------------------------

    def _metrics_provider_available(self) -> bool:
        cls = self.source.get("metricsProvider.className")
        if not cls:
            return True
        entry = cls.strip().replace(".", "/") + ".class"
        try:
            with zipfile.ZipFile(ZOOKEEPER_JAR) as jar:
                jar.getinfo(entry)
            return True
        except (KeyError, OSError, zipfile.BadZipFile):
            return False

    # -- TLS (tls=True) -------------------------------------------------

    def _make_certificates(self) -> None:
        """A CA, each member's keystore (key + certificate, PEM) and a client certificate."""
        from tests.tls_certs import CertificateAuthority

        self.tls_dir = self.workdir / "tls"
        self.tls_dir.mkdir(parents=True, exist_ok=True)
        self.ca = CertificateAuthority("zookeeper-test-ca")
        self.ca_path = self.tls_dir / "ca.crt"
        self.ca_path.write_bytes(self.ca.cert_pem)
        for sid, member in self._members.items():
            key_pem, cert_pem = self.ca.issue("member-%d" % sid, dns=[self._servers[sid].host], ips=[member.ip])
            member.keystore = self.tls_dir / ("member-%d.pem" % sid)
            member.keystore.write_bytes(key_pem + cert_pem)
        self.client_key_pem, self.client_cert_pem = self.ca.issue("test-client")
        (self.tls_dir / "client.key").write_bytes(self.client_key_pem)
        (self.tls_dir / "client.crt").write_bytes(self.client_cert_pem)

    def _tls_overrides(self, m: _Member) -> dict[str, str]:
        out = {}
        for key in self.source:
            if key in ("ssl.keyStore.location", "ssl.quorum.keyStore.location"):
                out[key] = str(m.keystore)
            elif key in ("ssl.trustStore.location", "ssl.quorum.trustStore.location"):
                out[key] = str(self.ca_path)
        if "secureClientPort" in self.source:
            out["secureClientPortAddress"] = m.ip
        return out

    def client_ssl_context(self):
        """An ssl.SSLContext that trusts the test CA and presents the test client certificate."""
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cafile=str(self.ca_path))
        context.load_cert_chain(str(self.tls_dir / "client.crt"), str(self.tls_dir / "client.key"))
        return context

    def _drop_reason(self, key: str) -> str | None:
        if self.tls and (key in _TLS_KEYS or key.startswith("ssl.")) and key not in ("admin.forceHttps", "admin.portUnification"):
            return None
        if key in _TLS_KEYS or key.startswith("ssl."):
            return _TLS_REASON
        if key.startswith("quorum.auth."):
            return _SASL_REASON
        if key == "dynamicConfigFile":
            return _DYNCFG_REASON
        if key.startswith("metricsProvider.") and not self._metrics_provider_ok:
            return (
                f"metrics provider {self.source['metricsProvider.className']} is not in the Debian "
                "zookeeper.jar (and its HTTP endpoint defaults to 0.0.0.0, which would collide)"
            )
        return None

    def render_member_config(self, member_id: int) -> str:
        """The zoo.cfg text member ``member_id`` runs with."""
        m = self._members[member_id]
        out = [
            "# Generated by tests/zookeeper_ensemble.py from the role's rendered zoo.cfg.",
            f"# Member {member_id} of a loopback test ensemble; its IP is {m.ip}.",
            "# Everything below is as rendered except the lines marked CHANGED/ADDED and",
            "# the settings listed as DROPPED at the end.",
        ]
        overrides = {
            # All members share one host. With quorumListenOnAllIPs=true each
            # member would bind its quorum/election ports on 0.0.0.0, so the
            # second member's bind of the same ports would fail with
            # EADDRINUSE. Binding only the member's own loopback IP lets every
            # member keep the rendered ports.
            "quorumListenOnAllIPs": "false",
            "dataDir": str(m.data_dir),
            "dataLogDir": str(m.data_log_dir),
            "admin.serverAddress": m.ip,
        }
        if "clientPort" in self.source:
            # ZooKeeper rejects clientPortAddress without clientPort.
            overrides["clientPortAddress"] = m.ip
        if self.tls:
            overrides.update(self._tls_overrides(m))

        written = set()
        dropped_here = []
        for key, value in self.source.items():
            reason = self._drop_reason(key)
            if reason:
                dropped_here.append((key, reason))
                continue
            if key in self._servers_keys():
                sid = int(key.split(".", 1)[1])
                new = self._servers[sid].render(self._members[sid].ip)
                out.append(f"# CHANGED: {key}={value}")
                out.append(f"{key}={new}")
            elif key in overrides:
                out.append(f"# CHANGED: {key}={value}")
                out.append(f"{key}={overrides[key]}")
            else:
                out.append(f"{key}={value}")
            written.add(key)
        for key, value in overrides.items():
            if key not in written:
                out.append("# ADDED for the loopback test ensemble")
                out.append(f"{key}={value}")
        for key, reason in dropped_here:
            self.dropped[key] = reason
            out.append(f"# DROPPED: {key}={self.source[key]}  ({reason})")
        return "\n".join(out) + "\n"

    def _servers_keys(self) -> set[str]:
        return {f"server.{sid}" for sid in self._servers}

    def _prepare(self, m: _Member) -> None:
        for d in (m.conf_dir, m.data_dir, m.data_log_dir, m.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        (m.data_dir / "myid").write_text(f"{m.id}\n")
        m.cfg_path.write_text(self.render_member_config(m.id))
        (m.conf_dir / "log4j.properties").write_text(
            "log4j.rootLogger=INFO, FILE\n"
            "log4j.appender.FILE=org.apache.log4j.FileAppender\n"
            f"log4j.appender.FILE.File={m.log_dir / 'zookeeper.log'}\n"
            "log4j.appender.FILE.Append=true\n"
            "log4j.appender.FILE.layout=org.apache.log4j.PatternLayout\n"
            "log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n\n"
        )

    # -- process control ---------------------------------------------------

    def java_command(self, member_id: int) -> list[str]:
        m = self._members[member_id]
        java = java_binary()
        if java is None or not ZOOKEEPER_JAR.is_file():
            raise EnsembleError(missing_reason() or "zookeeper not available")
        return [
            java,
            *JVM_FLAGS,
            f"-Dzookeeper.log.dir={m.log_dir}",
            f"-Dlog4j.configuration=file:{m.conf_dir / 'log4j.properties'}",
            "-cp",
            classpath(),
            MAIN_CLASS,
            str(m.cfg_path),
        ]

    def _check_ports_free(self, m: _Member) -> None:
        ports = set(self._servers[m.id].ports())
        ports.add(self.admin_port)
        if "clientPort" in self.source:
            ports.add(int(self.source["clientPort"]))
        if self.tls and "secureClientPort" in self.source:
            ports.add(int(self.source["secureClientPort"]))
        for port in sorted(ports):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                # Java sets SO_REUSEADDR too, so TIME_WAIT leftovers are fine.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind((m.ip, port))
                except OSError as e:
                    if e.errno == errno.EADDRINUSE:
                        raise EnsembleError(
                            f"member {m.id}: {m.ip}:{port} is already in use "
                            "(another process listening on it or on 0.0.0.0)"
                        ) from None
                    raise

    def _spawn(self, m: _Member) -> None:
        if m.alive():
            raise EnsembleError(f"member {m.id} is already running (pid {m.proc.pid})")
        self._check_ports_free(m)
        cmd = self.java_command(m.id)
        self.last_cmd = cmd
        try:
            m.log_offset = len((m.log_dir / "zookeeper.log").read_text(errors="replace"))
        except OSError:
            m.log_offset = 0
        out = open(m.stdout_path, "ab")
        try:
            m.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=m.root,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
                close_fds=True,
            )
        finally:
            out.close()
        self._stopped = False
        with _LIVE_LOCK:
            _LIVE.add(self)

    def _log_tail(self, m: _Member, lines: int = 25) -> str:
        chunks = []
        for p in (m.stdout_path, m.log_dir / "zookeeper.log"):
            try:
                text = p.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            chunks.append(f"--- {p} ---\n" + "\n".join(text))
        return "\n".join(chunks)

    @staticmethod
    def _admin_failed(m: _Member) -> bool:
        try:
            log = (m.log_dir / "zookeeper.log").read_text(errors="replace")
        except OSError:
            return False
        # Only look at the current run (restart appends to the same log).
        return "not starting JettyAdminServer" in log[m.log_offset :]

    def _wait_admin(self, ids: list[int], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(ids)
        delay = 0.05
        while pending:
            for sid in list(pending):
                m = self._members[sid]
                if not m.alive():
                    rc = m.proc.returncode if m.proc else None
                    raise EnsembleError(f"member {sid} exited (rc={rc}) before its AdminServer answered\n{self._log_tail(m)}")
                if self.answers(sid):
                    pending.remove(sid)
                elif self._admin_failed(m):
                    raise EnsembleError(
                        f"member {sid} is running without an AdminServer (Jetty failed to load)\n{self._log_tail(m)}"
                    )
            if not pending:
                return
            if time.monotonic() >= deadline:
                tails = "\n".join(self._log_tail(self._members[s]) for s in pending)
                raise EnsembleError(f"AdminServer of member(s) {pending} did not answer within {timeout}s\n{tails}")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def start(self, timeout: float = 60) -> None:
        """Start every member, then wait until each AdminServer answers.

        Members are launched together (sequential starts make FastLeaderElection
        back off). The AdminServer comes up before leader election finishes;
        use wait_for_leader() to wait for a quorum.
        """
        try:
            for m in self._members.values():
                if not m.alive():
                    self._spawn(m)
            self._wait_admin(list(self._members), timeout)
        except BaseException:
            self.stop()
            raise

    def kill(self, member_id: int) -> None:
        """SIGKILL member ``member_id``'s JVM and reap it."""
        m = self._members[member_id]
        if m.proc is None:
            return
        if m.proc.poll() is None:
            try:
                m.proc.send_signal(signal.SIGKILL)
            except ProcessLookupError:
                pass
        m.proc.wait()

    def restart(self, member_id: int, timeout: float = 60) -> None:
        """Kill (if running) and start member ``member_id`` again with the same data dir."""
        self.kill(member_id)
        self._spawn(self._members[member_id])
        self._wait_admin([member_id], timeout)

    def stop(self) -> None:
        """SIGKILL every member and reap it. Idempotent, never raises for dead members."""
        for m in self._members.values():
            if m.proc is not None and m.proc.poll() is None:
                try:
                    m.proc.send_signal(signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for m in self._members.values():
            if m.proc is not None:
                try:
                    m.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:  # pragma: no cover
                    pass
        self._stopped = True
        with _LIVE_LOCK:
            _LIVE.discard(self)

    def __enter__(self) -> "Ensemble":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __del__(self):  # last resort; atexit and the context manager are the real guards
        try:
            self.stop()
        except Exception:
            pass

    # -- queries -----------------------------------------------------------

    def members(self) -> list[int]:
        return sorted(self._members)

    def ip(self, member_id: int) -> str:
        return self._members[member_id].ip

    def config_path(self, member_id: int) -> pathlib.Path:
        return self._members[member_id].cfg_path

    def pid(self, member_id: int) -> int | None:
        m = self._members[member_id]
        return m.proc.pid if m.alive() else None

    def is_running(self, member_id: int) -> bool:
        return self._members[member_id].alive()

    def admin_url(self, member_id: int) -> str:
        return f"http://{self._members[member_id].ip}:{self.admin_port}"

    def command(self, member_id: int, name: str, timeout: float = 2.0) -> dict:
        """GET <admin_url>/commands/<name> and return the JSON body.

        Raises urllib.error.URLError / OSError when the member does not answer.
        HTTP error statuses still carry ZooKeeper's JSON, which is returned.
        """
        url = f"{self.admin_url(member_id)}{self.command_url}/{name}"
        try:
            with _OPENER.open(url, timeout=timeout) as resp:
                body = resp.read()
        except urllib.error.HTTPError as e:
            body = e.read()
        return json.loads(body.decode() or "{}")

    def mntr(self, member_id: int, timeout: float = 2.0) -> dict:
        return self.command(member_id, "mntr", timeout=timeout)

    def answers(self, member_id: int, timeout: float = 1.0) -> bool:
        """Whether member ``member_id``'s AdminServer answers HTTP at all."""
        try:
            self.command(member_id, "ruok", timeout=timeout)
            return True
        except (OSError, ValueError):
            return False

    def state(self, member_id: int) -> str | None:
        """mntr's server_state ('leader', 'follower', 'observer', ...) or None."""
        try:
            return self.mntr(member_id).get("server_state")
        except (OSError, ValueError):
            return None

    def leader(self) -> int | None:
        """The one live member whose mntr says server_state=leader, else None.

        Returns None while there is no leader or (transiently) more than one
        member claims to lead.
        """
        leaders = [sid for sid, m in self._members.items() if m.alive() and self.state(sid) == "leader"]
        return leaders[0] if len(leaders) == 1 else None

    def wait_for(self, predicate, timeout: float = 30, what: str = "condition"):
        """Poll ``predicate()`` with a short backoff until it returns a truthy value."""
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise EnsembleError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def wait_for_leader(self, timeout: float = 30, synced_followers: int | None = None, exclude=()) -> int:
        """Wait until exactly one member leads (not one of ``exclude``) and, if
        given, its mntr reports ``synced_followers``. Returns the leader's id."""

        def check():
            sid = self.leader()
            if sid is None or sid in exclude:
                return None
            if synced_followers is not None:
                try:
                    if self.mntr(sid).get("synced_followers") != synced_followers:
                        return None
                except (OSError, ValueError):
                    return None
            return sid

        return self.wait_for(
            check, timeout, f"a leader not in {list(exclude)} with synced_followers={synced_followers}"
        )
