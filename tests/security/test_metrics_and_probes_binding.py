"""``/metrics`` is not on the gateway's public port, and probes listen on loopback unless told.

Issue 18: the gateway's ``/metrics`` (route names, rates, error counts) was public, and the
other services' health ports bound every interface by default.
"""

from __future__ import annotations

import re
from pathlib import Path

import eventlet
import pytest
import requests

from services.common.config import SERVICES
from services.common.health import HealthServer

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def health_server(platform, name: str) -> HealthServer:
    container = platform.containers[name]
    return next(dep for dep in container.dependencies if isinstance(dep, HealthServer))


@pytest.mark.integration
def test_the_gateways_public_port_answers_404_for_metrics_and_its_metrics_port_serves_them(platform):
    public = platform.http.get(platform.base_url + "/metrics", timeout=10)
    assert public.status_code == 404
    assert "lianxin_http_requests_total" not in public.text
    private = platform.http.get(f"http://127.0.0.1:{health_server(platform, 'gateway').port}/metrics", timeout=10)
    assert private.status_code == 200 and "lianxin_http_requests_total" in private.text
    assert platform.http.get(platform.base_url + "/readyz", timeout=10).status_code == 200  # probes stay


@pytest.mark.integration
@pytest.mark.parametrize("service", SERVICES)
def test_every_services_probes_and_metrics_listen_on_loopback_by_default(platform, service):
    assert "HEALTH_HOST" not in platform.env()
    assert health_server(platform, service)._socket.getsockname()[0] == "127.0.0.1"


class FakeContainer:
    """Just enough of a nameko container for a HealthServer to start and stop."""

    service_name = "probe"
    service_cls = type("Probe", (), {"name": "probe"})
    extensions = ()

    def __init__(self, config: dict) -> None:
        self.config = config

    def spawn_managed_thread(self, run, identifier=None):
        return eventlet.spawn(run)


@pytest.mark.unit
@pytest.mark.parametrize(("host", "bound"), [(None, "127.0.0.1"), ("0.0.0.0", "0.0.0.0")])
def test_health_host_is_loopback_unless_set(host, bound):
    config = {"CONSUMER_WATCHDOG_SECONDS": 0, "HEALTH_PORT": 0} | ({"HEALTH_HOST": host} if host else {})
    container = FakeContainer(config)  # bind() keeps only a weak reference
    server = HealthServer().bind(container, "health")
    server.setup()
    server.start()
    try:
        assert server._socket.getsockname()[0] == bound
        session = requests.Session()
        session.trust_env = False
        assert session.get(f"http://127.0.0.1:{server.port}/nowhere", timeout=5).status_code == 404  # it answers
    finally:
        server.stop()


@pytest.mark.unit
def test_the_kubernetes_manifests_bind_probes_for_the_kubelet_and_scrape_the_gateways_metrics_port():
    kustomization = (DEPLOY / "k8s/base/kustomization.yaml").read_text()
    assert "- HEALTH_HOST=0.0.0.0" in kustomization and "- GATEWAY_METRICS_PORT=8090" in kustomization
    gateway = (DEPLOY / "k8s/base/gateway.yaml").read_text()
    assert 'prometheus.io/port: "8090"' in gateway
    service = gateway[gateway.index("kind: Service") :].split("---")[0]
    assert re.findall(r"targetPort: (\S+)", service) == ["http"]  # the metrics port is in no Service
