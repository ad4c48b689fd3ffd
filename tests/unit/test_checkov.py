"""checkov's Kubernetes checks on the rendered default deployment.

The local inventory's host (what `make run` renders: every component, metrics on, monitoring),
from the shared render of tests/security_render.py, is what checkov (from PyPI, in .venv-checkov: `make checkov-venv`)
checks it. Every failed check must be in SKIPPED, and SKIPPED must be exactly the checks the
README's "Security checks" section lists with their reasons. A skipped check that no longer
fails must leave the list.
"""

import json
import re
import subprocess

import pytest

from tests.helpers import REPO
from tests.security_render import render

CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"

# The checks the collection does not follow; README.md ("Security checks") gives the reasons.
SKIPPED = {"CKV_K8S_11", "CKV_K8S_15", "CKV_K8S_40", "CKV_K8S_43"}


def readme_skips():
    text = (REPO / "README.md").read_text()
    match = re.search(r"^## Security checks\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, "README.md has no '## Security checks' section"
    return re.findall(r"^\| `(CKV[0-9A-Z_]+)` \|", match.group(1), re.M)


@pytest.fixture(scope="module", name="checkov_report")
def checkov_report_fixture(tmp_path_factory):
    assert CHECKOV.exists(), "checkov is not installed: run `make checkov-venv` (requirements-checkov.txt)"
    tmp = tmp_path_factory.mktemp("checkov")
    rendered = render()
    manifests = rendered.directory("dev")
    assert "dev" not in {host for _task, host, _msg in rendered.run.failures()}, rendered.run.describe()
    assert len(list(manifests.glob("*.yaml"))) >= 6, rendered.run.describe()
    proc = subprocess.run([str(CHECKOV), "--framework", "kubernetes", "--directory", str(manifests), "--output", "json",
                           "--quiet", "--compact", "--skip-download"],
                          capture_output=True, text=True, timeout=600, check=False, cwd=tmp)
    assert proc.stdout.strip(), proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    return report if isinstance(report, list) else [report]


def test_checkov_checked_the_rendered_objects(checkov_report):
    summary = checkov_report[0]["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= 20 and summary["passed"] >= 100, summary


def test_no_failed_check_outside_the_skip_list(checkov_report):
    failed = {}
    for report in checkov_report:
        for check in report["results"]["failed_checks"]:
            failed.setdefault(check["check_id"], []).append("%s (%s)" % (check["resource"], check["check_name"]))
    unexpected = {check: where for check, where in failed.items() if check not in SKIPPED}
    assert unexpected == {}, json.dumps(unexpected, indent=1)
    stale = sorted(set(SKIPPED) - set(failed))
    assert stale == [], "these skipped checks pass now; remove them from SKIPPED and the README: %s" % stale


def test_readme_lists_every_skipped_check_with_a_reason():
    assert sorted(readme_skips()) == sorted(SKIPPED)
