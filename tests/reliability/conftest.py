"""The reliability suite: a summary line per category, and the API scenario the API fault and
API loss tests share (tests/reliability/clusters.py)."""

import pathlib

import pytest

from tests.reliability.clusters import ApiScenario

HERE = pathlib.Path(__file__).resolve().parent
# test module -> category in the summary
CATEGORIES = {"test_bad_inputs": "bad-input", "test_api_faults": "api-faults", "test_api_loss": "api-loss",
              "test_pod_faults": "pod-faults", "test_zookeeper_leader_loss": "zookeeper-leader-loss"}


@pytest.fixture(scope="session", name="api_scenario")
def api_scenario_fixture(tmp_path_factory):
    scenario = ApiScenario(tmp_path_factory.mktemp("api-scenario"))
    try:
        yield scenario.run()
    finally:
        scenario.close()


def pytest_terminal_summary(terminalreporter):
    """`reliability <category>: N tried / M passed` for every reliability test module that ran."""
    root = terminalreporter.config.rootpath
    results = {}
    for outcome in ("passed", "failed", "error", "skipped", "xfailed", "xpassed"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if not nodeid or (root / nodeid.split("::")[0]).resolve().parent != HERE:
                continue
            passed = results.get(report.nodeid, True) and outcome in ("passed", "xfailed")
            results[report.nodeid] = passed
    if not results:
        return
    categories = {}
    for nodeid, passed in results.items():
        module = pathlib.Path(nodeid.split("::")[0]).stem
        tried, ok = categories.get(module, (0, 0))
        categories[module] = (tried + 1, ok + int(passed))
    terminalreporter.write_sep("-", "reliability summary")
    for module in sorted(categories):
        tried, ok = categories[module]
        terminalreporter.write_line("reliability %s: %d tried / %d passed"
                                    % (CATEGORIES.get(module, module.replace("test_", "").replace("_", "-")), tried, ok))
