"""``lianxin``: the operator's command line (tenants, migrations, topology, dead letters, households, run)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence

from services.common import deadletters
from services.common.broker import ConfirmingPublisher
from services.common.config import SERVICES, setting
from services.common.stores import declare_topology, migrate_all, store


def dead_letter_model(service: str) -> type:
    module = __import__(f"services.{service}.models", fromlist=["DeadLetter"])
    return module.DeadLetter


def cmd_migrate(args: argparse.Namespace) -> int:
    migrate_all(args.service)
    return 0


def cmd_topology(args: argparse.Namespace) -> int:
    declare_topology()
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


def cmd_tenant_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from services.gateway.models import Tenant

    with store("gateway").read() as session:
        query = select(Tenant).order_by(Tenant.community, Tenant.name)
        if args.community:
            query = query.where(Tenant.community == args.community)
        for tenant in session.scalars(query):
            print(
                json.dumps(
                    {"tenant_id": tenant.id, "name": tenant.name, "community": tenant.community}, ensure_ascii=False
                )
            )
    return 0


def _tenant_named(session, name: str):  # noqa: ANN001, ANN202 - a Session and a Tenant
    from services.gateway import tenants

    found = tenants.find_tenant(session, name)
    if found is None:
        raise SystemExit(f"no tenant named {name!r}")
    return found


def cmd_key_list(args: argparse.Namespace) -> int:
    from services.gateway import tenants

    with store("gateway").read() as session:
        for key in tenants.list_keys(session, _tenant_named(session, args.tenant).id):
            print(
                json.dumps(
                    {
                        "key_id": key.id,
                        "prefix": key.prefix,
                        "role": key.role,
                        "rate_limit": key.rate_limit,
                        "created_at": key.created_at.isoformat() + "Z",
                        "revoked_at": key.revoked_at.isoformat() + "Z" if key.revoked_at else None,
                    }
                )
            )
    return 0


def cmd_key_create(args: argparse.Namespace) -> int:
    from services.gateway import tenants

    with store("gateway").transaction() as session:
        tenant = _tenant_named(session, args.tenant)
        key = tenants.issue_key(session, tenant.id, role=args.role, rate_limit=args.rate_limit)
    print(json.dumps({"tenant_id": tenant.id, "role": args.role, "api_key": key}))
    return 0


def cmd_app_key_issue(args: argparse.Namespace) -> int:
    from services.common.errors import NotFound
    from services.gateway import tenants

    try:
        with store("gateway").transaction() as session:
            issued = tenants.issue_app_key(session, args.tenant, args.name, args.rate_limit)
    except NotFound as exc:
        print(exc.detail, file=sys.stderr)
        return 1
    print(json.dumps(issued, ensure_ascii=False))
    return 0


def cmd_app_key_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from services.gateway.models import ApiKey, Tenant

    with store("gateway").read() as session:
        rows = session.execute(
            select(ApiKey, Tenant.name).join(Tenant, Tenant.id == ApiKey.tenant_id).where(ApiKey.role == "resident_app")
        )
        for key, tenant in rows:
            revoked = key.revoked_at.isoformat() + "Z" if key.revoked_at else None
            line = {"key_id": key.id, "app": key.label, "tenant": tenant, "prefix": key.prefix, "revoked_at": revoked}
            print(json.dumps(line, ensure_ascii=False))
    return 0


def cmd_key_revoke(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from services.common.db import utcnow
    from services.gateway.models import ApiKey

    with store("gateway").transaction() as session:
        tenant = _tenant_named(session, args.tenant)
        keys = session.scalars(select(ApiKey).where(ApiKey.tenant_id == tenant.id, ApiKey.prefix == args.prefix)).all()
        for key in keys:
            key.revoked_at = key.revoked_at or utcnow()
    if not keys:
        print(f"no key with prefix {args.prefix!r} for {args.tenant}", file=sys.stderr)
        return 1
    print(f"revoked {len(keys)} key{'s' if len(keys) != 1 else ''}")
    return 0


def cmd_cases_export(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from services.requests import export

    with store("gateway").read() as session:
        tenant = _tenant_named(session, args.tenant)
    since = datetime.fromisoformat(args.since)
    if since.tzinfo is not None:
        since = since.astimezone(UTC).replace(tzinfo=None)
    with contextlib.ExitStack() as stack:
        out = (
            stack.enter_context(open(args.output, "w", encoding="utf-8-sig", newline="")) if args.output else sys.stdout
        )
        with store("requests").read() as session:
            for chunk in export.to_csv(export.rows(session, tenant.id, since, args.with_contacts), args.with_contacts):
                out.write(chunk)
    return 0


def cmd_estate_qr(args: argparse.Namespace) -> int:
    """The estate's poster (.svg or .png by the file's suffix) with its QR code to ``/e/<estate_id>``."""
    from services.common.config import public_base_url
    from services.gateway import qr
    from services.requests.models import Estate

    with store("requests").read() as session:
        estate = session.get(Estate, args.estate_id)
        name = estate.name if estate is not None else None
    if name is None:
        print(f"no estate {args.estate_id}", file=sys.stderr)
        return 1
    out = args.out or f"estate-{args.estate_id}.svg"
    url = qr.estate_url(public_base_url(), args.estate_id)
    if out.lower().endswith(".png"):
        try:
            data = qr.poster_png(url, name)
        except qr.NoChineseFont as exc:
            print(exc, file=sys.stderr)
            return 1
    elif out.lower().endswith(".svg"):
        data = qr.poster_svg(url, name)
    else:
        print("--out must end in .svg or .png", file=sys.stderr)
        return 2
    with open(out, "wb") as target:
        target.write(data)
    print(json.dumps({"estate_id": args.estate_id, "name": name, "url": url, "file": out}, ensure_ascii=False))
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

    seeded = demo.seed(store("gateway"), store("requests"), store("volunteers"))
    for row in seeded.companies:
        print(json.dumps(row, ensure_ascii=False))
    for line in demo.key_lines(seeded):  # each new key this once; otherwise how to issue one
        print(line)
    return 0


def cmd_contacts_import(args: argparse.Namespace) -> int:
    from services.notifications import imports

    with open(args.file, encoding="utf-8-sig") as file:
        text = file.read()
    as_json = args.format == "json" or (args.format is None and args.file.lower().endswith(".json"))
    rows = json.loads(text) if as_json else imports.rows_from_csv(text)
    if isinstance(rows, dict):
        rows = rows.get("contacts", [])
    with store("notifications").transaction() as session:
        report = imports.import_rows(session, args.tenant, rows)
    print(json.dumps(report, ensure_ascii=False))
    return 0 if not report["rejected"] else 1


def _community_estates(community: str) -> dict[str, str]:
    """estate id → tenant id for the community's companies (what the gateway asks the requests service)."""
    from sqlalchemy import select

    from services.gateway.models import Tenant
    from services.requests import cases

    with store("gateway").read() as session:
        tenant_ids = sorted(session.scalars(select(Tenant.id).where(Tenant.community == community)))
    if not tenant_ids:
        raise SystemExit(f"no community named {community!r}")
    with store("requests").read() as session:
        return {estate["id"]: tenant for tenant in tenant_ids for estate in cases.list_estates(session, tenant)}


