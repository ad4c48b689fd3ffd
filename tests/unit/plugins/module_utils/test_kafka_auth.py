"""Listener authentication and kafka_users: what is refused, the ACL arguments, and the users Job's
script, run for real with stand-ins for kafka-configs.sh and kafka-acls.sh."""

import os
import pathlib
import stat
import subprocess

import pytest

from ansible_collections.streams.kafka.plugins.filter.kafka_users import kafka_users
from ansible_collections.streams.kafka.plugins.module_utils import kafka_listeners
from ansible_collections.streams.kafka.plugins.module_utils import kafka_users as util

PLAIN = {"name": "plain", "port": 9092, "type": "internal", "tls": False}
TLS = {"name": "tls", "port": 9093, "type": "internal", "tls": True}
READ = {"resource": {"type": "topic", "name": "orders"}, "operations": ["Read", "Describe"]}
SCRAM_USER = {"name": "orders-app", "authentication": "scram-sha-512", "password": "a-vault-password", "acls": [READ]}
TLS_USER = {"name": "audit", "authentication": "tls", "acls": []}


# -- listeners -------------------------------------------------------------

@pytest.mark.parametrize("listener, protocol", [
    (PLAIN, "PLAINTEXT"),
    (dict(PLAIN, authentication="none"), "PLAINTEXT"),
    (TLS, "SSL"),
    (dict(TLS, authentication="tls"), "SSL"),
    (dict(TLS, authentication="scram-sha-512"), "SASL_SSL"),
])
def test_listener_protocols(listener, protocol):
    assert kafka_listeners.problems([listener], "dev", 3) == []
    normalized = kafka_listeners.normalize([listener], "dev", "kafka", 3)[1]
    assert normalized["protocol"] == protocol
    assert normalized["authentication"] == listener.get("authentication", "none")


@pytest.mark.parametrize("listener, message", [
    (dict(PLAIN, authentication="scram"),
     "kafka_listeners[0].authentication='scram' (listener plain) is not valid: use one of none, tls, scram-sha-512"),
    (dict(PLAIN, authentication="tls"),
     "kafka_listeners[0].authentication='tls' (listener plain) is not valid with tls: false"),
    (dict(PLAIN, authentication="scram-sha-512"),
     "kafka_listeners[0].authentication='scram-sha-512' (listener plain) is not valid with tls: false: the role "
     "refuses SCRAM over a plaintext listener (SASL_PLAINTEXT)"),
    (dict(TLS, authentication=True), "kafka_listeners[0].authentication=True (listener tls) is not valid"),
])
def test_listener_authentication_refusals_name_the_field_value_and_choices(listener, message):
    found = kafka_listeners.problems([listener], "dev", 3)
    assert message in "\n".join(found), found


# -- users -----------------------------------------------------------------

def test_valid_users_have_no_problems():
    assert util.problems([SCRAM_USER, TLS_USER, {"name": "billing", "authentication": "scram-sha-512",
                                                 "password_secret": {"name": "billing-login", "key": "pw"}}], "dev") == []
    assert util.problems([], "dev") == []


@pytest.mark.parametrize("users, message", [
    ("alice", "kafka_users must be a list of users"),
    ([dict(SCRAM_USER, password=None)], "kafka_users[0] (orders-app) authentication=scram-sha-512 needs exactly one "
                                        "password source, password_secret ({name: <Secret>, key: <key>}, an existing "
                                        "Secret) or password (from Ansible Vault), and it has neither"),
    ([dict(SCRAM_USER, password_secret={"name": "s", "key": "k"})], "and it has both"),
    ([dict(TLS_USER, password="a-vault-password")], "kafka_users[0] (audit) authentication=tls takes no password_secret or password"),
    ([SCRAM_USER, dict(SCRAM_USER)], "kafka_users has the name orders-app 2 times (entries 0, 1): user names must be unique"),
    ([dict(TLS_USER, name="dev-kafka")], "kafka_users[0] (dev-kafka) name='dev-kafka' is not valid: it is an identity of the role itself"),
    ([dict(TLS_USER, name="dev-kafka-admin")], "it is an identity of the role itself"),
    ([dict(TLS_USER, name="Alice")], "kafka_users[0] (Alice) name='Alice' is not valid: use lower-case letters"),
    ([dict(TLS_USER, authentication="plain")], "kafka_users[0] (audit) authentication='plain' is not valid: use tls"),
    ([dict(SCRAM_USER, password="short")], "kafka_users[0] (orders-app) password is not valid (its value is not shown)"),
    ([dict(SCRAM_USER, password=None, password_secret={"name": "dev-user-x", "key": "password"})],
     "password_secret.name='dev-user-x' is not valid: Secrets named dev-user-* are the role's own"),
    ([dict(SCRAM_USER, password=None, password_secret="secret")], "password_secret='secret' is not valid"),
    ([dict(TLS_USER, acls=[{"resource": {"type": "topic", "name": "orders"}, "operations": ["ClusterAction"]}])],
     "kafka_users[0] (audit) acls[0].operations has ClusterAction, which a topic resource does not take"),
    ([dict(TLS_USER, acls=[{"resource": {"type": "queue", "name": "orders"}, "operations": ["Read"]}])],
     "acls[0].resource.type='queue' is not valid: use one of cluster, group, topic, transactional_id"),
    ([dict(TLS_USER, acls=[{"resource": {"type": "topic", "name": "a b"}, "operations": ["Read"]}])],
     "acls[0].resource.name='a b' is not valid"),
    ([dict(TLS_USER, acls=[{"resource": {"type": "cluster", "name": "x"}, "operations": ["Describe"]}])],
     "acls[0].resource.name='x' is not valid: a cluster resource has no name"),
    ([dict(TLS_USER, acls=[{"resource": {"type": "topic", "name": "a", "pattern_type": "regex"}, "operations": ["Read"]}])],
     "acls[0].resource.pattern_type='regex' is not valid"),
    ([dict(TLS_USER, acls=[dict(READ, type="permit")])], "acls[0].type='permit' is not valid: use allow or deny"),
    ([dict(TLS_USER, acls=[dict(READ, host="example.com")])], "acls[0].host='example.com' is not valid"),
    ([dict(TLS_USER, acls=[dict(READ, operations=[])])], "acls[0].operations=[] is not valid"),
    ([dict(TLS_USER, acls="all")], "acls='all' is not valid"),
    ([dict(TLS_USER, role="admin")], "kafka_users[0] (audit) has role; a user's fields are"),
])
def test_user_refusals_name_the_entry_and_field(users, message):
    found = util.problems(users, "dev")
    assert message in "\n".join(found), found


