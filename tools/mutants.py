"""`make mutants`: mutmut over the reliability core, each part against the fast tests that claim it.

Each group below is mutated in its own scratch copy of the tree (``var/mutants/<group>``), so the
working tree is never touched and one group's tests never vouch for another's code. mutmut 3
copies the sources into ``mutants/`` with every mutant behind a trampoline chosen by the
``MUTANT_UNDER_TEST`` environment variable; ``PYTHONPATH`` points at that copy too, so any
subprocess a test starts imports the mutated code and runs the same mutant. Before a group runs,
:func:`check_import_path` proves that: a child process with the run's environment must import the
group's modules from ``mutants/``.

The report (``docs/mutants.md``) lists killed/survived/timeout per group and every surviving
mutant's diff with the reason it survives (``docs/mutants-equivalent.txt``). Not part of CI.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tools.scratch import ROOT, imported_from, scratch_copy

SCRATCH = ROOT / "var" / "mutants"
REPORT = ROOT / "docs" / "mutants.md"
EXPLANATIONS = ROOT / "docs" / "mutants-equivalent.txt"


@dataclass(frozen=True)
class Group:
    """Modules that keep one guarantee and the fast tests that claim it."""

    name: str
    guarantee: str
    modules: tuple[str, ...]
    tests: tuple[str, ...]


GROUPS = (
    Group(
        "outbox",
        "a change and its events commit together; the relay publishes in order, keeps what the broker "
        "did not confirm, and the publisher waits for confirms",
        ("services/common/outbox.py", "services/common/broker.py"),
        ("tests/unit/test_outbox_and_inbox.py", "tests/unit/test_relay_and_publisher.py"),
    ),
    Group(
        "inbox",
        "an event is applied at most once per handler; a failed handler leaves no inbox record",
        ("services/common/database.py",),
        ("tests/unit/test_outbox_and_inbox.py", "tests/unit/test_inbox_and_emit.py"),
    ),
    Group(
        "subscribe",
        "a failed message is retried with backoff, dead-lettered when permanent or out of attempts, "
        "and acked only after its retry or dead letter is stored; dead letters replay",
        ("services/common/subscribe.py", "services/common/deadletters.py", "services/common/envelope.py"),
        ("tests/unit/test_retry_rule.py", "tests/unit/test_contracts.py", "tests/unit/test_subscription_acks.py"),
    ),
    Group(
        "tenants",
        "a key authenticates as its own company only; revoked keys fail; every route's roles are checked",
        (
            "services/gateway/tenants.py",
            "services/gateway/authorization.py",
            "services/gateway/authentication.py",
        ),
        (
            "tests/unit/test_authorization.py",
            "tests/unit/test_demo_keys.py",
            "tests/unit/test_staff_memberships.py",
            "tests/unit/test_tenant_keys.py",
        ),
    ),
)


def prepare(group: Group) -> Path:
    """A fresh scratch copy of the tree with a mutmut configuration for ``group``."""
    where = scratch_copy(SCRATCH / group.name)
    lines = ["[mutmut]", "source_paths = services", "only_mutate ="]
    lines += [f"    {module}" for module in group.modules]
    lines += ["pytest_add_cli_args_test_selection ="] + [f"    {test}" for test in group.tests]
    # --noconftest: the root conftest monkey-patches the standard library with eventlet, which
    # breaks mutmut's own threads (its timeout checker) in the process that forks the mutants.
    # The fast tests here need none of its fixtures; they pass unpatched (checked by the clean run).
    lines += ["pytest_add_cli_args =", "    -q", "    --noconftest"]
    lines += ["use_git_change_detection = false", ""]
    (where / "setup.cfg").write_text("\n".join(lines))
    # Made before Python starts: a PYTHONPATH entry missing at start-up is cached as absent and
    # never searched, and then the editable install's unmutated `services` is what gets imported.
    (where / "mutants").mkdir()
    return where


def environment(where: Path) -> dict[str, str]:
    """The run's environment: the mutated copy first on every process's import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(where / "mutants"), env.get("PYTHONPATH")]))
    return env