def cmd_households_import(args: argparse.Namespace) -> int:
    from services.common.db import utcnow
    from services.common.errors import ValidationFailed
    from services.gateway import register

    estates = _community_estates(args.community)
    with open(args.file, encoding="utf-8-sig") as file:
        text = file.read()
    try:
        rows = register.rows_from_csv(text)
        with store("gateway").transaction() as session:
            report = register.import_rows(session, args.community, rows, estates, "cli", utcnow())
    except ValidationFailed as exc:
        print(json.dumps({"detail": exc.detail, "errors": exc.errors}, ensure_ascii=False), file=sys.stderr)
        return 1
    summary = {k: report[k] for k in ("received", "created", "confirmed", "unchanged")}
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def cmd_households_list(args: argparse.Namespace) -> int:
    from services.gateway import register

    query: dict = {"limit": 100, "status": args.status}
    with store("gateway").read() as session:
        while True:
            found = register.listing(session, args.community, query)
            for row in found["data"]:
                print(json.dumps(row, ensure_ascii=False))
            if not found["has_more"]:
                return 0
            query["starting_after"] = found["data"][-1]["id"]


def cmd_staff_invite(args: argparse.Namespace) -> int:
    """The operator invites a company's first admin or a community's first supervisor (they invite the rest)."""
    from marshmallow import ValidationError

    from services.common.db import utcnow
    from services.common.errors import Conflict, NotFound, ValidationFailed
    from services.common.fields import mainland_mobile
    from services.gateway import staff

    try:
        phone = mainland_mobile(args.phone)
    except ValidationError:
        print(f"not a mainland mobile number: {args.phone}", file=sys.stderr)
        return 2
    try:
        with store("gateway").transaction() as session:
            member = staff.invite_first(
                session, phone, args.name, utcnow(), company=args.company, community=args.community
            )
    except (NotFound, Conflict, ValidationFailed) as exc:
        print(exc.detail, file=sys.stderr)
        return 1
    line = {
        "membership_id": member.id,
        "role": member.role,
        "company": member.tenant_name,
        "community": member.community,
        "name": member.name,
        "sign_in": "/signin?next=/workbench",
    }
    print(json.dumps(line, ensure_ascii=False))
    return 0


