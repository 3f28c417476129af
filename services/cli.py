"""``lianxin``: the operator's command line (tenants, migrations, topology, dead letters, run)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from services.common import deadletters, migrate, topology
from services.common.broker import ConfirmingPublisher
from services.common.config import SERVICES, database_url, service_config, setting
from services.common.db import Store, make_engine


def store(service: str) -> Store:
    return Store(make_engine(database_url(service)))


def dead_letter_model(service: str) -> type:
    module = __import__(f"services.{service}.models", fromlist=["DeadLetter"])
    return module.DeadLetter


def cmd_migrate(args: argparse.Namespace) -> int:
    for service in args.service or SERVICES:
        migrate.upgrade(service, database_url(service))
        print(f"migrated {service}")
    return 0


def cmd_topology(args: argparse.Namespace) -> int:
    count = topology.declare(service_config("gateway"))
    print(f"declared {len(SERVICES)} exchanges and {count} event queues")
    return 0


def cmd_tenant_create(args: argparse.Namespace) -> int:
    from services.gateway import tenants

    with store("gateway").transaction() as session:
        created = tenants.create_tenant(session, args.name, args.community)
    print(json.dumps({"tenant_id": created["tenant_id"], "api_key": created["api_key"]}, ensure_ascii=False))
    return 0


def cmd_tenant_key_rotate(args: argparse.Namespace) -> int:
    from services.common.errors import NotFound
    from services.gateway import tenants

    try:
        with store("gateway").transaction() as session:
            rotated = tenants.rotate_key(session, args.name)
    except NotFound as exc:
        print(exc.detail, file=sys.stderr)
        return 1
    print(json.dumps(rotated, ensure_ascii=False))
    return 0


def cmd_dlq_list(args: argparse.Namespace) -> int:
    rows = []
    for service in args.service or SERVICES:
        rows += [
            letter.summary()
            for letter in deadletters.list_letters(service, store(service), dead_letter_model(service), args.all)
        ]
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    if not rows:
        print("no dead letters", file=sys.stderr)
    return 0


def cmd_dlq_replay(args: argparse.Namespace) -> int:
    if not args.id and not args.all:
        print("give a dead-letter ID or --all", file=sys.stderr)
        return 2
    publisher = ConfirmingPublisher(setting("AMQP_URI"))
    total = 0
    try:
        for service in SERVICES:
            total += deadletters.replay(store(service), dead_letter_model(service), publisher, args.id)
    finally:
        publisher.close()
    print(f"replayed {total} dead letter{'s' if total != 1 else ''}")
    return 0 if total or args.all else 1


def cmd_seed(args: argparse.Namespace) -> int:
    from services import demo

    for row in demo.seed(store("gateway"), store("requests"), store("volunteers")):
        print(json.dumps(row, ensure_ascii=False))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from services import platform

    return platform.run()


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="lianxin", description="Operate the Lianxin platform.")
    sub = root.add_subparsers(dest="command", required=True)

    p = sub.add_parser("migrate", help="apply every service's database migrations")
    p.add_argument("--service", action="append", choices=SERVICES)
    p.set_defaults(func=cmd_migrate)

    topo = sub.add_parser("topology", help="RabbitMQ exchanges and queues").add_subparsers(dest="action", required=True)
    topo.add_parser("declare", help="declare exchanges, event queues and retry queues").set_defaults(func=cmd_topology)

    tenant = sub.add_parser("tenant", help="property companies").add_subparsers(dest="action", required=True)
    p = tenant.add_parser("create", help="create a tenant and print its first API key (shown once)")
    p.add_argument("--name", required=True)
    p.add_argument("--community", default=None)
    p.set_defaults(func=cmd_tenant_create)
    key = tenant.add_parser("key", help="API keys").add_subparsers(dest="key_action", required=True)
    p = key.add_parser("rotate", help="issue a new key (printed once) and revoke the tenant's older keys")
    p.add_argument("--name", required=True)
    p.set_defaults(func=cmd_tenant_key_rotate)

    dlq = sub.add_parser("dlq", help="the dead-letter stores").add_subparsers(dest="action", required=True)
    p = dlq.add_parser("list", help="list dead letters (JSON lines)")
    p.add_argument("--service", action="append", choices=SERVICES)
    p.add_argument("--all", action="store_true", help="include replayed letters")
    p.set_defaults(func=cmd_dlq_list)
    p = dlq.add_parser("replay", help="send dead letters back to their queue")
    p.add_argument("id", nargs="?")
    p.add_argument("--all", action="store_true")
    p.set_defaults(func=cmd_dlq_replay)

    seed = sub.add_parser("seed", help="demo data").add_subparsers(dest="action", required=True)
    seed.add_parser("demo", help="政通路社区 with three companies").set_defaults(func=cmd_seed)

    sub.add_parser("run", help="run the whole platform locally (what `make run` does)").set_defaults(func=cmd_run)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