def test_no_message_shows_a_password():
    secret = "n0t-to-be-shown\nsecond line"
    found = util.problems([dict(SCRAM_USER, password=secret, name="Bad Name", acls=[{"resource": "x"}])], "dev")
    assert found and secret not in "\n".join(found) and "n0t-to-be-shown" not in "\n".join(found)


def test_acl_arguments():
    acls = [READ,
            {"resource": {"type": "group", "name": "orders-", "pattern_type": "prefix"}, "operations": ["Read"]},
            {"resource": {"type": "cluster"}, "operations": ["IdempotentWrite"], "type": "deny", "host": "10.0.0.1"},
            {"resource": {"type": "transactional_id", "name": "*"}, "operations": ["Write"]}]
    assert util.acl_args("alice", acls) == [
        ["--allow-principal", "User:alice", "--allow-host", "*", "--operation", "Read", "--operation", "Describe",
         "--topic", "orders", "--resource-pattern-type", "literal"],
        ["--allow-principal", "User:alice", "--allow-host", "*", "--operation", "Read", "--group", "orders-",
         "--resource-pattern-type", "prefixed"],
        ["--deny-principal", "User:alice", "--deny-host", "10.0.0.1", "--operation", "IdempotentWrite", "--cluster"],
        ["--allow-principal", "User:alice", "--allow-host", "*", "--operation", "Write", "--transactional-id", "*",
         "--resource-pattern-type", "literal"],
    ]


def test_filter_state_and_names():
    out = kafka_users([SCRAM_USER, TLS_USER], "dev")
    assert out["problems"] == [] and out["scram"] == ["orders-app"] and out["tls"] == ["audit"] and out["vault"] == ["orders-app"]
    assert out["state"]["users"] == {"orders-app": "scram-sha-512", "audit": "tls"}
    assert "a-vault-password" not in repr(out)
    assert out["script"] == ""  # no ZooKeeper address, no script
    bad = kafka_users([dict(TLS_USER, name="")], "dev", None, "zk:2181")
    assert bad["problems"] and bad["script"] == "" and bad["state"] == {"users": {}, "acls": []}


# -- the Job's script, run ----------------------------------------------------

STUB = """#!/bin/bash
# Records its arguments, one per line, and the content of an --add-config-file.
{ echo "$(basename "$0")"; printf '%s\\n' "$@"; echo "--"; } >> "$CALLS"
while [ $# -gt 0 ]; do
  if [ "$1" = "--add-config-file" ]; then cat "$2" >> "$FILES"; stat -c '%a' "$2" >> "$FILES"; fi
  shift
done
"""


