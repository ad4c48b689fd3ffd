"""The test groups that must share one pytest-xdist worker (tests/xdist_groups.py) do."""

import os
import pathlib
import subprocess
import sys
import textwrap

from tests.xdist_groups import GROUPS, scope

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_a_grouped_module_is_one_unit_and_any_other_test_is_alone():
    assert scope("tests/reliability/test_api_faults.py::test_site_converges[clean]") == "api-scenario"
    assert scope("tests/reliability/test_api_loss.py::test_a_further_run_writes_nothing") == "api-scenario"
    assert scope("tests/integration/test_tls.py::test_x") == "tests/integration/test_tls.py::test_x"
    for module in GROUPS:
        assert (REPO / module).is_file(), "%s is grouped but does not exist" % module


def test_two_workers_run_a_group_on_one_of_them(tmp_path):
    """Five tests of one group and four alone, on two workers: the group's on one worker, the others spread."""
    (tmp_path / "conftest.py").write_text(textwrap.dedent("""
        import tests.xdist_groups
        from tests.conftest import pytest_xdist_make_scheduler  # noqa: F401

        tests.xdist_groups.GROUPS.update({"test_grouped_a.py": "g", "test_grouped_b.py": "g"})
    """))
    body = textwrap.dedent("""
        import os, pathlib, time
        import pytest

        @pytest.mark.parametrize("n", range({n}))
        def test_it(n):
            time.sleep(0.3)
            pathlib.Path(os.environ["OUT"], "%s-%d" % (__name__, n)).write_text(os.environ["PYTEST_XDIST_WORKER"])
    """)
    (tmp_path / "test_grouped_a.py").write_text(body.replace("{n}", "3"))
    (tmp_path / "test_grouped_b.py").write_text(body.replace("{n}", "2"))
    (tmp_path / "test_alone.py").write_text(body.replace("{n}", "4"))
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ, OUT=str(out), PYTHONPATH=os.pathsep.join([str(REPO)] + sys.path))
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadgroup",
                          "-q", "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    workers = {path.name: path.read_text() for path in out.iterdir()}
    grouped = {name: worker for name, worker in workers.items() if name.startswith("test_grouped")}
    assert len(grouped) == 5 and len(set(grouped.values())) == 1, workers
    assert len(workers) == 9 and len(set(workers.values())) == 2, workers
