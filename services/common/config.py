"""Configuration from environment variables, in one place.

Every setting the platform reads is named here, so README's configuration table and the
code cannot drift apart. Each service container gets a plain dict (nameko's config) built
by :func:`service_config`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

SERVICES = ("requests", "volunteers", "notifications", "surveys", "gateway")

DEFAULTS: dict[str, str] = {
    "AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/",
    "LIANXIN_VAR_DIR": "",  # empty: the project's own var/ (see var_dir)
    "GATEWAY_HOST": "127.0.0.1",
    "GATEWAY_PORT": "8000",
    "HEALTH_PORT": "8080",
    # Probes and /metrics listen on loopback unless told: a pod's kubelet and Prometheus reach
    # them through the pod's address, so the Kubernetes manifests set 0.0.0.0.
    "HEALTH_HOST": "127.0.0.1",
    "GATEWAY_METRICS_PORT": "8090",  # the gateway's /livez /readyz /metrics, never on its public port
    "PUBLIC_BASE_URL": "",
    "MAX_BODY_BYTES": str(1024 * 1024),
    "TRUSTED_PROXY_HOPS": "0",  # reverse proxies in front of the gateway (a Kubernetes ingress: 1)
    "MAX_IMPORT_BODY_BYTES": str(8 * 1024 * 1024),  # contact imports: 10,000 as JSON are about 1.4 MB
    "RETRY_DELAYS": "1,5,30,120,600",
    "DLQ_MAX_ATTEMPTS": "6",
    "RPC_TIMEOUT": "10",
    "OUTBOX_AMQP_URI": "",
    "CONSUMER_WATCHDOG_SECONDS": "60",
    "RELAY_BATCH_SIZE": "200",
    "RELAY_POLL_SECONDS": "0.5",
    "WORKER_POOL_SIZE": "10",
    "QUEUE_TYPE": "classic",
    "LOG_LEVEL": "INFO",
    "NOTIFY_CHANNELS": "inapp,log",
    "SURVEY_TTL_DAYS": "7",
    "VISIT_DUE_DAYS": "3",
    "RATE_LIMIT": "1000/second",
    "RATE_LIMIT_STORAGE": "memory://",
    "IDEMPOTENCY_TTL_HOURS": "24",
    # Signing in with a one-time code (services/gateway/codes.py, services/notifications/sign_in.py).
    "LIANXIN_ENV": "development",  # production: codes never reach a log, SIGN_IN_SECRET is required
    "SIGN_IN_SECRET": "",  # HMAC key of stored codes; development: a random file in the var dir
    "SIGN_IN_CHANNEL": "",  # log in development, sms (the SMS channel of NOTIFY_CHANNELS) in production
    "SIGN_IN_SEND_LIMIT_PHONE": "1/minute;5/hour",
    "SIGN_IN_SEND_LIMIT_ADDRESS": "20/hour",
    # Residents' photos on cases (services/gateway/photos.py, services/common/storage.py).
    "MAX_PHOTO_BYTES": str(5 * 1024 * 1024),  # one photo as uploaded
    "MAX_UPLOAD_BODY_BYTES": str(16 * 1024 * 1024),  # routes taking photos: 3 × 5 MiB and the form around them
    "PHOTO_STORAGE": "local",  # local: files under PHOTO_DIR; s3: an S3-compatible bucket
    "PHOTO_DIR": "",  # empty: <LIANXIN_VAR_DIR>/photos
    "S3_ENDPOINT_URL": "",  # empty: AWS itself; MinIO, Ceph, OSS, COS: their URL
    "S3_BUCKET": "",
    "S3_REGION": "us-east-1",
    "S3_ACCESS_KEY_ID": "",
    "S3_SECRET_ACCESS_KEY": "",
    # Webhooks to tenants' own systems (services/notifications/webhooks.py, webhook_targets.py).
    "WEBHOOK_ALLOWED_HOSTS": "",  # hosts let through the public-address rule (on-premise receivers), exact match
    "WEBHOOK_MAX_PER_COMPANY": "10",
    "WEBHOOK_SECRET_GRACE_HOURS": "24",  # after a rotation the old secret still signs this long (default)
    # The notifications service's channels, providers, batching and retries (services/notifications/settings.py).
    "NOTIFY_RATE_LIMITS": "",  # per channel, e.g. aliyun_sms=50,email=10 (messages per second)
    "NOTIFY_BATCH_SIZE": "100",
    "NOTIFY_POLL_SECONDS": "1.0",
    "NOTIFY_BATCH_PAUSE_SECONDS": "0",
    "NOTIFY_MAX_ATTEMPTS": "8",
    "NOTIFY_RETRY_BASE_SECONDS": "30",
    "NOTIFY_RETRY_CAP_SECONDS": "480",
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": "25",
    "SMTP_SENDER": "noreply@lianxin.local",
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "SMTP_STARTTLS": "0",
    "SMTP_TIMEOUT_SECONDS": "10",
    "ALIYUN_SMS_ACCESS_KEY_ID": "",
    "ALIYUN_SMS_ACCESS_KEY_SECRET": "",
    "ALIYUN_SMS_SIGN_NAME": "",
    "ALIYUN_SMS_TEMPLATES": "",
    "ALIYUN_SMS_ENDPOINT": "https://dysmsapi.aliyuncs.com/",
    "ALIYUN_SMS_REGION": "cn-hangzhou",
    "TENCENT_SMS_SECRET_ID": "",
    "TENCENT_SMS_SECRET_KEY": "",
    "TENCENT_SMS_SDK_APP_ID": "",
    "TENCENT_SMS_SIGN_NAME": "",
    "TENCENT_SMS_TEMPLATES": "",
    "TENCENT_SMS_REGION": "ap-guangzhou",
    "TENCENT_SMS_ENDPOINT": "https://sms.tencentcloudapi.com",
    "WECHAT_APP_ID": "",
    "WECHAT_APP_SECRET": "",
    "WECHAT_TEMPLATES": "",
    "WECHAT_ENDPOINT": "https://api.weixin.qq.com",
    "WECHAT_PAGE": "",
    "WEBHOOK_TIMEOUT_SECONDS": "10",
    "WEBHOOK_DISABLE_AFTER_FAILURES": "10",
    "WEBHOOK_DISABLE_AFTER_SECONDS": str(24 * 3600),
    "LOG_FORMAT": "text",  # text or json
}


def configured(config: Mapping[str, object], name: str) -> str:
    """One setting from a service's config dict (nameko's), else its default: the default is stated
    here only, never again at the call site."""
    value = config.get(name)
    return str(value) if value not in (None, "") else DEFAULTS[name]


def setting(name: str, env: Mapping[str, str] | None = None) -> str:
    """One setting: the environment wins, then the default."""
    env = os.environ if env is None else env
    return env.get(name) or DEFAULTS[name]


PROJECT_ROOT = Path(__file__).resolve().parents[2]


def var_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the embedded default keeps its data (SQLite files, photos, the dev sign-in secret).

    ``LIANXIN_VAR_DIR`` when set; else, in a source checkout, the project's own ``var/`` — the
    same directory whichever directory ``lianxin`` is run from (before, ``var`` was relative to
    the working directory, and a command run elsewhere made an empty database there); else
    (an installed package) ``./var``.
    """
    env = os.environ if env is None else env
    given = env.get("LIANXIN_VAR_DIR")
    if given:
        return Path(given).resolve()
    if (PROJECT_ROOT / "pyproject.toml").is_file():
        return PROJECT_ROOT / "var"
    return Path("var").resolve()


