"""The workbench's settings (issue 16): a company admin sets case categories and their SLA hours,
notification settings and quiet hours, survey timing, API keys and webhooks in a browser.

Every page reads and changes through the same RPCs (or, for keys, the same functions) as
``/api/v1/case-categories``, ``/notification-settings``, ``/survey-settings``, ``/keys`` and
``/webhooks``, with the membership's company as the tenant: another company's key or webhook is
the 404 page, as over the API. Company admins only: staff (and a supervisor) get the 403 page,
nothing changed. Every form carries the session's CSRF token; bad input is a 422 with what was
typed and a message per field (a webhook URL the address policy refuses, too). A new key's or a
webhook's secret is in the answer to the POST that made it and nowhere else: never stored in
clear, never shown again, not on a reload (the page is ``no-store``).

Nobody is faked: the API records no creator of a key or a webhook, so there is none to record
here; a key's revocation passes the person's actor where the API passes the calling key's id.
"""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from services.common.errors import Conflict, NotFound, ValidationFailed
from services.gateway import staff
from services.gateway.apidoc import Route, page_id
from services.gateway.authorization import Forbidden
from services.gateway.http import Answered, endpoint
from services.gateway.people import see_other
from services.gateway.routes.keys import KeySchema, issued, revoked_key
from services.gateway.routes.workbench import WorkbenchRoutes, _page
from services.gateway.routes.workbench_incidents import known_length
from services.gateway.sessions import SignedIn
from services.gateway.tenants import list_keys
from services.gateway.workbench import field_errors, workbench_page
from services.gateway.workbench_settings import (
    category_payload,
    key_payload,
    notification_payload,
    quiet_errors,
    said,
    sla_errors,
    survey_payload,
    webhook_payload,
)

DONE = {"category": "类别已保存", "notifications": "通知设置已保存", "surveys": "回访评价设置已保存",
        "revoked": "密钥已撤销", "deleted": "Webhook 已删除", "enabled": "Webhook 已重新启用"}  # fmt: skip
ADMINS_ONLY = "只有公司管理员可以修改设置。"


