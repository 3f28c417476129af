"""Project rules for the deployment files that no schema can express (run by deploy/lint.sh).

    python deploy/lint_policy.py compose deploy/compose.yaml
    python deploy/lint_policy.py k8s FILE.yaml [FILE.yaml ...]   (raw or rendered manifests)
    python deploy/lint_policy.py resolve-tags OVERRIDE.yaml OUT.json

resolve-tags writes a compose override as JSON with the merge tags !reset and !override
replaced by their values, so that check-jsonschema can read it (it knows no such tag).

Each finding is printed as "FILE: object: problem"; the exit status is 1 if there is any.
Needs PyYAML only (yamllint depends on it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import yaml

SERVICES = ("requests", "volunteers", "notifications", "surveys", "gateway")
AUTOSCALED = ("gateway", "notifications")
SECRET_ENV = {"AMQP_URI"} | {f"{s.upper()}_DATABASE_URL" for s in SERVICES}


def check_compose(path: str) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        doc = yaml.safe_load(handle) or {}
    services = doc.get("services") or {}
    problems = []
    for name, svc in services.items():
        if "container_name" in svc:
            problems.append(f"service {name}: container_name prevents --scale")
        if svc.get("ports") and name != "gateway":
            problems.append(f"service {name}: only the gateway publishes a port")
    for name in SERVICES:
        svc = services.get(name)
        if svc is None:
            problems.append(f"service {name}: missing")
            continue
        if not (svc.get("healthcheck") or {}).get("test"):
            problems.append(f"service {name}: no healthcheck")
        if svc.get("restart") in (None, "no"):
            problems.append(f"service {name}: no restart policy")
        if not svc.get("stop_grace_period"):
            problems.append(f"service {name}: no stop_grace_period (handlers drain <= 30 s)")
        condition = ((svc.get("depends_on") or {}).get("migrate") or {}).get("condition")
        if condition != "service_completed_successfully":
            problems.append(f"service {name}: must wait for migrate (service_completed_successfully)")
    migrate = services.get("migrate") or {}
    command = (
        " ".join(migrate.get("command") or [])
        if isinstance(migrate.get("command"), list)
        else str(migrate.get("command") or "")
    )
    for step in ("lianxin migrate", "lianxin topology declare"):
        if step not in command:
            problems.append(f"service migrate: command does not run `{step}`")
    for dependency in ("postgres", "rabbitmq"):
        condition = ((migrate.get("depends_on") or {}).get(dependency) or {}).get("condition")
        if condition != "service_healthy":
            problems.append(f"service migrate: must wait for {dependency} (service_healthy)")
        if not ((services.get(dependency) or {}).get("healthcheck") or {}).get("test"):
            problems.append(f"service {dependency}: no healthcheck")
    return problems


def _pod_spec(obj: dict) -> dict | None:
    if obj.get("kind") in ("Deployment", "Job"):
        return ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    return None


def _containers(pod: dict) -> Iterator[dict]:
    yield from pod.get("initContainers") or []
    yield from pod.get("containers") or []


def _check_pod(obj: dict, pod: dict) -> list[str]:
    kind, name = obj.get("kind"), (obj.get("metadata") or {}).get("name")
    where = f"{kind} {name}"
    problems = []
    pod_sc = pod.get("securityContext") or {}
    if pod_sc.get("runAsNonRoot") is not True:
        problems.append(f"{where}: pod securityContext.runAsNonRoot must be true")
    if (pod_sc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        problems.append(f"{where}: seccompProfile must be RuntimeDefault")
    if kind == "Deployment" and (pod.get("terminationGracePeriodSeconds") or 30) < 45:
        problems.append(f"{where}: terminationGracePeriodSeconds must be >= 45")
    empty_dirs = {v.get("name") for v in pod.get("volumes") or [] if "emptyDir" in v}
    for container in _containers(pod):
        cwhere = f"{where} container {container.get('name')}"
        sc = container.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{cwhere}: allowPrivilegeEscalation must be false")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{cwhere}: readOnlyRootFilesystem must be true")
        if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
            problems.append(f"{cwhere}: capabilities must drop ALL")
        resources = container.get("resources") or {}
        for part in ("requests", "limits"):
            if not {"cpu", "memory"} <= set((resources.get(part) or {}).keys()):
                problems.append(f"{cwhere}: resources.{part} needs cpu and memory")
        mounts = {m.get("mountPath"): m.get("name") for m in container.get("volumeMounts") or []}
        if mounts.get("/tmp") not in empty_dirs:
            problems.append(f"{cwhere}: /tmp must be an emptyDir (read-only root filesystem)")
        for env in container.get("env") or []:
            if env.get("name") in SECRET_ENV and "value" in env:
                problems.append(f"{cwhere}: {env['name']} must come from a secretKeyRef")
        if kind == "Deployment":
            for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/livez")):
                got = ((container.get(probe) or {}).get("httpGet") or {}).get("path")
                if got != path:
                    problems.append(f"{cwhere}: {probe} must GET {path} (got {got})")
    return problems


def check_k8s(paths: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    deployments: dict[str, dict] = {}
    pdb_selectors, hpa_targets = [], set()
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            docs = [d for d in yaml.safe_load_all(handle) if isinstance(d, dict)]
        problems = found.setdefault(path, [])
        for obj in docs:
            kind, name = obj.get("kind"), (obj.get("metadata") or {}).get("name")
            if kind == "Secret" and not path.endswith(".example.yaml"):
                problems.append(f"Secret {name}: no Secret in the manifests (secret.example.yaml)")
            pod = _pod_spec(obj)
            if pod is not None:
                problems.extend(_check_pod(obj, pod))
            if kind == "Deployment":
                deployments[name] = obj
            elif kind == "PodDisruptionBudget":
                pdb_selectors.append(((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
            elif kind == "HorizontalPodAutoscaler":
                hpa_targets.add(((obj.get("spec") or {}).get("scaleTargetRef") or {}).get("name"))
    # cross-object rules only where the whole set is present (a full base or rendered overlay)
    if {f"lianxin-{s}" for s in SERVICES} <= set(deployments):
        summary = found.setdefault(paths[-1] if len(paths) == 1 else "(manifest set)", [])
        for name, obj in deployments.items():
            labels = (((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
            if not any(sel and all(labels.get(k) == v for k, v in sel.items()) for sel in pdb_selectors):
                summary.append(f"Deployment {name}: no PodDisruptionBudget selects it")
        for service in AUTOSCALED:
            if f"lianxin-{service}" not in hpa_targets:
                summary.append(f"Deployment lianxin-{service}: no HorizontalPodAutoscaler")
    return {path: problems for path, problems in found.items() if problems}


class _MergeTagLoader(yaml.SafeLoader):
    """SafeLoader that reads compose's !reset and !override as the plain value they carry."""


def _tagged_value(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    return loader.construct_scalar(node)


for _tag in ("!reset", "!override"):
    _MergeTagLoader.add_constructor(_tag, _tagged_value)


def resolve_tags(source: str, target: str) -> int:
    with open(source, encoding="utf-8") as handle:
        doc = yaml.load(handle, _MergeTagLoader)  # noqa: S506 (a SafeLoader with two more tags)
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(doc, handle)
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[1] == "resolve-tags":
        return resolve_tags(argv[2], argv[3])
    if len(argv) < 3 or argv[1] not in ("compose", "k8s"):
        print(__doc__, file=sys.stderr)
        return 2
    paths = argv[2:]
    checked = {path: check_compose(path) for path in paths} if argv[1] == "compose" else check_k8s(paths)
    status = 0
    for path, problems in checked.items():
        for problem in problems:
            print(f"{path}: {problem}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
