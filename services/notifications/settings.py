"""The notifications service's settings: which channels, their providers, limits and retries.

Read from the container config first (tests pass overrides there), then the environment, so
every name below is also an environment variable (see the README's configuration table).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.common.config import DEFAULTS
from services.notifications.channels.aliyun_sms import AliyunSmsChannel
from services.notifications.channels.backoff import TokenBucket
from services.notifications.channels.base import Channel
from services.notifications.channels.email import SmtpEmailChannel
from services.notifications.channels.log import LogChannel
from services.notifications.channels.tencent_sms import TencentSmsChannel
from services.notifications.channels.wechat import WeChatSubscribeChannel
from services.notifications.webhook_targets import Policy

KNOWN_CHANNELS = ("inapp", "log", "email", "aliyun_sms", "tencent_sms", "wechat")


class Settings:
    """A config dict with the environment behind it."""

    def __init__(self, config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.environ = os.environ if environ is None else environ

    def get(self, name: str) -> str:
        """The config's value, else the environment's, else the one default (config.DEFAULTS)."""
        value = self.config.get(name)
        if value is None or value == "":
            value = self.environ.get(name, "")
        return str(value) if value not in (None, "") else DEFAULTS[name]

    def number(self, name: str) -> float:
        return float(self.get(name))

    def flag(self, name: str) -> bool:
        return self.get(name).lower() in ("1", "true", "yes", "on")


def channel_names(settings: Settings) -> list[str]:
    """``NOTIFY_CHANNELS`` in order; in-app is always on."""
    names = [n.strip() for n in settings.get("NOTIFY_CHANNELS").split(",") if n.strip()]
    unknown = [n for n in names if n not in KNOWN_CHANNELS]
    if unknown:
        raise ValueError(f"NOTIFY_CHANNELS: unknown channel(s) {unknown}; known: {', '.join(KNOWN_CHANNELS)}")
    return ["inapp", *[n for n in names if n != "inapp"]]


@dataclass(frozen=True)
class TemplateSpec:
    """A provider template for one kind: its id, and which of our variables fill it (in order)."""

    template_id: str
    variables: tuple[str, ...] = ()
    # WeChat data keys (thing1, time2 …) for each variable, in the same order; empty elsewhere.
    keys: tuple[str, ...] = ()


def parse_templates(value: str) -> dict[str, TemplateSpec]:
    """``"survey.issued=SMS_1:name|link,notice=SMS_2"`` → specs per kind.

    For WeChat a variable may be given a data key: ``visit.scheduled=TMPL:thing1=title|time2=due``.
    """
    specs: dict[str, TemplateSpec] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        kind, sep, rest = item.partition("=")
        if not sep or not kind or not rest:
            raise ValueError(f"template setting {item!r} is not kind=TEMPLATE_ID[:var|var]")
        template_id, _, spec = rest.partition(":")
        variables, keys = [], []
        for entry in filter(None, spec.split("|")):
            key, eq, variable = entry.partition("=")
            variables.append(variable if eq else key)
            keys.append(key)
        specs[kind.strip()] = TemplateSpec(template_id.strip(), tuple(variables), tuple(keys))
    return specs


def parse_rates(value: str) -> dict[str, float]:
    """``"aliyun_sms=50,email=5"`` → messages per second per channel."""
    rates = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, _, rate = item.partition("=")
        rates[name.strip()] = float(rate)
        if rates[name.strip()] <= 0:
            raise ValueError(f"NOTIFY_RATE_LIMITS: {item!r} must be a positive rate")
    return rates


@dataclass
class ChannelSet:
    """The built channels with their provider templates and rate limits."""

    senders: dict[str, Channel] = field(default_factory=dict)
    templates: dict[str, dict[str, TemplateSpec]] = field(default_factory=dict)
    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def for_kind(self, names: list[str], kind: str) -> list[str]:
        """The enabled channels that can carry ``kind``: SMS and WeChat only with a provider template for it."""
        return [name for name in names if name not in self.templates or kind in self.templates[name]]


def build_channels(settings: Settings) -> ChannelSet:
    """One sender per enabled external channel, configured from its settings."""
    built = ChannelSet()
    for name in channel_names(settings):
        if name == "inapp":
            continue
        if name == "log":
            # Sign-in codes are shown to the developer only outside production (see LogChannel).
            production = settings.get("LIANXIN_ENV").strip().lower() == "production"
            built.senders[name] = LogChannel(show_codes=not production)
        elif name == "email":
            built.senders[name] = SmtpEmailChannel(
                settings.get("SMTP_HOST"),
                int(settings.get("SMTP_PORT")),
                settings.get("SMTP_SENDER"),
                username=settings.get("SMTP_USER") or None,
                password=settings.get("SMTP_PASSWORD") or None,
                starttls=settings.flag("SMTP_STARTTLS"),
                timeout=settings.number("SMTP_TIMEOUT_SECONDS"),
            )
        elif name == "aliyun_sms":
            specs = built.templates[name] = parse_templates(settings.get("ALIYUN_SMS_TEMPLATES"))
            built.senders[name] = AliyunSmsChannel(
                settings.get("ALIYUN_SMS_ACCESS_KEY_ID"),
                settings.get("ALIYUN_SMS_ACCESS_KEY_SECRET"),
                settings.get("ALIYUN_SMS_SIGN_NAME"),
                {kind: spec.template_id for kind, spec in specs.items()},
                settings.get("ALIYUN_SMS_ENDPOINT"),
                region_id=settings.get("ALIYUN_SMS_REGION"),
            )
        elif name == "tencent_sms":
            specs = built.templates[name] = parse_templates(settings.get("TENCENT_SMS_TEMPLATES"))
            built.senders[name] = TencentSmsChannel(
                settings.get("TENCENT_SMS_SECRET_ID"),
                settings.get("TENCENT_SMS_SECRET_KEY"),
                settings.get("TENCENT_SMS_SDK_APP_ID"),
                settings.get("TENCENT_SMS_SIGN_NAME"),
                {kind: spec.template_id for kind, spec in specs.items()},
                {kind: spec.variables for kind, spec in specs.items()},
                region=settings.get("TENCENT_SMS_REGION"),
                endpoint=settings.get("TENCENT_SMS_ENDPOINT"),
            )
        elif name == "wechat":
            specs = built.templates[name] = parse_templates(settings.get("WECHAT_TEMPLATES"))
            built.senders[name] = WeChatSubscribeChannel(
                settings.get("WECHAT_APP_ID"),
                settings.get("WECHAT_APP_SECRET"),
                {kind: spec.template_id for kind, spec in specs.items()},
                endpoint=settings.get("WECHAT_ENDPOINT"),
                page=settings.get("WECHAT_PAGE") or None,
            )
    for name, rate in parse_rates(settings.get("NOTIFY_RATE_LIMITS")).items():
        built.buckets[name] = TokenBucket(rate, max(1.0, rate))
    return built


def provider_params(spec: TemplateSpec | None, params: Mapping[str, str]) -> dict[str, str]:
    """The parameters a provider template takes: only its variables, under its data keys."""
    if spec is None or not spec.variables:
        return dict(params)
    return {
        key: params[variable] for key, variable in zip(spec.keys, spec.variables, strict=True) if variable in params
    }


@dataclass(frozen=True)
class RetryPolicy:
    """8 tries over about 30 minutes by default (full jitter; see channels.backoff)."""

    max_attempts: int = 8
    base_seconds: float = 30.0
    cap_seconds: float = 480.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            int(settings.number("NOTIFY_MAX_ATTEMPTS")),
            settings.number("NOTIFY_RETRY_BASE_SECONDS"),
            settings.number("NOTIFY_RETRY_CAP_SECONDS"),
        )


@dataclass(frozen=True)
class WebhookPolicy:
    """An endpoint failing ``disable_after_failures`` times in a row over ``disable_after_seconds`` is disabled.

    A company has at most ``max_per_company`` subscriptions; a rotated secret keeps signing
    ``secret_grace_hours`` unless the rotation says otherwise; ``targets`` is where hooks may point.
    """

    timeout_seconds: float = 10.0
    disable_after_failures: int = 10
    disable_after_seconds: float = 24 * 3600.0
    max_per_company: int = int(DEFAULTS["WEBHOOK_MAX_PER_COMPANY"])
    secret_grace_hours: float = float(DEFAULTS["WEBHOOK_SECRET_GRACE_HOURS"])
    targets: Policy = field(default_factory=Policy)

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookPolicy:
        return cls(
            settings.number("WEBHOOK_TIMEOUT_SECONDS"),
            int(settings.number("WEBHOOK_DISABLE_AFTER_FAILURES")),
            settings.number("WEBHOOK_DISABLE_AFTER_SECONDS"),
            int(settings.number("WEBHOOK_MAX_PER_COMPANY")),
            settings.number("WEBHOOK_SECRET_GRACE_HOURS"),
            Policy.from_text(settings.get("WEBHOOK_ALLOWED_HOSTS")),
        )