class WorkbenchSettingsRoutes(WorkbenchRoutes):
    # --- who may ------------------------------------------------------------------------------

    def _company_admin(self, request: Request) -> tuple[SignedIn, staff.Membership]:
        """The company membership the person acts as (the switcher's choice, else their first company's)
        if it is an admin's; else the 403 page (staff, a supervisor: nothing changes)."""
        person, member = self._at_workbench(request)
        if member.role != "company_admin":
            raise Answered(self._workbench_message(person, member, 403, "没有权限", ADMINS_ONLY))
        return person, member

    def _settings_page(
        self, template: str, person: SignedIn, member: staff.Membership, status: int = 200, **shown: object
    ) -> Response:
        shown.setdefault("errors", {})
        shown.setdefault("typed", {})
        return workbench_page(template, person, member, status, **shown)

    def _not_ours(self, person: SignedIn, member: staff.Membership, what: str) -> Answered:
        return Answered(
            self._workbench_message(person, member, 404, f"没有找到这个{what}", f"{what}不存在，或不属于您的公司。")
        )

    def _done(self, request: Request) -> str | None:
        return DONE.get(request.args.get("done", ""))

    # --- categories and their SLA ---------------------------------------------------------------

    def _categories_page(
        self, person: SignedIn, member: staff.Membership, status: int = 200, **shown: object
    ) -> Response:
        found = self._call("requests", "list_categories", member.tenant_id)
        return self._settings_page(
            "workbench_settings_categories.html", person, member, status, categories=found, **shown
        )

    @endpoint("GET", "/workbench/settings/categories")
    def workbench_categories(self, request: Request) -> Response:
        person, member = self._company_admin(request)
        return self._categories_page(person, member, done=self._done(request))

    def _configure(
        self, request: Request, person: SignedIn, member: staff.Membership, current: dict | None, form: str
    ) -> Response:
        """Add (``current`` None) or change a category through ``configure_category``: 303, or the page with why not."""
        payload = category_payload(request.form, current)
        try:
            self._call("requests", "configure_category", member.tenant_id, payload)
        except ValidationFailed as exc:
            errors = {form: said(field_errors(sla_errors(exc.errors)))}
            return self._categories_page(person, member, 422, errors=errors, typed={form: request.form.to_dict()})
        return see_other(f"/workbench/settings/categories?done=category#{payload['code']}")

    @endpoint("POST", "/workbench/settings/categories")
    def workbench_add_category(self, request: Request) -> Response:
        person, member = self._company_admin(request)
        self._check_csrf(request, person)
        return self._configure(request, person, member, None, "new")

    @endpoint("POST", "/workbench/settings/categories/<string:code>")
    def workbench_change_category(self, request: Request, code: str) -> Response:
        known_length(code)
        person, member = self._company_admin(request)
        self._check_csrf(request, person)
        current = next(
            (c for c in self._call("requests", "list_categories", member.tenant_id) if c["code"] == code), None
        )
        if current is None:
            raise self._not_ours(person, member, "类别")
        return self._configure(request, person, member, current, code)

    # --- notification settings and quiet hours -------------------------------------------------

    @endpoint("GET", "/workbench/settings/notifications")
    def workbench_notification_settings(self, request: Request) -> Response:
        person, member = self._company_admin(request)
        current = self._call("notifications", "get_settings", member.tenant_id)
        return self._settings_page("workbench_settings_notifications.html", person, member,
                                   current=current, done=self._done(request))  # fmt: skip

    @endpoint("POST", "/workbench/settings/notifications")
    def workbench_save_notification_settings(self, request: Request) -> Response:
        person, member = self._company_admin(request)
        self._check_csrf(request, person)
        try:
            self._call("notifications", "save_settings", member.tenant_id, notification_payload(request.form))
        except ValidationFailed as exc:
            current = self._call("notifications", "get_settings", member.tenant_id)
            return self._settings_page(
                "workbench_settings_notifications.html", person, member, 422, current=current,
                errors=said(field_errors(quiet_errors(exc.errors))), typed=request.form.to_dict(),
            )  # fmt: skip
        return see_other("/workbench/settings/notifications?done=notifications")

    # --- survey timing ---------------------------------------------------------------------------

    @endpoint("GET", "/workbench/settings/surveys")
    def workbench_survey_settings(self, request: Request) -> Response:
        person, member = self._company_admin(request)
        current = self._call("surveys", "get_settings", member.tenant_id)
        return self._settings_page("workbench_settings_surveys.html", person, member, current=current,
                                   done=self._done(request))  # fmt: skip

    @endpoint("POST", "/workbench/settings/surveys")
    def workbench_save_survey_settings(self, request: Request) -> Response:
        person, member = self._company_admin(request)
        self._check_csrf(request, person)
        try:
            self._call("surveys", "save_settings", member.tenant_id, survey_payload(request.form))
        except ValidationFailed as exc:
            current = self._call("surveys", "get_settings", member.tenant_id)
            return self._settings_page(
                "workbench_settings_surveys.html", person, member, 422, current=current,
                errors=said(field_errors(exc.errors)), typed=request.form.to_dict(),
            )  # fmt: skip
        return see_other("/workbench/settings/surveys?done=surveys")

    # --- API keys ----------------------------------------------------------------------------------

    def _keys_page(self, person: SignedIn, member: staff.Membership, status: int = 200, **shown: object) -> Response:
        with self.db.read() as session:
            keys = KeySchema(many=True).dump(list_keys(session, member.tenant_id))  # as GET /api/v1/keys
        return self._settings_page("workbench_settings_keys.html", person, member, status, keys=keys, **shown)

    @endpoint("GET", "/workbench/settings/keys")
    def workbench_keys(self, request: Request) -> Response:
        person, member = self._company_admin(request)
        return self._keys_page(person, member, done=self._done(request))

    @endpoint("POST", "/workbench/settings/keys")
    def workbench_issue_key(self, request: Request) -> Response:
        """The new key is in this answer only (a 201 page, not a redirect to a page that could show it again)."""
        person, member = self._company_admin(request)
        self._check_csrf(request, person)
        try:
            with self.db.transaction() as session:
                created = issued(session, member.tenant_id, key_payload(request.form))
        except ValidationFailed as exc:
            return self._keys_page(
                person, member, 422, errors=said(field_errors(exc.errors)), typed=request.form.to_dict()
            )
        return self._keys_page(person, member, 201, created=created)

    @endpoint("POST", "/workbench/settings/keys/<string:key_id>/revoke")
    def workbench_revoke_key(self, request: Request, key_id: str) -> Response:
        known_length(key_id)
        person, member = self._company_admin(request)
        self._check_csrf(request, person)
        try:
            with self.db.transaction() as session:
                revoked_key(session, member.tenant_id, key_id, member.actor)  # no key of the person's: no self to spare
        except NotFound:
            raise self._not_ours(person, member, "密钥") from None
        except Forbidden:
            return self._keys_page(person, member, 403, error="住户应用的密钥由平台签发，只能由平台撤销。")
        return see_other("/workbench/settings/keys?done=revoked")

    # --- webhooks ------------------------------------------------------------------------------------

    def _webhooks_page(
        self, person: SignedIn, member: staff.Membership, status: int = 200, **shown: object
    ) -> Response:
        found = self._call("notifications", "list_webhooks", member.tenant_id)["data"]
        return self._settings_page("workbench_settings_webhooks.html", person, member, status, webhooks=found, **shown)

    def _company_webhook(self, person: SignedIn, member: staff.Membership, webhook_id: str) -> dict:
        known_length(webhook_id)
        try:
            return self._call("notifications", "get_webhook", member.tenant_id, webhook_id)
        except NotFound:
            raise self._not_ours(person, member, "Webhook") from None

    @endpoint("GET", "/workbench/settings/webhooks")
    def workbench_webhooks(self, request: Request) -> Response:
        person, member = self._company_admin(request)
        return self._webhooks_page(person, member, done=self._done(request))

    @endpoint("POST", "/workbench/settings/webhooks")
    def workbench_create_webhook(self, request: Request) -> Response:
        """The URL goes through the same address policy as over the API; the secret is in this answer only."""
        person, member = self._company_admin(request)
        self._check_csrf(request, person)
        payload = webhook_payload(request.form)
        typed = {"url": payload["url"], "event_types": payload["event_types"]}
        try:
            created = self._call("notifications", "create_webhook", member.tenant_id, payload)
        except ValidationFailed as exc:
            return self._webhooks_page(person, member, 422, errors=said(field_errors(exc.errors)), typed=typed)
        except Conflict as exc:  # the company's cap
            return self._webhooks_page(person, member, 409, errors={"url": exc.detail}, typed=typed)
        return self._webhooks_page(person, member, 201, created=created)

    @endpoint("GET", "/workbench/settings/webhooks/<string:webhook_id>")
    def workbench_webhook(self, request: Request, webhook_id: str) -> Response:
        person, member = self._company_admin(request)
        webhook = self._company_webhook(person, member, webhook_id)
        deliveries = self._call("notifications", "webhook_deliveries", member.tenant_id, webhook_id, {"limit": "50"})
        return self._settings_page("workbench_settings_webhook.html", person, member, webhook=webhook,
                                   deliveries=deliveries["data"], done=self._done(request))  # fmt: skip

    def _webhook_change(self, request: Request, webhook_id: str) -> tuple[SignedIn, staff.Membership]:
        person, member = self._company_admin(request)
        self._check_csrf(request, person)
        self._company_webhook(person, member, webhook_id)
        return person, member

    @endpoint("POST", "/workbench/settings/webhooks/<string:webhook_id>/delete")
    def workbench_delete_webhook(self, request: Request, webhook_id: str) -> Response:
        _person, member = self._webhook_change(request, webhook_id)
        self._call("notifications", "delete_webhook", member.tenant_id, webhook_id)
        return see_other("/workbench/settings/webhooks?done=deleted")

    @endpoint("POST", "/workbench/settings/webhooks/<string:webhook_id>/enable")
    def workbench_enable_webhook(self, request: Request, webhook_id: str) -> Response:
        _person, member = self._webhook_change(request, webhook_id)
        self._call("notifications", "enable_webhook", member.tenant_id, webhook_id)
        return see_other(f"/workbench/settings/webhooks/{webhook_id}?done=enabled")

    @endpoint("POST", "/workbench/settings/webhooks/<string:webhook_id>/secret")
    def workbench_rotate_webhook_secret(self, request: Request, webhook_id: str) -> Response:
        """A new secret, in this answer only; the old one keeps signing for the API's default grace."""
        person, member = self._webhook_change(request, webhook_id)
        rotated = self._call("notifications", "rotate_webhook_secret", member.tenant_id, webhook_id, {})
        deliveries = self._call("notifications", "webhook_deliveries", member.tenant_id, webhook_id, {"limit": "50"})
        return self._settings_page("workbench_settings_webhook.html", person, member, webhook=rotated,
                                   deliveries=deliveries["data"], created=rotated)  # fmt: skip


