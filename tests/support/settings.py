"""A company's settings as its API reads them, and its people at the settings pages.

``settings_of`` is what the settings pages could change (categories and their SLA, notification
settings, survey timing, API keys, webhooks); a refused form (no token, a staff member, another
company's id) must leave it exactly as it was.
"""

from __future__ import annotations

from tests.support.api import Api

SETTINGS_PAGES = ("categories", "notifications", "surveys", "keys", "webhooks")
#: a literal public address: the address policy accepts it without DNS; nothing is ever sent to it
PUBLIC_HOOK = "http://93.184.215.14/hooks"
#: the loopback host the test platform allows (WEBHOOK_ALLOWED_HOSTS), on a port nothing listens on
ALLOWED_HOOK = "http://127.0.0.1:9/hooks"


def settings_of(company: Api) -> dict:
    """Everything the settings pages may change, as the company's API answers it."""
    return {
        "categories": company.get("/api/v1/case-categories").json()["data"],
        "notifications": company.get("/api/v1/notification-settings").json(),
        "surveys": company.get("/api/v1/survey-settings").json(),
        "keys": company.get("/api/v1/keys").json()["data"],
        "webhooks": [  # what a person sets (not the delivery counters the sender moves meanwhile)
            {k: hook[k] for k in ("id", "url", "event_types", "previous_secret_expires_at")}
            for hook in company.get("/api/v1/webhooks").json()["data"]
        ],
    }