def cmd_staff_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from services.common.phones import mask_phone
    from services.gateway import staff
    from services.gateway.models import Tenant

    with store("gateway").read() as session:
        if args.company:
            tenant_id = session.scalar(select(Tenant.id).where(Tenant.name == args.company))
            if tenant_id is None:
                print(f"no company named {args.company!r}", file=sys.stderr)
                return 1
            found = staff.members(session, tenant_id=tenant_id)
        else:
            found = staff.members(session, community=args.community)
    for member in found:
        line = {"membership_id": member.id, "role": member.role, "name": member.name, "phone": mask_phone(member.phone)}
        print(json.dumps(line, ensure_ascii=False))
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
    p = tenant.add_parser("list", help="tenants (JSON lines)")
    p.add_argument("--community", default=None)
    p.set_defaults(func=cmd_tenant_list)
    key = tenant.add_parser("key", help="API keys").add_subparsers(dest="key_action", required=True)
    p = key.add_parser("rotate", help="issue a new key (printed once) and revoke the tenant's older keys")
    p.add_argument("--name", required=True)
    p.set_defaults(func=cmd_tenant_key_rotate)

    keys = sub.add_parser("key", help="API keys with roles").add_subparsers(dest="action", required=True)
    p = keys.add_parser("list", help="a tenant's keys, prefixes only (JSON lines)")
    p.add_argument("--tenant", required=True, help="tenant name")
    p.set_defaults(func=cmd_key_list)
    p = keys.add_parser("create", help="issue a key with a role (printed once)")
    p.add_argument("--tenant", required=True, help="tenant name")
    p.add_argument("--role", required=True, choices=("company_admin", "company_staff", "supervisor"))
    p.add_argument("--rate-limit", default=None, help="e.g. 100/second (default: RATE_LIMIT)")
    p.set_defaults(func=cmd_key_create)
    p = keys.add_parser("revoke", help="revoke a tenant's key by its prefix")
    p.add_argument("--tenant", required=True, help="tenant name")
    p.add_argument("prefix")
    p.set_defaults(func=cmd_key_revoke)

    apps = sub.add_parser(
        "app-key", help="keys of apps that act for residents who sign in through them (operator only)"
    ).add_subparsers(dest="action", required=True)
    p = apps.add_parser(
        "issue", help="issue a resident_app key for an app serving a company's residents (printed once)"
    )
    p.add_argument("name", help="the app's name, e.g. 连心App")
    p.add_argument("--tenant", required=True, help="the company (tenant name) whose residents the app serves")
    p.add_argument("--rate-limit", default=None, help="e.g. 100/second (default: RATE_LIMIT)")
    p.set_defaults(func=cmd_app_key_issue)
    apps.add_parser("list", help="every app key (JSON lines; revoke with `key revoke`)").set_defaults(
        func=cmd_app_key_list
    )

    cases = sub.add_parser("cases", help="cases").add_subparsers(dest="action", required=True)
    p = cases.add_parser("export", help="a tenant's cases as CSV (UTF-8 with BOM, opens in Excel)")
    p.add_argument("--tenant", required=True, help="tenant name")
    p.add_argument("--since", required=True, help="ISO date or time, e.g. 2026-01-01 (no offset: UTC)")
    p.add_argument("--output", default=None, help="file (default: standard output)")
    p.add_argument("--with-contacts", action="store_true", help="include reporters' names, phones, households")
    p.set_defaults(func=cmd_cases_export)

    estate = sub.add_parser("estate", help="estates").add_subparsers(dest="action", required=True)
    p = estate.add_parser("qr", help="a printable poster whose QR code opens <PUBLIC_BASE_URL>/e/ESTATE_ID")
    p.add_argument("estate_id")
    p.add_argument("--out", default=None, help="FILE.svg or FILE.png (default: estate-<id>.svg)")
    p.set_defaults(func=cmd_estate_qr)

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

    contacts = sub.add_parser("contacts", help="residents' contacts").add_subparsers(dest="action", required=True)
    p = contacts.add_parser("import", help="import contacts from CSV (header line) or JSON; prints a report")
    p.add_argument("--tenant", required=True, help="tenant id (as printed by `tenant create`)")
    p.add_argument("--format", choices=("csv", "json"), help="default: by the file's extension")
    p.add_argument("file")
    p.set_defaults(func=cmd_contacts_import)

    homes = sub.add_parser("households", help="the community's household register").add_subparsers(
        dest="action", required=True
    )
    p = homes.add_parser("import", help="confirm the households of a CSV (estate_id,household,phone): all or none")
    p.add_argument("community", help="the community's name, e.g. 政通路社区")
    p.add_argument("file")
    p.set_defaults(func=cmd_households_import)
    p = homes.add_parser("list", help="the community's register and claims, newest first (JSON lines)")
    p.add_argument("community")
    p.add_argument("--status", choices=("pending", "confirmed", "rejected"), default=None)
    p.set_defaults(func=cmd_households_list)

    people = sub.add_parser("staff", help="workbench people (the operator invites the first of each)").add_subparsers(
        dest="action", required=True
    )
    p = people.add_parser("invite", help="invite a company's first admin (--company) or a community's first supervisor")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--company", help="the company's name (lianxin tenant list)")
    where.add_argument("--community", help="the community's name, e.g. 政通路社区")
    p.add_argument("--phone", required=True, help="the mobile they sign in with (one-time code)")
    p.add_argument("--name", required=True, help="how they are shown in timelines and audits")
    p.set_defaults(func=cmd_staff_invite)
    p = people.add_parser("list", help="a company's staff or a community's supervisors (JSON lines, phones masked)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--company")
    where.add_argument("--community")
    p.set_defaults(func=cmd_staff_list)

    sub.add_parser("run", help="run the whole platform locally (what `make run` does)").set_defaults(func=cmd_run)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
