"""The users Job's script in KRaft mode (issue #8): kafka-configs.sh and kafka-acls.sh through the
brokers (--bootstrap-server, --command-config), never ZooKeeper, run for real with stand-ins for
the two tools; and the ZooKeeper-mode script unchanged, byte for byte."""

import hashlib
import os
import pathlib
import re
import stat
import subprocess

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.streams.kafka.plugins.filter.kafka_users import kafka_users
from ansible_collections.streams.kafka.plugins.module_utils import kafka_users as util

READ = {"resource": {"type": "topic", "name": "orders"}, "operations": ["Read", "Describe"]}
SCRAM_USER = {"name": "orders-app", "authentication": "scram-sha-512", "password": "a-vault-password", "acls": [READ]}
TLS_USER = {"name": "audit", "authentication": "tls", "acls": []}
GONE = {"name": "gone", "authentication": "scram-sha-512", "password": "xxxxxxxxxx", "acls": [READ]}
BOOTSTRAP = "dev-kafka-brokers.ns.svc:9091"
CLIENT = ["--bootstrap-server", BOOTSTRAP, "--command-config"]

# Stand-ins for the certificate Secret: the shape matters (PEM blocks), not the key material.
CERT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUb3JkZXJz\nYXBwLWNlcnQ=\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\nAwEHBG0wawIBAQQgc2VjcmV0LWtleQ==\n-----END PRIVATE KEY-----\n"
CA = "-----BEGIN CERTIFICATE-----\nMIIBdjCCAR2gAwIBAgIUY2x1c3Rlci1jYQ==\n-----END CERTIFICATE-----\n"

# Records its arguments, one per line; copies the --command-config file (and its mode) and the
# content of an --add-config-file; answers a --delete-config of user "already-gone" as Kafka does
# for credentials that do not exist.
STUB = """#!/bin/bash
{ echo "$(basename "$0")"; printf '%s\\n' "$@"; echo "--"; } >> "$CALLS"
args=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --add-config-file) cat "$2" >> "$FILES"; stat -c '%a' "$2" >> "$FILES" ;;
    --command-config) cp "$2" "$CONFIG"; stat -c '%a' "$2" > "$CONFIG.mode" ;;
    --zookeeper|--authorizer-properties) echo "no ZooKeeper in KRaft mode" >&2; exit 2 ;;
  esac
  shift
done
if [[ " ${args[*]} " == *" already-gone --delete-config "* ]]; then
  echo "Error: org.apache.kafka.common.errors.ResourceNotFoundException: Attempt to delete a user credential that does not exist" >&2
  exit 1
fi
if [[ " ${args[*]} " == *" broken --delete-config "* ]]; then
  echo "Error while executing config command: org.apache.kafka.common.errors.TimeoutException" >&2
  exit 1
fi
"""


def client_dir(tmp_path, files=None):
    path = tmp_path / "kafka-client"
    path.mkdir(exist_ok=True)
    for name, content in (files or {"tls.crt": CERT, "tls.key": KEY, "ca.crt": CA}).items():
        (path / name).write_text(content)
    return str(path)


