"""Tests for tests/zookeeper_ensemble.py.

The ensemble test starts a REAL 3-member ZooKeeper ensemble (Debian package
``zookeeper``) on 127.0.0.11-13. It deliberately FAILS, not skips, when the
package is missing: ``make test`` installs it, so a missing package is a broken
test environment, not an optional feature.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import time
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from zookeeper_ensemble import (  # noqa: E402
    Ensemble,
    missing_reason,
    parse_properties,
    zookeeper_available,
)

# What the role renders for a 3-pod StatefulSet "zk-zookeeper" in namespace
# "kafka" behind the headless service "zk-zookeeper-nodes".
SAMPLE_ZOO_CFG = """\
# Rendered by streams.kafka
tickTime=2000
initLimit=10
syncLimit=5
dataDir=/var/lib/zookeeper/data
clientPort=2181
maxClientCnxns=60
autopurge.snapRetainCount=3
autopurge.purgeInterval=24
admin.enableServer=true
admin.serverPort=8080
4lw.commands.whitelist=mntr,ruok,srvr,stat
quorumListenOnAllIPs=true
server.1=zk-zookeeper-0.zk-zookeeper-nodes.kafka.svc:2888:3888;2181
server.2=zk-zookeeper-1.zk-zookeeper-nodes.kafka.svc:2888:3888;2181
server.3=zk-zookeeper-2.zk-zookeeper-nodes.kafka.svc:2888:3888;2181
"""

# No direct proxy use: 127.0.0.x must never go through an http_proxy.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get_json(url: str) -> dict:
    with _OPENER.open(url, timeout=2) as resp:
        assert resp.status == 200, url
        return json.loads(resp.read())


def require_zookeeper() -> None:
    if not zookeeper_available():
        pytest.fail(
            "ZooKeeper is required for this test and is not installed: "
            f"{missing_reason()}",
            pytrace=False,
        )


# --- config rewriting (no JVM) ---------------------------------------------


def test_member_config_keeps_rendered_settings_and_pins_member_ip(tmp_path):
    ens = Ensemble(SAMPLE_ZOO_CFG, tmp_path)
    assert ens.members() == [1, 2, 3]
    assert ens.admin_url(1) == "http://127.0.0.11:8080"
    assert ens.admin_url(3) == "http://127.0.0.13:8080"

    cfg = parse_properties(ens.config_path(2).read_text())
    assert cfg["server.1"] == "127.0.0.11:2888:3888;127.0.0.11:2181"
    assert cfg["server.2"] == "127.0.0.12:2888:3888;127.0.0.12:2181"
    assert cfg["server.3"] == "127.0.0.13:2888:3888;127.0.0.13:2181"
    assert cfg["quorumListenOnAllIPs"] == "false"
    assert cfg["clientPortAddress"] == "127.0.0.12"
    assert cfg["admin.serverAddress"] == "127.0.0.12"
    assert cfg["dataDir"] == str(tmp_path.resolve() / "zk2" / "data")
    assert cfg["dataLogDir"] == str(tmp_path.resolve() / "zk2" / "datalog")
    assert (tmp_path / "zk2" / "data" / "myid").read_text().strip() == "2"
    # untouched
    for key in ("tickTime", "initLimit", "syncLimit", "clientPort", "admin.serverPort",
                "4lw.commands.whitelist", "autopurge.purgeInterval", "maxClientCnxns"):
        assert cfg[key] == parse_properties(SAMPLE_ZOO_CFG)[key], key
    assert ens.dropped == {}


def test_server_lines_without_client_part_and_explicit_hosts(tmp_path):
    text = SAMPLE_ZOO_CFG.replace(";2181", "")
    hosts = {f"zk-zookeeper-{i}.zk-zookeeper-nodes.kafka.svc": f"127.0.1.{i + 1}" for i in range(3)}
    ens = Ensemble(text, tmp_path, hosts=hosts)
    cfg = parse_properties(ens.config_path(1).read_text())
    assert cfg["server.1"] == "127.0.1.1:2888:3888"
    assert cfg["server.3"] == "127.0.1.3:2888:3888"
    assert cfg["clientPortAddress"] == "127.0.1.1"
    assert ens.admin_url(2) == "http://127.0.1.2:8080"


def test_tls_settings_are_dropped_with_a_reason(tmp_path):
    text = SAMPLE_ZOO_CFG + (
        "secureClientPort=2281\n"
        "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n"
        "sslQuorum=true\n"
        "ssl.keyStore.location=/etc/zookeeper/tls/keystore.jks\n"
        "ssl.quorum.trustStore.location=/etc/zookeeper/tls/truststore.jks\n"
    )
    ens = Ensemble(text, tmp_path)
    cfg = parse_properties(ens.config_path(1).read_text())
    for key in ("secureClientPort", "sslQuorum", "ssl.keyStore.location", "ssl.quorum.trustStore.location"):
        assert key not in cfg
        assert "TLS" in ens.dropped[key]
    assert cfg["serverCnxnFactory"] == "org.apache.zookeeper.server.NettyServerCnxnFactory"
    assert "# DROPPED: secureClientPort=2281" in ens.config_path(1).read_text()


def test_rejects_config_without_admin_server(tmp_path):
    with pytest.raises(ValueError, match="AdminServer"):
        Ensemble(SAMPLE_ZOO_CFG.replace("admin.enableServer=true", "admin.enableServer=false"), tmp_path)


# --- the real ensemble -------------------------------------------------------


def test_three_member_ensemble_elects_fails_over_and_rejoins(tmp_path):
    require_zookeeper()
    t0 = time.monotonic()
    pids: list[int] = []

    with Ensemble(SAMPLE_ZOO_CFG, tmp_path) as ens:
        ens.start(timeout=30)
        pids += [ens.pid(m) for m in ens.members()]

        # exactly one leader, two synced followers
        leader = ens.wait_for_leader(timeout=20, synced_followers=2)
        states = {m: ens.state(m) for m in ens.members()}
        assert sorted(states.values()) == ["follower", "follower", "leader"], states
        mntr = get_json(ens.admin_url(leader) + "/commands/mntr")
        assert mntr["server_state"] == "leader"
        assert mntr["synced_followers"] == 2

        # kill the leader: it stops answering, another member takes over
        ens.kill(leader)
        assert not ens.is_running(leader)
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            get_json(ens.admin_url(leader) + "/commands/mntr")
        new_leader = ens.wait_for_leader(timeout=20, synced_followers=1, exclude=(leader,))
        assert new_leader != leader
        assert get_json(ens.admin_url(new_leader) + "/commands/mntr")["synced_followers"] == 1

        # the old leader comes back as a follower
        ens.restart(leader, timeout=30)
        pids.append(ens.pid(leader))
        ens.wait_for(
            lambda: ens.state(leader) == "follower"
            and ens.mntr(new_leader).get("synced_followers") == 2,
            timeout=20,
            what=f"member {leader} to rejoin as follower of {new_leader}",
        )
        assert get_json(ens.admin_url(leader) + "/commands/mntr")["server_state"] == "follower"
        assert ens.leader() == new_leader

    # stop() killed and reaped every JVM: no process (not even a zombie) is left
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert time.monotonic() - t0 < 60