def check_import_path(group: Group, where: Path, env: dict[str, str]) -> None:
    """A subprocess started with the run's environment imports the group's modules from ``mutants/``."""
    names = [module.removesuffix(".py").replace("/", ".") for module in group.modules]
    # From a directory with no `services` of its own: only PYTHONPATH can lead to the mutated copy.
    found = imported_from(names, SCRATCH, env)
    stray = [path for path in found if not path.startswith(str(where / "mutants"))]
    if stray:
        raise SystemExit(f"{group.name}: a subprocess imports unmutated code: {stray}")


# Every mutant's status, and the diff of each one not killed, in one process (``mutmut show``
# per mutant costs a second of start-up each).
RESULTS = """
import json
from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files
statuses, diffs = {}, {}
for path in walk_mutatable_files():
    data = SourceFileMutationData(path=path)
    data.load()
    for name, code in data.exit_code_by_key.items():
        statuses[name] = status_by_exit_code[code]
        if statuses[name] != "killed":
            diffs[name] = get_diff_for_mutant(name, path=path)
print(json.dumps({"statuses": statuses, "diffs": diffs}))
"""


def run_group(group: Group, children: int) -> dict:
    where = prepare(group)
    env = environment(where)
    started = time.monotonic()
    # mutmut writes mutants/ first and then runs; generate them, check the import path, then run.
    log = where / "mutmut-run.log"
    with log.open("w") as out:
        subprocess.run(
            [sys.executable, "-m", "mutmut", "run", "--max-children", str(children)],
            cwd=where,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    check_import_path(group, where, env)
    found = json.loads(
        subprocess.run(
            [sys.executable, "-c", RESULTS], cwd=where, env=env, capture_output=True, text=True, check=True
        ).stdout
    )
    statuses, diffs = found["statuses"], found["diffs"]
    return {"group": group, "statuses": statuses, "diffs": diffs, "seconds": time.monotonic() - started}


def explanations() -> dict[str, str]:
    """``mutant name: why it survives`` lines (equivalent mutants, argued one by one)."""
    found = {}
    if EXPLANATIONS.exists():
        for line in EXPLANATIONS.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                name, _, why = line.partition(": ")
                found[name.strip()] = why.strip()
    return found


NOTES = (
    "- mutmut 3 rather than cosmic-ray: mutmut imports the code and the tests once and forks a worker "
    "per mutant, the mutant chosen by `MUTANT_UNDER_TEST` in a trampoline; cosmic-ray rewrites the file "
    "and starts a fresh test process per mutant, and one pytest start-up of these fast tests costs about "
    "9 s on this loaded 2-core machine (measured), so ~1,200 mutants would take about 1.5 h against the "
    "few minutes below.",
    "- Each group runs in its own scratch copy (`var/mutants/<group>`): `only_mutate` is the group's "
    "modules, `pytest_add_cli_args_test_selection` the group's fast tests; for each mutant mutmut then "
    "runs only those of them that reached the mutated function in its first, recorded run.",
    "- The mutated copy (`mutants/`) is first on `PYTHONPATH` and `MUTANT_UNDER_TEST` is inherited, so a "
    "subprocess a test starts imports the mutated code and runs the same mutant; after each group a "
    "process started from a directory without code of its own must import the group's modules from "
    "`mutants/`, or the run stops.",
    "- pytest runs with `--noconftest`: the root conftest monkey-patches the standard library with "
    "eventlet, which breaks mutmut's own timeout thread in the process that forks the workers (seen: "
    "`cannot wait on un-acquired lock`, then a hang). These tests use none of its fixtures and also pass "
    "with it (`pytest tests/unit/...`).",
    "- mutmut 3 mutates code inside functions and methods only: module-level tables (the authorization "
    "`POLICY`, `PERMANENT`/`OUTAGE`, the config defaults) are not mutated here; the authorization table "
    "has its own tests (tests/unit/test_authorization.py, tests/security).",
    "- A timeout counts as not killed. Survivors are explained in `docs/mutants-equivalent.txt`; one not "
    "explained there makes `make mutants` fail, as does a score under 90 %.",
)


def report(results: list[dict], total_seconds: float) -> tuple[str, float]:
    why = explanations()
    everything = Counter()
    rows, details = [], []
    for result in results:
        group, counts = result["group"], Counter(result["statuses"].values())
        everything.update(counts)
        rows.append(
            f"| {group.name} | {', '.join(f'`{m}`' for m in group.modules)} | {len(result['statuses'])} "
            f"| {counts['killed']} | {counts['survived']} | {counts['timeout']} "
            f"| {sum(v for k, v in counts.items() if k not in ('killed', 'survived', 'timeout'))} "
            f"| {result['seconds']:.0f} s |"
        )
        for name, diff in sorted(result["diffs"].items()):
            status = result["statuses"][name]
            details.append(
                f"### `{name}` ({status})\n\n{why.get(name, '**not explained**')}\n\n```diff\n{diff.strip()}\n```\n"
            )
    total = sum(everything.values())
    other = total - everything["killed"] - everything["survived"] - everything["timeout"]
    score = everything["killed"] / total if total else 0.0
    text = "\n".join(
        [
            "# Mutation proofs of the reliability core",
            "",
            f"`make mutants` (tools/mutants.py), mutmut {mutmut_version()}, run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
            f"in {total_seconds / 60:.1f} min. Each group is mutated in its own scratch copy and run "
            "against only the fast tests that claim its guarantee (mutmut further narrows that to the "
            "tests that reach the mutated function).",
            "",
            "| group | modules | mutants | killed | survived | timeout | other | time |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            f"| **all** | | {total} | {everything['killed']} | {everything['survived']} | "
            f"{everything['timeout']} | {other} | |",
            "",
            f"**Killed: {everything['killed']} of {total} ({score:.1%}).** A timeout counts as not killed here.",
            "",
            "Tests per group:",
            "",
            *[f"- {r['group'].name} ({r['group'].guarantee}): {', '.join(r['group'].tests)}" for r in results],
            "",
            "## How it runs",
            "",
            *NOTES,
            "",
            "## Mutants not killed, each explained",
            "",
            *(details or ["None."]),
        ]
    )
    return text, score


def mutmut_version() -> str:
    from importlib.metadata import version

    return version("mutmut")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated groups (default: all)")
    parser.add_argument("--children", type=int, default=2, help="parallel mutants (default 2)")
    parser.add_argument("--target", type=float, default=0.90, help="fail below this share killed")
    args = parser.parse_args(argv)
    chosen = [g for g in GROUPS if not args.only or g.name in args.only.split(",")]
    started = time.monotonic()
    results = []
    for group in chosen:
        print(f"mutants: {group.name} ({', '.join(group.modules)})", flush=True)
        results.append(run_group(group, args.children))
        counts = Counter(results[-1]["statuses"].values())
        print(f"  {dict(counts)} in {results[-1]['seconds']:.0f} s", flush=True)
    text, score = report(results, time.monotonic() - started)
    REPORT.write_text(text + "\n")
    unexplained = re.findall(r"### `([^`]+)`.*\n\n\*\*not explained\*\*", text)
    print(f"mutants: {score:.1%} killed; report {REPORT.relative_to(ROOT)}", flush=True)
    if unexplained:
        shown = ", ".join(unexplained[:10]) + (" ..." if len(unexplained) > 10 else "")
        print(f"mutants: {len(unexplained)} not killed and not explained (see the report): {shown}")
    return 0 if score >= args.target and not unexplained else 1


if __name__ == "__main__":
    sys.exit(main())
