"""`make image-test`: build deploy/Dockerfile with Podman and run deploy/compose.yaml through the loop.

    .venv/bin/python -m tools.image_test [--rebuild-base]

What it proves, in order (each phase is timed; the summary is printed at the end, pass or fail):

1. tools    podman, buildah, runc, debootstrap … from Debian's packages (apt-get when missing,
            as root); podman-compose from PyPI (deploy/requirements-image-test.txt, via make).
2. base     No container registry is reachable here, so the Dockerfile's base (python:3.11-slim-
            bookworm) cannot be pulled: a Debian bookworm root made with debootstrap (Python 3.11
            from Debian, venv, ca-certificates) is imported as a local image and passed as the
            Dockerfile's PYTHON_IMAGE. It is cached in Podman's store, tagged with a hash of how
            it is made, and built again only when that tag is missing.
3. build    `podman build --format docker` (Docker's format keeps HEALTHCHECK) with the host's
            CA bundle mounted for pip (this network re-signs TLS), never copied into a layer.
4. contents The image's files: no test helper may be in it (see `find_test_helpers`).
5. migrate  The compose file's one-shot `migrate` against a private RabbitMQ vhost and private
            PostgreSQL databases of the machine's servers (deploy/compose.image-test.yaml).
6. healthy  The five services up; `podman healthcheck run` on each until healthy (without
            systemd Podman schedules no health checks itself).
7. loop     Over the gateway's HTTP API: a company (`lianxin tenant create` in a container), an
            estate, a volunteer, a case moved to closed, then exactly one visit and one survey.
8. stop     Every service stopped with SIGTERM (45 s grace, as compose says): each must exit 0,
            its stop time is reported.
9. cleanup  Containers, vhost and databases removed (also after a failure); the base image and
            the last build (localhost/lianxin:image-test) stay as the next run's cache.

Podman's configuration is private to the run (CONTAINERS_CONF): runc, because crun refuses this
machine's hybrid cgroup layout; cgroupfs and file events, because there is no systemd; default
ulimits within the host's hard limits. The machine's own configuration is not changed.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SERVICES = ("requests", "volunteers", "notifications", "surveys", "gateway")
# Each run tags its own build (runs on one machine may overlap); at the end the build becomes
# LATEST, which keeps its layers as the next run's build cache, and older builds are pruned.
IMAGE = "localhost/lianxin:image-test-{run_id}"
LATEST = "localhost/lianxin:image-test"
LATEST_BUILDER = "localhost/lianxin:image-test-builder"
PROJECT_PREFIX = "lxit"

# What the local base is made of: the Debian release of python:3.11.13-slim-bookworm, with its
# Python (3.11.2), venv (python -m venv in the builder stage), `python` on PATH, CA certificates.
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
BASE_PACKAGES = ("python3", "python3-venv", "python-is-python3", "ca-certificates")
BASE_CHANGES = ("ENV LANG=C.UTF-8", 'CMD ["python3"]')

APT_TOOLS = {  # command -> Debian package
    "podman": "podman",
    "buildah": "buildah",
    "runc": "runc",
    "debootstrap": "debootstrap",
    "newuidmap": "uidmap",
    "slirp4netns": "slirp4netns",
    "fuse-overlayfs": "fuse-overlayfs",
    "catatonit": "catatonit",  # compose's `init: true`
}
# Helpers Podman runs from its own directory, not from PATH. netavark is the network backend this
# run's containers.conf names; with --no-install-recommends, podman's package does not pull it in
# (seen on a fresh machine: "could not find netavark", every podman command exited 125).
APT_HELPERS = {Path("/usr/lib/podman/netavark"): "netavark"}
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
POSTGRES_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
AMQP_BASE = "amqp://guest:guest@127.0.0.1:5672/"


# --- the test-helper check (pure; tests/unit/test_image_contents.py) -------------------------

SITE_PACKAGES_MARK = "/site-packages/"
HELPER_PACKAGES = {"tests", "bench", "tools", "pytest", "_pytest", "conftest.py"}
HELPER_MODULES = {"services/common/testing.py", "services/common/prepare.py"}
HELPER_IMPORTS = {"pytest", "_pytest", "tests", "bench", "tools", "services.common.testing", "services.common.prepare"}
REPO_DIRS = {"src", "tests", "bench", "tools"}


def find_test_helpers(files: dict[str, bytes | None]) -> list[str]:
    """What in an image's file list is a test helper, one line per finding (empty: none).

    ``files`` maps each path (as in the image's tar, no leading slash) to the file's bytes for
    the lianxin package's .py sources and to None for everything else. Found: the repository's
    test/bench/tools trees anywhere at the top of the image or of site-packages, pytest itself,
    services/common/testing.py and prepare.py, test_*.py or conftest.py in the package, and any
    module of the package importing one of those.
    """
    found = []
    for path, content in sorted(files.items()):
        path = path.removeprefix("./")
        top = path.split("/", 1)[0]
        if top in REPO_DIRS and "/" in path:
            found.append(f"{path}: a repository tree ({top}/) in the image")
            continue
        if SITE_PACKAGES_MARK not in path:
            continue
        inside = path.split(SITE_PACKAGES_MARK, 1)[1]
        first = inside.split("/", 1)[0]
        name = inside.rsplit("/", 1)[-1]
        if first in HELPER_PACKAGES:
            found.append(f"{path}: test package {first}")
        elif inside in HELPER_MODULES:
            found.append(f"{path}: test helper module")
        elif first == "services" and name.endswith(".py") and (name.startswith("test_") or name == "conftest.py"):
            found.append(f"{path}: test module")
        elif first == "services" and content is not None:
            package = ".".join(inside.split("/")[:-1])
            found.extend(f"{path}: imports {module}" for module in helper_imports(content, package))
    return found


def helper_imports(source: bytes, package: str = "") -> list[str]:
    """The test-helper modules a Python source imports (``import x``, ``from x import y``, and
    relative imports resolved against ``package``, the dotted package the source is in)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".") if package else []
            base = parts[: len(parts) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if any(".".join(parts[:i]) in HELPER_IMPORTS for i in range(1, len(parts) + 1)):
                modules.append(name)
                break
    return modules


# --- running things ---------------------------------------------------------------------------


class Failed(Exception):
    pass


def log(message: str) -> None:
    print(f"[image-test {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(
    *args: str, check: bool = True, capture: bool = False, timeout: float = 900, **kw
) -> subprocess.CompletedProcess:
    result = subprocess.run(args, text=True, capture_output=capture, timeout=timeout, **kw)
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout or "").strip()[-3000:] if capture else ""
        raise Failed(f"{' '.join(args[:4])} … exited {result.returncode}\n{detail}")
    return result


