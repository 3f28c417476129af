"""`make guarantees-off`: switch each reliability guarantee off in a scratch copy and watch its tests fail.

Four named patches, each applied alone to a fresh copy of the tree (``var/guarantees-off/<name>``,
never the working tree), then the fast tests that claim the guarantee are run there. The check
passes only if every patch turns at least one claiming test red, and the same tests are green on
the unpatched copy first. Not part of CI.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tools.scratch import ROOT, imported_from, scratch_copy

SCRATCH = ROOT / "var" / "guarantees-off"


@dataclass(frozen=True)
class Patch:
    name: str
    what: str
    module: str
    old: str
    new: str
    tests: tuple[str, ...]


PATCHES = (
    Patch(
        "inbox-off",
        "the inbox records nothing, so a redelivered event is applied again",
        "services/common/database.py",
        'session.add(inbox_model(event_id=event["id"], handler=handler, event_type=event["type"]))',
        "pass  # guarantee off: no inbox record",
        ("tests/unit/test_outbox_and_inbox.py", "tests/unit/test_inbox_and_emit.py"),
    ),
    Patch(
        "outbox-after-commit",
        "emit writes the outbox row in its own transaction after the change's commit, not in it",
        "services/common/database.py",
        "        outbox.record(session, self._provider.models[0], event)\n",
        # Run by the store once the change's session has committed and closed (where it wakes the relay).
        "        def after_commit() -> None:  # guarantee off: the outbox written after the commit\n"
        "            self.store._after_commit.remove(after_commit)\n"
        "            with self.store.transaction(notify=False) as own:\n"
        "                outbox.record(own, self._provider.models[0], event)\n\n"
        "        self.store.on_commit(after_commit)\n",
        ("tests/unit/test_outbox_and_inbox.py", "tests/unit/test_inbox_and_emit.py"),
    ),
    Patch(
        "retry-acks-early",
        "the consumer acks a failed message before its retry or dead letter is stored",
        "services/common/subscribe.py",
        "        if exc_info is not None:\n            try:",
        "        self.queue_consumer.ack_message(message)  # guarantee off: acked first\n"
        "        if exc_info is not None:\n            try:",
        ("tests/unit/test_subscription_acks.py", "tests/unit/test_retry_rule.py"),
    ),
    Patch(
        "tenant-filter-dropped",
        "revoking a key no longer checks that the key is the calling company's",
        "services/gateway/tenants.py",
        "    if key is None or key.tenant_id != tenant_id:",
        "    if key is None:  # guarantee off: any company's key",
        ("tests/unit/test_tenant_keys.py", "tests/unit/test_authorization.py"),
    ),
)


def run_tests(where: Path, tests: tuple[str, ...]) -> tuple[int, str]:
    """Run ``tests`` in the copy; the copy's ``services`` is first on the path of every process."""
    env = dict(os.environ, PYTHONPATH=str(where))
    stray = [p for p in imported_from(["services.common.database"], SCRATCH, env) if not p.startswith(str(where))]
    if stray:
        raise SystemExit(f"{where.name}: a process imports the working tree's code: {stray}")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "--no-header", "-rf", *tests],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
    )
    return done.returncode, done.stdout


def apply(where: Path, patch: Patch) -> None:
    path = where / patch.module
    text = path.read_text()
    if text.count(patch.old) != 1:
        raise SystemExit(f"{patch.name}: the code to switch off is not found once in {patch.module}; update the patch")
    path.write_text(text.replace(patch.old, patch.new))


def summary(output: str) -> str:
    lines = output.strip().splitlines()
    return lines[-1] if lines else "(no output)"


def main() -> int:
    every_test = tuple(dict.fromkeys(t for patch in PATCHES for t in patch.tests))
    baseline = scratch_copy(SCRATCH / "baseline")
    code, output = run_tests(baseline, every_test)
    print(f"baseline (nothing switched off): {summary(output)}")
    if code != 0:
        print(output)
        return 1
    stayed_green = []
    for patch in PATCHES:
        where = scratch_copy(SCRATCH / patch.name)
        apply(where, patch)
        code, output = run_tests(where, patch.tests)
        failed = sorted(set(re.findall(r"^FAILED (\S+)", output, re.MULTILINE)))
        verdict = "FAILED as it should" if code != 0 and failed else "STAYED GREEN"
        print(f"\n{patch.name}: {patch.what} ({patch.module})\n  {verdict}: {summary(output)}")
        for test in failed:
            print(f"    red: {test}")
        if verdict == "STAYED GREEN":
            stayed_green.append(patch.name)
    if stayed_green:
        print(f"\nguarantees-off: no claiming test failed for {', '.join(stayed_green)}")
        return 1
    print(f"\nguarantees-off: all {len(PATCHES)} switched-off guarantees were caught by their tests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
