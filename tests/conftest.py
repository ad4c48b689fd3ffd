"""Shared fixtures: an in-process Kubernetes API server and a kubeconfig pointing at it."""
import pytest

from .kubesim import KubeSim


@pytest.fixture
def kubesim(request):
    """A started KubeSim; ``ready_delay`` comes from ``request.param`` when parametrised indirectly."""
    with KubeSim(ready_delay=getattr(request, "param", 0.0)).start() as sim:
        yield sim


@pytest.fixture
def kubeconfig(kubesim, tmp_path):  # pylint: disable=redefined-outer-name
    """Path to a kubeconfig for the ``kubesim`` fixture's server."""
    return str(kubesim.write_kubeconfig(tmp_path / "kubeconfig"))


@pytest.fixture
def kubesim_client(kubesim, tmp_path):  # pylint: disable=redefined-outer-name
    """A kubernetes DynamicClient for the ``kubesim`` fixture's server (discovery cached under tmp_path)."""
    import kubernetes  # pylint: disable=import-outside-toplevel
    from kubernetes.dynamic import DynamicClient  # pylint: disable=import-outside-toplevel

    configuration = kubernetes.client.Configuration()
    configuration.host = kubesim.url
    api_client = kubernetes.client.ApiClient(configuration)
    yield DynamicClient(api_client, cache_file=str(tmp_path / "discovery.json"))
    api_client.close()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` with the groups of tests/xdist_groups.py (xdist's own does not group under pytest 9)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from .xdist_groups import scheduler  # pylint: disable=import-outside-toplevel
    return scheduler(config, log)