def run_script(tmp_path, script):
    home = tmp_path / "kafka"
    (home / "bin").mkdir(parents=True, exist_ok=True)
    for name in ("kafka-configs.sh", "kafka-acls.sh"):
        path = home / "bin" / name
        path.write_text(STUB)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, KAFKA_HOME=str(home), CALLS=str(tmp_path / "calls"), FILES=str(tmp_path / "files"),
               CONFIG=str(tmp_path / "client.properties"), TMPDIR=str(tmp_path))
    proc = subprocess.run(["/bin/bash", "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False)

    def read(name):
        return (tmp_path / name).read_text() if (tmp_path / name).exists() else ""
    return proc, read("calls"), read("files"), read("client.properties"), read("client.properties.mode").strip()


def invocations(calls):
    return [block.strip().splitlines() for block in calls.split("--\n") if block.strip()]


def java_properties(text):
    """key -> value of a java.util.Properties file, for what the script writes (no continuation
    lines): the escapes \\n and \\\\ decoded as Properties.load decodes them."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _sep, value = line.partition("=")
        out[key] = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)
    return out


# Kafka's DefaultSslEngineFactory.PemParser (KIP-651): what it takes as a PEM block.
def pem_blocks(name, value):
    pattern = ("-+BEGIN\\s*.*%s[^-]*-+\\s+" % name.replace(" ", "\\s+") + "(?:\\s*[^\\r\\n]*:[^\\r\\n]*[\\r\\n]+)*"
               + "([a-zA-Z0-9/+=\\s]*)" + "-+END\\s*.*%s[^-]*-+\\s+" % name.replace(" ", "\\s+"))
    return [re.sub(r"\s", "", block) for block in re.findall(pattern, value)]


def kraft_script(tmp_path, current, previous=None, scram_files=None):
    return util.job_script(current, previous or {}, scram_files or {}, None, False, "kraft", BOOTSTRAP,
                           client_dir(tmp_path))


def test_kraft_script_goes_through_the_brokers_and_never_zookeeper(tmp_path):
    password = r"pa ss'w\"o$rd\x"
    pw_file = tmp_path / "pw"
    pw_file.write_text(password + "\n")
    current = util.state([SCRAM_USER, TLS_USER])
    previous = util.state([dict(SCRAM_USER, acls=[{"resource": {"type": "topic", "name": "old"}, "operations": ["Write"]}]), GONE])
    script = kraft_script(tmp_path, current, previous, {"orders-app": str(pw_file)})
    assert "zookeeper" not in script.lower() and "--zk-tls-config-file" not in script
    assert password not in script and KEY.splitlines()[1] not in script
    proc, calls, files, _config, _mode = run_script(tmp_path, script)
    assert proc.returncode == 0, proc.stderr
    assert password not in calls and password not in proc.stdout + proc.stderr
    calls_ = invocations(calls)
    # every call: the brokers' replication listener and the client config file
    for call in calls_:
        assert call[1:4] == CLIENT and call[4].endswith("/client.properties"), call
    assert calls_[0][0] == "kafka-configs.sh" and calls_[0][5:] == [
        "--alter", "--entity-type", "users", "--entity-name", "orders-app", "--add-config-file", calls_[0][-1]]
    # the password only in the --add-config-file file (mode 600), in the format kafka-configs.sh parses
    lines = files.splitlines()
    assert lines[0] == "SCRAM-SHA-512=iterations=4096,password=" + password.replace("\\", "\\\\")
    assert lines[1] == "600"
    assert java_properties(files.splitlines()[0])["SCRAM-SHA-512"] == "iterations=4096,password=" + password
    # the removed user loses its credentials; the removed ACLs go before the declared ones are added
    assert calls_[1] == ["kafka-configs.sh"] + CLIENT + [calls_[1][4], "--alter", "--entity-type", "users",
                                                         "--entity-name", "gone", "--delete-config", "SCRAM-SHA-512"]
    removes = [call for call in calls_ if "--remove" in call]
    adds = [call for call in calls_ if "--add" in call]
    assert len(removes) == 2 and len(adds) == 1
    assert all(call[0] == "kafka-acls.sh" and call[5:7] == ["--remove", "--force"] for call in removes)
    assert "old" in removes[0] and "User:gone" in removes[1]
    assert calls_.index(removes[-1]) < calls_.index(adds[0])
    assert adds[0][5:] == ["--add", "--allow-principal", "User:orders-app", "--allow-host", "*", "--operation", "Read",
                           "--operation", "Describe", "--topic", "orders", "--resource-pattern-type", "literal"]
    # the work directory (client config with the key, password files) is gone
    work = pathlib.Path(calls_[0][4]).parent
    assert work.name.startswith("users.") and not work.exists()


def test_kraft_client_config_is_mutual_tls_with_the_brokers_certificate(tmp_path):
    script = kraft_script(tmp_path, util.state([TLS_USER], [{"name": "dev-exporter", "acls": [READ]}]))
    proc, _calls, _files, config, mode = run_script(tmp_path, script)
    assert proc.returncode == 0, proc.stderr
    assert mode == "600"
    props = java_properties(config)
    assert props["security.protocol"] == "SSL"
    assert props["ssl.keystore.type"] == "PEM" and props["ssl.truststore.type"] == "PEM"
    assert props["ssl.truststore.location"] == client_dir(tmp_path) + "/ca.crt"
    # the key and certificate inline (a PEM key store file would need an encrypted key), as Kafka parses them
    assert "ssl.keystore.location" not in props and "ssl.key.password" not in props
    assert props["ssl.keystore.key"] == KEY and props["ssl.keystore.certificate.chain"] == CERT
    assert pem_blocks("PRIVATE KEY", props["ssl.keystore.key"]) == [re.sub(r"\s", "", KEY.split("-----")[2])]
    assert pem_blocks("CERTIFICATE", props["ssl.keystore.certificate.chain"]) == [re.sub(r"\s", "", CERT.split("-----")[2])]
    # one line per setting: nothing of the key outside its value
    assert len([line for line in config.splitlines() if line]) == 6


def test_kraft_client_config_takes_crlf_and_a_last_line_without_newline(tmp_path):
    files = {"tls.crt": CERT.replace("\n", "\r\n"), "tls.key": KEY.rstrip("\n"), "ca.crt": CA}
    script = util.job_script(util.state([dict(TLS_USER, acls=[READ])]), {}, {}, None, False, "kraft", BOOTSTRAP,
                             client_dir(tmp_path, files))
    proc, _calls, _files, config, _mode = run_script(tmp_path, script)
    assert proc.returncode == 0, proc.stderr
    props = java_properties(config)
    assert props["ssl.keystore.certificate.chain"] == CERT and props["ssl.keystore.key"] == KEY


@pytest.mark.parametrize("missing", ["tls.crt", "tls.key", "ca.crt"])
def test_kraft_script_refuses_a_missing_certificate_file(tmp_path, missing):
    files = {"tls.crt": CERT, "tls.key": KEY, "ca.crt": CA}
    files[missing] = ""
    directory = client_dir(tmp_path, files)
    script = util.job_script(util.state([TLS_USER], [{"name": "dev-exporter", "acls": [READ]}]), {}, {}, None, False,
                             "kraft", BOOTSTRAP, directory)
    proc, calls, _files, _config, _mode = run_script(tmp_path, script)
    assert proc.returncode != 0
    assert "the users Job has no %s/%s" % (directory, missing) in proc.stderr
    assert calls == ""


def test_kraft_removal_of_credentials_already_gone_is_not_an_error(tmp_path):
    previous = util.state([dict(GONE, name="already-gone", acls=[]), dict(GONE, acls=[])])
    script = kraft_script(tmp_path, util.state([]), previous)
    proc, calls, _files, _config, _mode = run_script(tmp_path, script)
    assert proc.returncode == 0, proc.stderr
    assert "user already-gone has no SCRAM-SHA-512 credentials" in proc.stdout
    # and the next removal still ran
    assert [call[-3] for call in invocations(calls)] == ["already-gone", "gone"]


def test_kraft_removal_fails_on_other_errors(tmp_path):
    previous = util.state([dict(GONE, name="broken", acls=[]), dict(GONE, acls=[])])
    script = kraft_script(tmp_path, util.state([]), previous)
    proc, calls, _files, _config, _mode = run_script(tmp_path, script)
    assert proc.returncode != 0 and "TimeoutException" in proc.stderr
    assert [call[-3] for call in invocations(calls)] == ["broken"]


def test_kraft_script_refuses_a_multi_line_password(tmp_path):
    pw_file = tmp_path / "pw"
    pw_file.write_text("one\ntwo\n")
    script = kraft_script(tmp_path, util.state([SCRAM_USER]), None, {"orders-app": str(pw_file)})
    proc, calls, _files, _config, _mode = run_script(tmp_path, script)
    assert proc.returncode != 0 and "more than one line" in proc.stderr
    assert "kafka-configs.sh" not in calls and "two" not in proc.stderr


def test_kraft_script_is_valid_bash(tmp_path):
    script = kraft_script(tmp_path, util.state([SCRAM_USER, TLS_USER]), util.state([GONE]),
                          {"orders-app": "/opt/streams/users/0/password"})
    proc = subprocess.run(["/bin/bash", "-n"], input=script, capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr
    broken = subprocess.run(["/bin/bash", "-n"], input=script.replace("done <", "<"), capture_output=True, text=True,
                            timeout=30, check=False)
    assert broken.returncode != 0  # the check itself can fail


def test_job_script_refuses_an_unknown_mode_or_kraft_without_brokers():
    with pytest.raises(ValueError, match="metadata_mode='zk' is not valid: use zookeeper or kraft"):
        util.job_script(util.state([]), {}, {}, "zk:2181", False, "zk")
    with pytest.raises(ValueError, match="metadata_mode='kraft' needs bootstrap_server"):
        util.job_script(util.state([]), {}, {}, None, False, "kraft")


# -- the filter ---------------------------------------------------------------

def test_filter_kraft_mode_script_uses_the_brokers_and_the_mounted_certificate():
    out = kafka_users([SCRAM_USER, TLS_USER], "dev", None, None, False, {"exporter": [READ]}, None, "kraft", BOOTSTRAP)
    assert out["problems"] == [] and out["scram"] == ["orders-app"]
    script = out["script"]
    assert "bootstrap='%s'" % BOOTSTRAP in script and "client_dir='/opt/streams/kafka-client'" in script
    assert "--command-config" in script and "zookeeper" not in script.lower()
    assert "scram 'orders-app' '/opt/streams/users/0/password'" in script
    assert "a-vault-password" not in repr(out)
    assert "acls --add '--allow-principal' 'User:dev-exporter'" in script
    # a ZooKeeper address has no say in KRaft mode; without the brokers' address there is no script
    assert kafka_users([TLS_USER], "dev", None, "zk:2181", True, None, None, "kraft")["script"] == ""
    with pytest.raises(AnsibleFilterError, match="streams_metadata_mode='zk' is not valid: use zookeeper or kraft"):
        kafka_users([TLS_USER], "dev", None, None, False, None, None, "zk")


def test_filter_zookeeper_mode_is_the_default_and_ignores_the_brokers_address():
    default = kafka_users([SCRAM_USER], "dev", None, "zk:2181/dev", True)["script"]
    assert default == kafka_users([SCRAM_USER], "dev", None, "zk:2181/dev", True, None, None, "zookeeper", BOOTSTRAP)["script"]
    assert "--zookeeper \"$zk\"" in default and "--bootstrap-server" not in default


# The ZooKeeper-mode script of before KRaft, hashed: its text is what an upgraded collection's users
# Job runs, and must not change (regenerate only for a deliberate change of the ZooKeeper path).
ZOOKEEPER_SCRIPTS = {
    "plain": "63bb041948611b60fa78095cd2167c9c52c94ff77f3746748074b052dd6fa466",
    "tls": "05ce45792cfb8573018512fed75fe1ee5cec300069a8a8475c5123643f86028f",
}


@pytest.mark.parametrize("variant", sorted(ZOOKEEPER_SCRIPTS))
def test_zookeeper_mode_script_is_unchanged(variant):
    current = util.state([SCRAM_USER, TLS_USER], [{"name": "dev-exporter", "acls": [READ]}])
    previous = util.state([GONE])
    script = util.job_script(current, previous, {"orders-app": "/opt/streams/users/0/password"}, "zk-0:2181,zk-1:2181/dev",
                             variant == "tls")
    assert hashlib.sha256(script.encode()).hexdigest() == ZOOKEEPER_SCRIPTS[variant]