def run_script(tmp_path, script):
    home = tmp_path / "kafka"
    (home / "bin").mkdir(parents=True)
    for name in ("kafka-configs.sh", "kafka-acls.sh"):
        path = home / "bin" / name
        path.write_text(STUB)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, KAFKA_HOME=str(home), CALLS=str(tmp_path / "calls"), FILES=str(tmp_path / "files"), TMPDIR=str(tmp_path))
    proc = subprocess.run(["/bin/bash", "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False)
    calls = (tmp_path / "calls").read_text() if (tmp_path / "calls").exists() else ""
    files = (tmp_path / "files").read_text() if (tmp_path / "files").exists() else ""
    return proc, calls, files


def password_file(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)
    return str(path)


def test_script_writes_scram_credentials_from_the_mounted_file_never_on_a_command_line(tmp_path):
    password = r"pa ss'w\"o$rd\x"
    users = [SCRAM_USER, TLS_USER]
    current = util.state(users)
    previous = util.state([dict(SCRAM_USER, acls=[{"resource": {"type": "topic", "name": "old"}, "operations": ["Write"]}]),
                           {"name": "gone", "authentication": "scram-sha-512", "password": "xxxxxxxxxx",
                            "acls": [READ]}])
    script = util.job_script(current, previous, {"orders-app": password_file(tmp_path, "pw", password + "\n")},
                             "zk-0:2181,zk-1:2181/dev", False)
    assert password not in script
    proc, calls, files = run_script(tmp_path, script)
    assert proc.returncode == 0, proc.stderr
    assert password not in calls
    # the properties file kafka-configs.sh read: the password, backslashes escaped for java.util.Properties, mode 600
    lines = files.splitlines()
    assert lines[0] == "SCRAM-SHA-512=iterations=4096,password=" + password.replace("\\", "\\\\")
    assert lines[1] == "600"
    invocations = [block.strip().splitlines() for block in calls.split("--\n") if block.strip()]
    assert invocations[0][:9] == ["kafka-configs.sh", "--zookeeper", "zk-0:2181,zk-1:2181/dev", "--alter", "--entity-type",
                                  "users", "--entity-name", "orders-app", "--add-config-file"]
    # the removed user loses its credentials, the removed ACLs go before the declared ones are added
    assert invocations[1] == ["kafka-configs.sh", "--zookeeper", "zk-0:2181,zk-1:2181/dev", "--alter", "--entity-type",
                              "users", "--entity-name", "gone", "--delete-config", "SCRAM-SHA-512"]
    removes = [call for call in invocations if "--remove" in call]
    adds = [call for call in invocations if "--add" in call]
    assert len(removes) == 2 and len(adds) == 1
    assert removes[0][:4] == ["kafka-acls.sh", "--authorizer-properties", "zookeeper.connect=zk-0:2181,zk-1:2181/dev", "--remove"]
    assert "old" in removes[0] and "User:gone" in removes[1]
    assert invocations.index(removes[-1]) < invocations.index(adds[0])
    assert adds[0][4:] == ["--allow-principal", "User:orders-app", "--allow-host", "*", "--operation", "Read",
                           "--operation", "Describe", "--topic", "orders", "--resource-pattern-type", "literal"]
    # the work directory is gone
    assert not list(pathlib.Path(tmp_path).glob("users.*"))


def test_script_uses_the_zookeeper_tls_config(tmp_path):
    script = util.job_script(util.state([TLS_USER]), {}, {}, "zk:2182/dev", True)
    assert "--zk-tls-config-file" in script and "zookeeper.ssl.client.enable=true" in script
    assert "zookeeper.ssl.truststore.location=/opt/streams/cluster-ca/ca.crt" in script
    assert "zookeeper.ssl.keystore.type=PEM" in script


def test_script_refuses_a_multi_line_password(tmp_path):
    script = util.job_script(util.state([SCRAM_USER]), {}, {"orders-app": password_file(tmp_path, "pw", "one\ntwo\n")},
                             "zk:2181", False)
    proc, calls, _files = run_script(tmp_path, script)
    assert proc.returncode != 0 and "more than one line" in proc.stderr
    assert "kafka-configs.sh" not in calls and "two" not in proc.stderr


def test_component_acls_are_checked_and_applied_as_the_components_identities():
    assert util.component_problems({"bridge": [READ]}, "dev") == []
    found = "\n".join(util.component_problems({"web": [], "bridge": [dict(READ, operations=["Fly"])]}, "dev"))
    assert "kafka_component_acls.web is not a component: use connect, mirrormaker, bridge or exporter" in found
    assert "kafka_component_acls.bridge[0].operations has Fly" in found
    out = kafka_users([TLS_USER], "dev", None, "zk:2181", False, {"exporter": [{"resource": {"type": "cluster"},
                                                                               "operations": ["Describe"]}]})
    assert out["state"]["users"] == {"audit": "tls", "dev-exporter": "tls"}
    assert ["--allow-principal", "User:dev-exporter", "--allow-host", "*", "--operation", "Describe", "--cluster"] in out["state"]["acls"]
    assert "acls --add '--allow-principal' 'User:dev-exporter'" in out["script"]
    # a component no longer deployed loses its ACLs, and no SCRAM credentials are deleted for it
    gone = util.job_script(util.state([TLS_USER]), out["state"], {}, "zk:2181", False)
    assert "acls --remove --force '--allow-principal' 'User:dev-exporter'" in gone and "--delete-config" not in gone
    assert kafka_users([], "dev", None, None, False, {"web": []})["problems"]
