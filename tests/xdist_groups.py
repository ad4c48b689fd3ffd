"""Which tests pytest-xdist must run on one worker, and the scheduler that keeps them there.

pytest-xdist's own ``--dist loadgroup`` reads ``xdist_group`` marks by appending the group to each
test's node id on the workers; pytest 9 derives node ids from their structured form, so that
rename no longer takes effect and marked tests spread over the workers. The groups are therefore
named here, by test module, and ``Scheduler`` (``tests/conftest.py`` installs it for
``--dist loadgroup``) sends a group to one worker as a unit and every other test alone.
"""

# test module -> group. A module belongs here when it starts a real ZooKeeper ensemble (fixed
# loopback addresses 127.0.0.11-13), or reads a run that a session or module fixture, or a
# module-level cache, makes once: on two workers it would be made twice.
GROUPS = {
    "tests/integration/test_zookeeper_ensemble.py": "zookeeper-ensemble",
    "tests/reliability/test_zookeeper_leader_loss.py": "zookeeper-ensemble",
    "tests/reliability/test_api_faults.py": "api-scenario",
    "tests/reliability/test_api_loss.py": "api-scenario",
    "tests/reliability/test_bad_inputs.py": "bad-inputs",
    "tests/reliability/test_pod_faults.py": "pod-faults",
}


def scope(nodeid):
    """The unit of work a test belongs to: its module's group, or the test alone."""
    return GROUPS.get(nodeid.split("::", 1)[0], nodeid)


def scheduler(config, log):
    """An xdist scheduler that hands out the scopes above (largest first)."""
    from xdist.scheduler import LoadScopeScheduling  # pylint: disable=import-outside-toplevel

    class Scheduler(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return scope(nodeid)

    return Scheduler(config, log)