def database_url(service: str, env: Mapping[str, str] | None = None, create: bool = True) -> str:
    """`<SERVICE>_DATABASE_URL`, else a SQLite file under the var dir (made when ``create``)."""
    env = os.environ if env is None else env
    url = env.get(f"{service.upper()}_DATABASE_URL")
    if url:
        return url
    directory = var_dir(env)
    if create:
        directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / (service + '.sqlite3')}"


def retry_delays(value: str) -> tuple[float, ...]:
    """Parse "1,5,30" into seconds; the last delay repeats for further attempts."""
    delays = tuple(float(part) for part in value.split(",") if part.strip())
    if not delays or any(d <= 0 for d in delays):
        raise ValueError(f"RETRY_DELAYS must be positive seconds, got {value!r}")
    return delays


def public_base_url(env: Mapping[str, str] | None = None) -> str:
    """Where residents reach the gateway (survey links); defaults to the local gateway."""
    base = setting("PUBLIC_BASE_URL", env)
    if base:
        return base.rstrip("/")
    host = setting("GATEWAY_HOST", env)
    host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://{host}:{setting('GATEWAY_PORT', env)}"


def is_production(env: Mapping[str, str] | None = None) -> bool:
    """``LIANXIN_ENV=production``: secrets required, sign-in codes never logged."""
    return setting("LIANXIN_ENV", env).strip().lower() == "production"


def service_config(service: str, env: Mapping[str, str] | None = None, **overrides: object) -> dict:
    """The nameko config dict of one service container."""
    env = os.environ if env is None else env
    config: dict[str, object] = {
        "AMQP_URI": setting("AMQP_URI", env),
        "DATABASE_URL": database_url(service, env),
        "max_workers": int(setting("WORKER_POOL_SIZE", env)),
        "WEB_SERVER_ADDRESS": f"{setting('GATEWAY_HOST', env)}:{setting('GATEWAY_PORT', env)}",
        "SERIALIZER": "json",
        "PUBLIC_BASE_URL": public_base_url(env),
    }
    config["LIANXIN_VAR_DIR"] = str(var_dir(env))  # resolved once: every service uses the same one
    for name in DEFAULTS:
        config.setdefault(name, setting(name, env))
    config.update(overrides)
    return config