class Phases:
    """Wall time per phase, printed as a table at the end."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, str]] = []
        self.started = time.monotonic()

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[dict]:
        log(f"== {name}")
        note: dict = {"note": ""}
        start = time.monotonic()
        try:
            yield note
        finally:
            self.rows.append((name, time.monotonic() - start, note["note"]))

    def summary(self, outcome: str) -> str:
        lines = [f"{'phase':<10} {'seconds':>8}  note"]
        lines += [f"{name:<10} {seconds:>8.1f}  {note}" for name, seconds, note in self.rows]
        lines.append(f"{'total':<10} {time.monotonic() - self.started:>8.1f}  {outcome}")
        return "\n".join(lines)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- 1. tools ---------------------------------------------------------------------------------


def ensure_tools() -> str:
    search = os.environ["PATH"] + ":/usr/sbin:/sbin"
    missing = sorted(
        {pkg for cmd, pkg in APT_TOOLS.items() if not shutil.which(cmd, path=search)}
        | {pkg for helper, pkg in APT_HELPERS.items() if not helper.exists()}
    )
    if missing:
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            raise Failed(f"missing: {' '.join(missing)} (as root: apt-get install {' '.join(missing)})")
        log(f"apt-get install {' '.join(missing)}")
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        run("apt-get", "update", "-qq", env=env)
        run("apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing, env=env, capture=True)
    compose = Path(sys.executable).parent / "podman-compose"
    if not compose.exists():
        raise Failed(f"{compose} missing: pip install --no-deps -r deploy/requirements-image-test.txt (make does)")
    versions = run(str(compose), "version", capture=True).stdout.strip().splitlines()  # its own and podman's
    return f"{'; '.join(versions)}; {'installed ' + ' '.join(missing) if missing else 'all present'}"


def host_ulimits() -> list[str]:
    """nofile and nproc within the host's hard limits: Podman's and Buildah's defaults (1048576 …)
    exceed them here, and runc then fails to set the rlimit ("operation not permitted", no
    CAP_SYS_RESOURCE). nproc is also capped at kernel.pid_max: the runtime is started with that
    ceiling (seen: hard nproc 96365, conmon's 32768 = pid_max; 32768 works, 40000 does not)."""
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    ceilings = {
        "nofile": [resource.getrlimit(resource.RLIMIT_NOFILE)[1]],
        "nproc": [resource.getrlimit(resource.RLIMIT_NPROC)[1], pid_max],
    }
    limits = []
    for name, values in ceilings.items():
        finite = [value for value in values if value != resource.RLIM_INFINITY]
        if finite:
            limits.append(f"{name}={min(finite)}:{min(finite)}")
    return limits


def podman_config(directory: Path) -> Path:
    """A containers.conf for this run only (CONTAINERS_CONF): the machine's stays as it is."""
    path = directory / "containers.conf"
    path.write_text(
        "# written by tools/image_test.py for one run\n"
        "[containers]\n"
        f"default_ulimits = {json.dumps(host_ulimits())}\n"
        "[engine]\n"
        # crun refuses the hybrid cgroup v1/v2 layout here; runc runs. No systemd: cgroupfs, file events.
        'runtime = "runc"\n'
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "file"\n'
        "[network]\n"
        # Debian's podman also ships a CNI config whose plugins it does not install: use netavark.
        'network_backend = "netavark"\n',
        encoding="utf-8",
    )
    return path


# --- 2. base ----------------------------------------------------------------------------------


def base_tag() -> str:
    recipe = json.dumps([DEBIAN_SUITE, DEBIAN_MIRROR, BASE_PACKAGES, BASE_CHANGES, "minbase"]).encode()
    return f"localhost/lianxin-base:{DEBIAN_SUITE}-py311-{hashlib.sha256(recipe).hexdigest()[:10]}"


def ensure_base(rebuild: bool) -> tuple[str, str]:
    tag = base_tag()
    if not rebuild and run("podman", "image", "exists", tag, check=False).returncode == 0:
        return tag, "cached"
    root = Path(tempfile.mkdtemp(prefix="lianxin-base-", dir="/var/tmp"))
    try:
        log(f"debootstrap {DEBIAN_SUITE} ({', '.join(BASE_PACKAGES)}) into {root}")
        run(
            "debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", DEBIAN_SUITE, str(root),
            DEBIAN_MIRROR, capture=True,
        )  # fmt: skip
        # What python:*-slim leaves out as well: package lists, caches, docs
        for leftover in ("var/lib/apt/lists", "var/cache/apt", "usr/share/doc", "usr/share/man"):
            shutil.rmtree(root / leftover, ignore_errors=True)
        (root / "var/lib/apt/lists/partial").mkdir(parents=True)
        changes = [arg for change in BASE_CHANGES for arg in ("--change", change)]
        tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
        run("podman", "import", *changes, "-", tag, stdin=tar.stdout, capture=True)
        if tar.wait() != 0:
            raise Failed("tar of the debootstrap root failed")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return tag, "built with debootstrap"


# --- 3. build ---------------------------------------------------------------------------------


def build(base: str, image: str, scratch: Path) -> str:
    # pip in the builder trusts the host's CA bundle through a pip.conf: both are mounted for the
    # RUN steps only (buildah --volume), so neither lands in a layer of the image.
    pip_conf = scratch / "pip.conf"
    pip_conf.write_text("[global]\ncert = /run/lianxin-build-ca.pem\n", encoding="utf-8")
    podman_build = [
        "podman", "build", "--format", "docker", "--network", "host",
        "--file", "deploy/Dockerfile", "--build-arg", f"PYTHON_IMAGE={base}",
        "--volume", f"{HOST_CA_BUNDLE}:/run/lianxin-build-ca.pem:ro",
        "--volume", f"{pip_conf}:/etc/pip.conf:ro",
        *(arg for limit in host_ulimits() for arg in ("--ulimit", limit)),
    ]  # fmt: skip
    run(*podman_build, "--tag", image, ".", cwd=REPO)
    # The builder stage by name too (all from the cache, a few seconds): its layers (the locked
    # dependencies, two minutes of pip) are no parent of the runtime image, and would otherwise be
    # pruned as dangling with the old builds (keep_cache).
    run(*podman_build, "--target", "builder", "--tag", LATEST_BUILDER, ".", cwd=REPO, capture=True)
    info = json.loads(run("podman", "image", "inspect", image, capture=True).stdout)[0]
    health = info.get("Healthcheck")
    if not health:
        raise Failed("the built image has no HEALTHCHECK (was it built with --format docker?)")
    return f"{info['Size'] / 1e6:.0f} MB, HEALTHCHECK {health.get('Test')}"


# --- 4. contents ------------------------------------------------------------------------------


def image_files(image: str) -> dict[str, bytes | None]:
    """Every path of the image (from `podman export` of a created, never started, container)."""
    container = run("podman", "create", image, capture=True).stdout.strip()
    try:
        export = subprocess.Popen(["podman", "export", container], stdout=subprocess.PIPE)
        files: dict[str, bytes | None] = {}
        with tarfile.open(fileobj=export.stdout, mode="r|") as tar:
            for member in tar:
                path = member.name.removeprefix("./")
                own_source = f"{SITE_PACKAGES_MARK}services/" in f"/{path}" and path.endswith(".py") and member.isfile()
                files[path] = tar.extractfile(member).read() if own_source else None
        if export.wait() != 0:
            raise Failed("podman export failed")
        return files
    finally:
        run("podman", "rm", "--force", container, capture=True, check=False)


def check_contents(image: str) -> str:
    files = image_files(image)
    own = sum(1 for content in files.values() if content is not None)
    found = find_test_helpers(files)
    if found:
        raise Failed("test helpers in the production image:\n  " + "\n  ".join(found))
    return f"{len(files)} paths, {own} lianxin modules, no test helper"


# --- 5.-9. the compose stack ------------------------------------------------------------------


class PrivateInfra:
    """A vhost on the machine's RabbitMQ and five databases on its PostgreSQL, removed after.

    (The same steps as the tests' private vhost and databases, repeated here so that this script
    does not depend on where the test support code lives.) Only what this run created is removed.
    """

    def __init__(self, run_id: str) -> None:
        self.vhost = f"lianxin-image-test-{run_id}"
        self.prefix = f"lxit_{run_id}"
        self.created: list[str] = []

    def create(self) -> dict[str, str]:
        import pg8000.native

        run("rabbitmqctl", "-q", "add_vhost", self.vhost, capture=True, timeout=60)
        self.created.append("vhost")
        run(
            "rabbitmqctl",
            "-q",
            "set_permissions",
            "-p",
            self.vhost,
            "guest",
            ".*",
            ".*",
            ".*",
            capture=True,
            timeout=60,
        )
        admin = pg8000.native.Connection(**POSTGRES_ADMIN)
        try:
            for name in SERVICES:
                self.created.append(name)
                admin.run(f'CREATE DATABASE "{self.prefix}_{name}"')
        finally:
            admin.close()
        return {
            "IMAGE_TEST_AMQP_URI": AMQP_BASE + self.vhost,
            "IMAGE_TEST_DB_PREFIX": "postgresql://{user}@{host}:{port}/".format(**POSTGRES_ADMIN) + self.prefix,
        }

    def remove(self) -> str:
        import pg8000.native

        databases = [name for name in self.created if name in SERVICES]
        if databases:
            admin = pg8000.native.Connection(**POSTGRES_ADMIN)
            try:
                for name in databases:
                    admin.run(f'DROP DATABASE IF EXISTS "{self.prefix}_{name}" WITH (FORCE)')
            finally:
                admin.close()
        if "vhost" in self.created:
            run("rabbitmqctl", "-q", "delete_vhost", self.vhost, capture=True, check=False, timeout=60)
        self.created = []
        return f"vhost {self.vhost} and databases {self.prefix}_* removed"


class Stack:
    """podman-compose with compose.yaml + compose.image-test.yaml under a project of this run."""

    def __init__(self, project: str, env: dict[str, str]) -> None:
        self.project = project
        self.env = env
        self.compose = [
            str(Path(sys.executable).parent / "podman-compose"), "--project-name", project,
            "-f", "deploy/compose.yaml", "-f", "deploy/compose.image-test.yaml",
        ]  # fmt: skip

    def __call__(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return run(*self.compose, *args, cwd=REPO, env=self.env, **kw)

    def containers(self) -> dict[str, str]:
        """service -> container id, of this project's containers (running or not)."""
        out = run(
            "podman", "ps", "--all", "--filter", f"label=io.podman.compose.project={self.project}",
            "--format", "{{.ID}} {{index .Labels \"io.podman.compose.service\"}}", capture=True,
        ).stdout  # fmt: skip
        return {line.split()[1]: line.split()[0] for line in out.splitlines() if len(line.split()) == 2}

    def cli(self, *args: str) -> str:
        """`lianxin …` in a one-off container of the migrate service (deploy/README.md's $LX)."""
        return self("run", "--rm", "--no-deps", "--entrypoint", "lianxin", "migrate", *args, capture=True).stdout

    def remove(self) -> None:
        for container in self.containers().values():
            run("podman", "rm", "--force", "--time", "5", container, capture=True, check=False)


def wait_healthy(stack: Stack, timeout: float = 120) -> str:
    """`podman healthcheck run` on each service until all are healthy; seconds to healthy each."""
    ids = stack.containers()
    missing = [name for name in SERVICES if name not in ids]
    if missing:
        raise Failed(f"no container for {missing}")
    start = time.monotonic()
    healthy: dict[str, float] = {}
    while len(healthy) < len(SERVICES):
        for name in SERVICES:
            if (
                name not in healthy
                and run("podman", "healthcheck", "run", ids[name], check=False, capture=True).returncode == 0
            ):
                healthy[name] = time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise Failed(f"not healthy within {timeout:.0f} s: {sorted(set(SERVICES) - set(healthy))}")
        time.sleep(1)
    return ", ".join(f"{name} {seconds:.0f}s" for name, seconds in healthy.items())


def closed_loop(stack: Stack, gateway: str) -> str:
    import requests as http

    tenant = json.loads(stack.cli("tenant", "create", "--name", "缔华物业", "--community", "政通路社区"))
    s = http.Session()
    s.headers["Authorization"] = f"Bearer {tenant['api_key']}"

    def post(path: str, body: dict) -> dict:
        response = s.post(gateway + path, json=body, timeout=15)
        if response.status_code >= 300:
            raise Failed(f"POST {path}: {response.status_code} {response.text[:500]}")
        return response.json()

    estate = post("/api/v1/estates", {"name": "东方现代城"})
    post("/api/v1/volunteers", {"name": "张红梅", "phone": "13800000101", "estate_ids": [estate["id"]]})
    case = post(
        "/api/v1/cases",
        {
            "estate_id": estate["id"], "category": "repair", "title": "电梯异响",
            "description": "2号楼电梯运行有异响", "channel": "phone",
            "reporter": {"name": "陈先生", "phone": "13912345678", "household": "2-1-1201"},
        },
    )  # fmt: skip
    for action, extra in (
        ("accept", {}),
        ("assign", {"assignee": "王师傅"}),
        ("start", {}),
        ("resolve", {}),
        ("close", {}),
    ):
        post(f"/api/v1/cases/{case['id']}/transitions", {"action": action} | extra)
    closed = time.monotonic()

    def listed(kind: str) -> list:
        return s.get(f"{gateway}/api/v1/cases/{case['id']}/{kind}", timeout=15).json().get("data", [])

    while not (listed("visits") and listed("surveys")):
        if time.monotonic() - closed > 60:
            raise Failed(
                f"case {case['id']}: visits {listed('visits')}, surveys {listed('surveys')} 60 s after closing"
            )
        time.sleep(0.5)
    latency = time.monotonic() - closed
    time.sleep(3)  # a duplicate would come right behind the first: look again
    visits, surveys = listed("visits"), listed("surveys")
    if len(visits) != 1 or len(surveys) != 1:
        raise Failed(f"case {case['id']}: {len(visits)} visits and {len(surveys)} surveys, not exactly one of each")
    return (
        f"case {case['id']} closed -> 1 visit ({visits[0]['status']}), 1 survey ({surveys[0]['status']}) "
        f"in {latency:.1f}s"
    )


def graceful_stop(stack: Stack) -> str:
    """SIGTERM to every service at once, as `compose down` does (45 s grace, compose's
    stop_grace_period); each must exit 0 by itself (137 would be the SIGKILL after the grace)."""
    ids = stack.containers()

    def stop(name: str) -> float:
        start = time.monotonic()
        # stderr kept for a failure only: Podman also reports, harmlessly, that without systemd
        # it has no health-check timer to remove
        run("podman", "stop", "--time", "45", ids[name], capture=True, timeout=90)
        return time.monotonic() - start

    with ThreadPoolExecutor(len(SERVICES)) as pool:
        seconds = dict(zip(SERVICES, pool.map(stop, SERVICES), strict=True))
    codes = {
        name: json.loads(run("podman", "inspect", ids[name], capture=True).stdout)[0]["State"]["ExitCode"]
        for name in SERVICES
    }
    bad = {name: code for name, code in codes.items() if code != 0}
    if bad:
        raise Failed(f"not a graceful stop, exit codes {bad}")
    return ", ".join(f"{name} {seconds[name]:.1f}s" for name in SERVICES) + " (all exit 0)"


def keep_cache(image: str) -> None:
    """The run's build becomes LATEST (its layers stay, the next build reuses them); the builds
    before it, untagged now, are pruned once an hour old (so a run still going is left alone):
    without that every source change would leave another image of about 350 MB behind."""
    if run("podman", "image", "exists", image, check=False).returncode == 0:
        run("podman", "tag", image, LATEST, capture=True, check=False)
        # the name twice: `podman untag IMAGE` alone would remove every name of the image
        run("podman", "untag", image, image, capture=True, check=False)
    run("podman", "image", "prune", "--force", "--filter", "until=1h", capture=True, check=False)


def dump_logs(stack: Stack) -> None:
    for name, container in stack.containers().items():
        out = run("podman", "logs", "--tail", "40", container, capture=True, check=False)
        print(f"--- {name} (last 40 lines)\n{out.stdout}{out.stderr}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rebuild-base", action="store_true", help="debootstrap the base again")
    args = parser.parse_args(argv)

    phases = Phases()
    scratch = Path(tempfile.mkdtemp(prefix="lianxin-image-test-"))
    os.environ["CONTAINERS_CONF"] = str(podman_config(scratch))
    run_id = uuid.uuid4().hex[:8]
    image = IMAGE.format(run_id=run_id)
    infra = PrivateInfra(run_id)
    stack = None
    failures: list[str] = []
    try:
        with phases.phase("tools") as p:
            p["note"] = ensure_tools()
        with phases.phase("base") as p:
            base, how = ensure_base(args.rebuild_base)
            p["note"] = f"{base} ({how})"
        with phases.phase("build") as p:
            p["note"] = build(base, image, scratch)
        # A test helper in the image fails the run, but the stack is still tried: both verdicts
        # are worth having from one run.
        with phases.phase("contents") as p:
            try:
                p["note"] = check_contents(image)
            except Failed as error:
                failures.append(str(error))
                p["note"] = "FAILED: test helpers in the image (listed below)"
                print(f"image-test: FAILED: {error}", file=sys.stderr, flush=True)
        with phases.phase("infra") as p:
            ports = {f"IMAGE_TEST_{name.upper()}_PORT": str(free_port()) for name in SERVICES}
            env = os.environ | infra.create() | ports | {
                "LIANXIN_IMAGE": image,
                # compose.yaml's required secrets: the services that use them are not run here
                "POSTGRES_PASSWORD": "unused", "RABBITMQ_PASSWORD": "unused", "LIANXIN_DB_PASSWORD": "unused",
            }  # fmt: skip
            p["note"] = f"vhost {infra.vhost}, databases {infra.prefix}_*, ports {' '.join(ports.values())}"
        stack = Stack(f"{PROJECT_PREFIX}{run_id}", env)
        with phases.phase("migrate") as p:
            stack("run", "--rm", "--no-deps", "migrate", capture=True)
            p["note"] = "lianxin migrate && lianxin topology declare: exit 0"
        with phases.phase("healthy") as p:
            stack("up", "-d", "--no-deps", "--no-build", *SERVICES, capture=True)
            p["note"] = wait_healthy(stack)
        with phases.phase("loop") as p:
            p["note"] = closed_loop(stack, f"http://127.0.0.1:{ports['IMAGE_TEST_GATEWAY_PORT']}")
        with phases.phase("stop") as p:
            p["note"] = graceful_stop(stack)
    except Failed as error:
        failures.append(str(error))
        print(f"image-test: FAILED: {error}", file=sys.stderr, flush=True)
        if stack is not None:
            dump_logs(stack)
    finally:
        with phases.phase("cleanup") as p:
            if stack is not None:
                stack.remove()
            keep_cache(image)
            p["note"] = f"containers removed, {infra.remove()}; base image and build cache kept"
        shutil.rmtree(scratch, ignore_errors=True)
    print("\n" + phases.summary("passed" if not failures else "FAILED"), flush=True)
    for failure in failures:
        print(f"image-test: FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
