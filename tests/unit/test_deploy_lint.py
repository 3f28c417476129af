"""deploy/lint.sh passes on the real deployment files and catches broken ones.

Nothing here is skipped: a missing lint tool (deploy/requirements-lint.txt, plus kubectl or
kustomize for rendering the overlays) makes lint.sh exit 3 and these tests fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
LINT = DEPLOY / "lint.sh"
HEALTHCHECK = DEPLOY / "docker" / "healthcheck.py"


def run_lint(deploy_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LINT_")}
    environment.update(env)
    return subprocess.run(
        ["bash", str(LINT), str(deploy_dir)],
        capture_output=True,
        text=True,
        timeout=110,
        env=environment,
        cwd=REPO,
    )


def broken_copy(tmp_path: Path, relative: str, old: str, new: str) -> Path:
    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy, ignore=shutil.ignore_patterns(".env", "__pycache__"))
    target = copy / relative
    text = target.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {relative}: the test no longer matches the file"
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return copy


def test_lint_passes_on_the_real_deploy_dir():
    result = run_lint(DEPLOY)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "lint: all checks passed" in result.stdout
    # every step ran: nothing was skipped for want of a tool
    assert "renderer: skipped" not in output
    for step in ("ok: Dockerfile", "ok: compose.yaml", "ok: yamllint", "ok: rendered k8s/overlays/prod"):
        assert step in result.stdout, output


@pytest.mark.parametrize(
    ("relative", "old", "new", "expected"),
    [
        # misspelled field in a Kubernetes manifest
        ("k8s/base/requests.yaml", "  replicas: 2\n", "  replicass: 2\n", "replicass"),
        # a string where Kubernetes wants an integer
        (
            "k8s/base/gateway.yaml",
            "containerPort: 8000",
            'containerPort: "8000"',
            "is not of type 'integer'",
        ),
    ],
    ids=["misspelled-field", "string-for-int"],
)
def test_lint_fails_on_a_broken_manifest_and_names_the_file(tmp_path, relative, old, new, expected):
    copy = broken_copy(tmp_path, relative, old, new)
    result = run_lint(copy, LINT_K8S_VERSIONS="1.37.0")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"{copy / relative}" in output, output
    assert expected in output, output


def test_lint_fails_on_an_overlay_patch_that_breaks_the_rendered_manifest(tmp_path):
    copy = broken_copy(tmp_path, "k8s/overlays/prod/patches/hpa-gateway.yaml", "value: 3\n", 'value: "three"\n')
    result = run_lint(copy, LINT_K8S_VERSIONS="1.37.0")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "FAIL: k8s_overlays_prod.rendered.yaml" in output, output
    assert "minReplicas" in output, output


def test_lint_fails_on_a_broken_compose_file_and_names_it(tmp_path):
    copy = broken_copy(tmp_path, "compose.yaml", "    hostname: rabbitmq\n", "    host_name: rabbitmq\n")
    result = run_lint(copy, LINT_K8S_VERSIONS="1.37.0")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"{copy / 'compose.yaml'}" in output, output
    assert "host_name" in output, output
    assert "FAIL: compose.yaml" in output, output


def test_lint_reads_the_image_test_override_with_its_merge_tags_and_fails_on_a_broken_one(tmp_path):
    copy = broken_copy(tmp_path, "compose.image-test.yaml", "    network_mode: host\n", "    network_mod: host\n")
    result = run_lint(copy, LINT_K8S_VERSIONS="1.37.0")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "network_mod" in output, output
    assert "FAIL: compose.image-test.yaml" in output, output
    assert "FAIL: compose.yaml\n" not in output, output


def test_lint_enforces_scalable_compose_services(tmp_path):
    copy = broken_copy(
        tmp_path,
        "compose.yaml",
        '    command: ["notifications"]\n',
        '    command: ["notifications"]\n    container_name: lianxin-notifications\n',
    )
    result = run_lint(copy, LINT_K8S_VERSIONS="1.37.0")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "service notifications: container_name prevents --scale" in output, output


# --- the image's health probe (deploy/docker/healthcheck.py) ---------------------------------

SERVER = textwrap.dedent(
    """
    import http.server, sys

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/livez" else 503)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """
)


@pytest.fixture
def health_server():
    process = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def probe(*args: str, **env: str) -> int:
    environment = {k: v for k, v in os.environ.items() if k != "LIANXIN_HEALTH_URL"}
    environment.update(env)
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), *args], capture_output=True, env=environment, timeout=30
    ).returncode


def test_healthcheck_exit_status_follows_the_http_status(health_server):
    assert probe(f"{health_server}/livez") == 0
    assert probe(f"{health_server}/readyz") == 1
    assert probe(LIANXIN_HEALTH_URL=f"{health_server}/livez") == 0
    # no argument: /livez on HEALTH_PORT (this process tree runs no gateway)
    assert probe(HEALTH_PORT=health_server.rsplit(":", 1)[1]) == 0


def test_healthcheck_fails_when_nothing_listens(health_server):
    port = health_server.rsplit(":", 1)[1]
    # a port nobody listens on: HEALTH_PORT for a non-gateway process
    assert probe("/livez", HEALTH_PORT="1", GATEWAY_PORT=port, HEALTHCHECK_TIMEOUT="2") == 1