KEY = page_id("key_id")
WEBHOOK = page_id("webhook_id")
CODE = page_id("code")

ROUTES: tuple[Route, ...] = (
    _page("GET", "/workbench/settings/categories", "Admins: the company's case categories with their SLA hours",
          errors=(303, 403)),
    _page("POST", "/workbench/settings/categories", "Admins: add a category (form: csrf, code, name, team, "
          "response_hours, resolution_hours) as POST /api/v1/case-categories", None, 303, errors=(403, 422)),
    _page("POST", "/workbench/settings/categories/{code}", "Admins: change a category's normal-priority SLA hours "
          "(form: csrf, response_hours, resolution_hours)", None, 303, params=(CODE,), errors=(403, 404, 422)),
    _page("GET", "/workbench/settings/notifications", "Admins: notification settings and quiet hours",
          errors=(303, 403)),
    _page("POST", "/workbench/settings/notifications", "Admins: save them (form: csrf, company_name, hotline, "
          "quiet_start, quiet_end, timezone) as PUT /api/v1/notification-settings", None, 303, errors=(403, 422)),
    _page("GET", "/workbench/settings/surveys", "Admins: survey timing", errors=(303, 403)),
    _page("POST", "/workbench/settings/surveys", "Admins: save it (form: csrf, link_delay_minutes, expiry_days, "
          "reminder_after_hours) as PUT /api/v1/survey-settings", None, 303, errors=(403, 422)),
    _page("GET", "/workbench/settings/keys", "Admins: the company's API keys (prefixes only)", errors=(303, 403)),
    _page("POST", "/workbench/settings/keys", "Admins: issue a key (form: csrf, role, rate_limit); the key is on "
          "this answer only", None, 201, errors=(303, 403, 422)),
    _page("POST", "/workbench/settings/keys/{key_id}/revoke", "Admins: revoke a key (form: csrf)", None, 303,
          params=(KEY,), errors=(403, 404)),
    _page("GET", "/workbench/settings/webhooks", "Admins: the company's webhooks with their last delivery",
          errors=(303, 403)),
    _page("POST", "/workbench/settings/webhooks", "Admins: subscribe a URL (form: csrf, url, event_types); the "
          "secret is on this answer only; a URL the address policy refuses is a 422", None, 201,
          errors=(303, 403, 409, 422)),
    _page("GET", "/workbench/settings/webhooks/{webhook_id}", "Admins: a webhook and its recent deliveries",
          params=(WEBHOOK,), errors=(303, 403, 404)),
    _page("POST", "/workbench/settings/webhooks/{webhook_id}/delete", "Admins: delete a webhook (form: csrf)", None,
          303, params=(WEBHOOK,), errors=(403, 404)),
    _page("POST", "/workbench/settings/webhooks/{webhook_id}/enable", "Admins: enable a disabled webhook again "
          "(form: csrf)", None, 303, params=(WEBHOOK,), errors=(403, 404)),
    _page("POST", "/workbench/settings/webhooks/{webhook_id}/secret", "Admins: rotate the secret (form: csrf); "
          "the new one is on this answer only", None, 200, params=(WEBHOOK,), errors=(303, 403, 404)),
)  # fmt: skip
