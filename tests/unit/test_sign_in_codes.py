"""One-time codes, sessions and the code's way out (codes.py, sessions.py, the log channel,
notifications' sign_in.py), without services: an SQLite file per test."""

import logging
import os
import stat
import uuid
from datetime import datetime, timedelta

import pytest

from services.common.db import Store, make_engine
from services.common.phones import mask_phone
from services.gateway import codes, sessions
from services.gateway.models import Base
from services.gateway.people import safe_next
from services.gateway.ratelimit import Limiter, TooManyRequests

pytestmark = pytest.mark.unit

SECRET = b"k" * 32
PHONE = "+8613800138000"
NOW = datetime(2026, 12, 2, 8, 0, 0)


@pytest.fixture
def store(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/gateway.sqlite3")
    Base.metadata.create_all(engine)
    return Store(engine)


def issue(store, phone=PHONE, now=NOW):
    with store.transaction() as session:
        return codes.issue(session, SECRET, phone, now)


def verify(store, code, phone=PHONE, now=NOW):
    with store.transaction() as session:
        return codes.verify(session, SECRET, phone, code, now)


def wrong(code):
    return f"{(int(code) + 1) % 10**6:06d}"


def test_a_code_is_six_digits_and_only_its_keyed_hash_is_stored(store):
    code = issue(store)
    assert len(code) == 6 and code.isdigit()
    with store.read() as session:
        (row,) = session.query(codes.SignInCode).all()
    assert code not in row.code_hash and row.code_hash == codes.keyed_hash(SECRET, PHONE, code)
    assert row.code_hash != codes.keyed_hash(b"another secret", PHONE, code)
    assert row.expires_at - row.created_at == timedelta(minutes=5)


def test_the_right_code_signs_in_once(store):
    code = issue(store)
    assert verify(store, code).ok
    assert verify(store, code).status == "used"


def test_five_wrong_tries_lock_the_code_and_then_the_right_one_fails(store):
    code = issue(store)
    outcomes = [verify(store, wrong(code)) for _ in range(5)]
    assert [o.status for o in outcomes] == ["wrong"] * 4 + ["locked"]
    assert [o.tries_left for o in outcomes[:4]] == [4, 3, 2, 1]
    assert outcomes[0].message == "验证码不正确，还可以再试 4 次"
    assert verify(store, code).status == "locked"


def test_with_the_lockout_switched_off_the_sixth_try_would_succeed(store, monkeypatch):
    """The lockout test above is what stops this: a guesser with unlimited tries."""
    monkeypatch.setattr(codes, "MAX_ATTEMPTS", 10**6)
    code = issue(store)
    for _ in range(5):
        verify(store, wrong(code))
    assert verify(store, code).ok


def test_a_code_expires_after_five_minutes(store):
    code = issue(store)
    assert verify(store, code, now=NOW + timedelta(minutes=5)).status == "expired"
    assert verify(store, code, now=NOW + timedelta(minutes=4, seconds=59)).ok


def test_a_new_code_supersedes_the_older_one(store):
    old = issue(store)
    new = issue(store, now=NOW + timedelta(seconds=61))
    later = NOW + timedelta(seconds=62)
    if old != new:
        assert verify(store, old, now=later).status == "wrong"
    assert verify(store, new, now=later).ok


def test_a_code_is_worth_nothing_for_another_phone(store):
    code = issue(store)
    assert verify(store, code, phone="+8613800138001").status == "none"


def test_sessions_slide_and_end(store):
    with store.transaction() as session:
        person = sessions.person_for(session, PHONE, NOW)
        token = sessions.start(session, person, NOW)
    later = NOW + timedelta(days=20)
    with store.transaction() as session:
        assert sessions.resume(session, token, later).phone == PHONE
    with store.transaction() as session:  # 20 days after the last use, not 30 after sign-in
        signed = sessions.resume(session, token, later + timedelta(days=25))
    assert signed is not None
    with store.transaction() as session:
        sessions.end(session, signed.session_id, later)
    with store.transaction() as session:
        assert sessions.resume(session, token, later + timedelta(days=25, seconds=1)) is None


def test_a_development_secret_is_a_private_file_in_the_var_dir_and_production_needs_one(tmp_path):
    first = codes.secret_of({"LIANXIN_VAR_DIR": str(tmp_path), "LIANXIN_ENV": "development"})
    assert first == codes.secret_of({"LIANXIN_VAR_DIR": str(tmp_path)}) and len(first) == 64
    assert stat.S_IMODE(os.stat(tmp_path / "sign_in_secret").st_mode) == 0o600
    assert codes.secret_of({"SIGN_IN_SECRET": "given", "LIANXIN_ENV": "production"}) == b"given"
    with pytest.raises(codes.SecretMissing):
        codes.secret_of({"LIANXIN_VAR_DIR": str(tmp_path), "LIANXIN_ENV": "production"})


@pytest.mark.parametrize(
    ("asked", "followed"),
    [
        ("/me/cases?x=1", "/me/cases?x=1"),
        ("//evil.example", "/me"),
        ("/\\evil.example", "/me"),
        ("https://evil.example", "/me"),
        ("", "/me"),
        (None, "/me"),
        ("/a\r\nSet-Cookie: x", "/me"),
    ],
)
def test_only_a_local_path_is_followed_after_sign_in(asked, followed):
    assert safe_next(asked) == followed


def test_phones_are_masked_for_logs():
    assert mask_phone("+8613800138000") == "138****8000"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("123") == mask_phone(None) == "****"


def code_sender(production: bool):
    from services.notifications import sign_in
    from services.notifications.settings import Settings

    env = {"LIANXIN_ENV": "production" if production else "development", "SIGN_IN_CHANNEL": "log"}
    return sign_in.build(Settings(env, environ={}))


@pytest.fixture
def notifications(tmp_path):
    from services.notifications.models import Base as NotificationsBase

    engine = make_engine(f"sqlite:///{tmp_path}/notifications.sqlite3")
    NotificationsBase.metadata.create_all(engine)
    return Store(engine)


def test_in_production_the_code_never_reaches_a_log_or_the_record(notifications, caplog):
    from services.notifications import sign_in
    from services.notifications.models import Delivery

    with caplog.at_level(logging.DEBUG), notifications.transaction() as session:
        sent = sign_in.send(session, code_sender(production=True), PHONE, "402913", NOW)
    assert sent["status"] == "sent" and "402913" not in str(sent)
    assert "402913" not in caplog.text and "138****8000" in caplog.text and "13800138000" not in caplog.text
    with notifications.read() as session:
        (row,) = session.query(Delivery).all()
    assert "402913" not in f"{row.body} {row.subject} {row.outbound} {row.outbound_params}"
    assert (row.kind, row.channel, row.status, row.tenant) == ("sign_in.code", "log", "sent", "platform")


def test_in_development_the_log_channel_shows_the_code_to_the_developer(notifications, caplog):
    from services.notifications import sign_in

    with caplog.at_level(logging.INFO, logger="lianxin.channel.log"), notifications.transaction() as session:
        sign_in.send(session, code_sender(production=False), PHONE, "402913", NOW)
    assert "sign-in code for 138****8000: 402913" in caplog.text


def test_the_code_channel_defaults_to_log_in_development_and_sms_in_production():
    from services.notifications import sign_in
    from services.notifications.settings import Settings

    assert sign_in.channel_name(Settings({}, environ={})) == "log"
    production = {"LIANXIN_ENV": "production", "NOTIFY_CHANNELS": "inapp,log,tencent_sms"}
    assert sign_in.channel_name(Settings(production, environ={})) == "tencent_sms"
    with pytest.raises(ValueError, match="needs aliyun_sms"):
        sign_in.channel_name(Settings({"LIANXIN_ENV": "production"}, environ={}))


def test_a_refused_send_counts_against_neither_the_phone_nor_the_address():
    limiter = Limiter("1000/second")
    phone, address = ("phone", "1/minute"), ("address", "2/hour")
    limiter.hit_each((phone, address))
    with pytest.raises(TooManyRequests):
        limiter.hit_each((phone, address))
    limiter.hit_each((("phone-2", "1/minute"), address))  # the address still had one left
    with pytest.raises(TooManyRequests) as refused:
        limiter.hit_each((("phone-3", "1/minute"), address))
    assert refused.value.retry_after > 60


def test_two_gateway_instances_share_the_send_counts_in_redis():
    """RATE_LIMIT_STORAGE=redis://…: a second instance sees the first one's sends."""
    one = Limiter("1000/second", "redis://127.0.0.1:6379")
    two = Limiter("1000/second", "redis://127.0.0.1:6379")
    key = f"sign-in:test:{uuid.uuid4().hex}"
    one.hit_each(((key, "1/minute"),))
    with pytest.raises(TooManyRequests) as refused:
        two.hit_each(((key, "1/minute"),))
    assert 0 < refused.value.retry_after <= 60
