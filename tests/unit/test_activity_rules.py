"""Activities against a real (SQLite) database, no broker: publishing, sign-ups with capacity,
one per household and the waiting list, shifts, attendance and hours, recurring series."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from services.common.db import Store, make_engine
from services.common.errors import Conflict, NotFound, ValidationFailed
from services.volunteers import activities, calendar, hours, registry, signups
from services.volunteers.models import Activity, Base, HoursEntry

pytestmark = pytest.mark.unit

TENANT = "t-1"
ESTATE = "estate-1"
NOW = datetime(2026, 12, 2, 2, 0)  # Wednesday 10:00 in Shanghai
SATURDAY_9 = datetime(2026, 12, 5, 1, 0)  # Saturday 09:00 in Shanghai


class Events:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict]] = []

    def __call__(self, session, type, subject, tenant, data):  # noqa: A002
        self.sent.append((type, subject, data))

    def of(self, type: str) -> list[dict]:  # noqa: A002
        return [data for t, _, data in self.sent if t == type]


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path}/volunteers.sqlite3"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def db(url):
    return Store(make_engine(url))


@pytest.fixture
def events():
    return Events()


def clinic(db, events, capacity=2, publish=True, shifts=None):
    data = {
        "title": "社区义诊",
        "kind": "free_clinic",
        "description": None,
        "estate_ids": [ESTATE],
        "place": "党群服务中心",
        "starts_at": SATURDAY_9,
        "ends_at": SATURDAY_9 + timedelta(hours=3),
        "capacity": capacity,
        "shifts": shifts if shifts is not None else [{"name": "量血压", "skills": ["medical"], "needed": 1}],
        "publish": publish,
    }
    with db.transaction() as session:
        return activities.create(session, events, TENANT, data, now=NOW)


def sign_up(db, activity_id, household, name="居民", phone="+8613912345678", now=NOW):
    with db.transaction() as session:
        return signups.sign_up_resident(
            session, TENANT, activity_id, {"name": name, "phone": phone, "household": household}, now=now
        )


def doctor(db, skills=("medical",)):
    with db.transaction() as session:
        return registry.register(
            session,
            TENANT,
            {"name": "李医生", "phone": "+8613800000001", "estate_ids": [ESTATE], "skills": list(skills)},
        )["id"]


def test_publishing_announces_the_activity_to_its_estates_once(db, events):
    draft = clinic(db, events, publish=False)
    assert draft["status"] == "draft" and events.of("activity.published") == []
    with db.transaction() as session:
        activities.publish(session, events, TENANT, draft["id"], now=NOW)
    assert events.of("activity.published") == [
        {
            "activity_id": draft["id"],
            "title": "社区义诊",
            "kind": "free_clinic",
            "estate_ids": [ESTATE],
            "place": "党群服务中心",
            "starts_at": "2026-12-05T01:00:00Z",
            "ends_at": "2026-12-05T04:00:00Z",
            "capacity": 2,
        }
    ]
    with pytest.raises(Conflict), db.transaction() as session:
        activities.publish(session, events, TENANT, draft["id"], now=NOW)
    with pytest.raises(NotFound), db.transaction() as session:
        activities.publish(session, events, "another-tenant", draft["id"], now=NOW)


def test_capacity_then_waiting_list_in_order_and_one_per_household(db, events):
    activity = clinic(db, events, capacity=2)
    first = sign_up(db, activity["id"], "1-1-101")
    second = sign_up(db, activity["id"], "1-1-102")
    third = sign_up(db, activity["id"], "1-1-103")
    fourth = sign_up(db, activity["id"], "1-1-104")
    assert [s["status"] for s in (first, second, third, fourth)] == ["confirmed", "confirmed", "waiting", "waiting"]
    with pytest.raises(Conflict):
        sign_up(db, activity["id"], " 1-1-101 ", name="另一位家人")  # same household, spaces ignored

    with db.transaction() as session:
        signups.cancel_resident(session, events, TENANT, activity["id"], second["id"], now=NOW)
    with db.read() as session:
        listed = {s["id"]: s["status"] for s in signups.resident_signups(session, TENANT, activity["id"])}
    assert listed == {
        first["id"]: "confirmed",
        second["id"]: "cancelled",
        third["id"]: "confirmed",
        fourth["id"]: "waiting",
    }
    assert [e["signup_id"] for e in events.of("activity.signup_promoted")] == [third["id"]]
    again = sign_up(db, activity["id"], "1-1-102")  # a cancelled household may sign up again, at the back
    assert again["status"] == "waiting" and again["position"] > fourth["position"]


def test_no_sign_up_for_drafts_started_or_cancelled_activities(db, events):
    draft = clinic(db, events, publish=False)
    with pytest.raises(Conflict):
        sign_up(db, draft["id"], "1-1-101")
    live = clinic(db, events)
    with pytest.raises(Conflict):
        sign_up(db, live["id"], "1-1-101", now=SATURDAY_9 + timedelta(minutes=1))


def test_cancelling_tells_every_resident_and_volunteer_signed_up(db, events):
    activity = clinic(db, events, capacity=1)
    sign_up(db, activity["id"], "1-1-101", name="陈先生", phone="+8613912345601")
    sign_up(db, activity["id"], "1-1-102", name="王阿姨", phone="+8613912345602")  # waiting, told too
    gone = sign_up(db, activity["id"], "1-1-103", name="赵先生", phone="+8613912345603")
    with db.transaction() as session:
        signups.cancel_resident(session, events, TENANT, activity["id"], gone["id"], now=NOW)
    vid = doctor(db)
    with db.transaction() as session:
        signups.sign_up_volunteer(session, TENANT, activity["id"], activity["shifts"][0]["id"], vid, now=NOW)
    with db.transaction() as session:
        activities.cancel(session, events, TENANT, activity["id"], "天气原因")
    (cancelled,) = events.of("activity.cancelled")
    assert cancelled == {
        "activity_id": activity["id"],
        "title": "社区义诊",
        "estate_ids": [ESTATE],
        "starts_at": "2026-12-05T01:00:00Z",
        "reason": "天气原因",
        "recipients": [
            {"name": "陈先生", "phone": "+8613912345601", "household": "1-1-101", "role": "resident"},
            {"name": "王阿姨", "phone": "+8613912345602", "household": "1-1-102", "role": "resident"},
            {"name": "李医生", "phone": "+8613800000001", "household": None, "role": "volunteer"},
        ],
    }
    with pytest.raises(Conflict), db.transaction() as session:
        activities.cancel(session, events, TENANT, activity["id"], "again")


def test_shift_needs_the_skill_and_has_a_limit(db, events):
    activity = clinic(db, events, shifts=[{"name": "量血压", "skills": ["medical"], "needed": 1}])
    shift_id = activity["shifts"][0]["id"]
    barber = doctor(db, skills=("haircut",))
    with pytest.raises(ValidationFailed) as missing, db.transaction() as session:
        signups.sign_up_volunteer(session, TENANT, activity["id"], shift_id, barber, now=NOW)
    assert "medical" in missing.value.errors["volunteer_id"][0]
    with db.transaction() as session:
        medic = registry.register(
            session, TENANT, {"name": "孙护士", "phone": "13800000002", "estate_ids": [ESTATE], "skills": ["medical"]}
        )["id"]
        other = registry.register(
            session, TENANT, {"name": "周护士", "phone": "13800000003", "estate_ids": [ESTATE], "skills": ["medical"]}
        )["id"]
    with db.transaction() as session:
        signups.sign_up_volunteer(session, TENANT, activity["id"], shift_id, medic, now=NOW)
    with pytest.raises(Conflict), db.transaction() as session:
        signups.sign_up_volunteer(session, TENANT, activity["id"], shift_id, other, now=NOW)


def test_attendance_credits_shift_hours_once_and_is_final(db, events):
    activity = clinic(db, events)
    vid = doctor(db)
    with db.transaction() as session:
        shift = signups.sign_up_volunteer(session, TENANT, activity["id"], activity["shifts"][0]["id"], vid, now=NOW)
    resident = sign_up(db, activity["id"], "1-1-101")
    marks = {
        "residents": [{"signup_id": resident["id"], "attended": True}],
        "volunteers": [{"signup_id": shift["id"], "attended": True}],
    }
    with pytest.raises(Conflict), db.transaction() as session:  # not yet started
        signups.record_attendance(session, TENANT, activity["id"], marks, now=NOW)
    after = SATURDAY_9 + timedelta(hours=4)
    with db.transaction() as session:
        assert signups.record_attendance(session, TENANT, activity["id"], marks, now=after)["credited"] == 1
    with db.transaction() as session:  # the same answer again: nothing more credited
        assert signups.record_attendance(session, TENANT, activity["id"], marks, now=after)["credited"] == 0
    flipped = {"residents": [], "volunteers": [{"signup_id": shift["id"], "attended": False}]}
    with pytest.raises(Conflict), db.transaction() as session:
        signups.record_attendance(session, TENANT, activity["id"], flipped, now=after)
    with db.read() as session:
        lines = session.scalars(select(HoursEntry)).all()
    assert [(line.source, line.source_id, line.minutes, line.volunteer_id) for line in lines] == [
        ("shift", shift["id"], 180, vid)
    ]


def test_hours_totals_match_the_ledger_and_a_correction_is_a_new_line(db, events):
    activity = clinic(db, events)
    vid = doctor(db)
    with db.transaction() as session:
        shift = signups.sign_up_volunteer(session, TENANT, activity["id"], activity["shifts"][0]["id"], vid, now=NOW)
    with db.transaction() as session:
        signups.record_attendance(
            session,
            TENANT,
            activity["id"],
            {"residents": [], "volunteers": [{"signup_id": shift["id"], "attended": True}]},
            now=SATURDAY_9 + timedelta(hours=4),
        )
    with db.read() as session:
        (line,) = hours.ledger(session, TENANT, {})
    with db.transaction() as session:
        fix = hours.correct(session, TENANT, {"corrects_entry_id": line["id"], "hours": -0.5, "reason": "提前离开"})
    assert (fix["source"], fix["corrects_entry_id"], fix["minutes"], fix["hours"]) == (
        "correction",
        line["id"],
        -30,
        -0.5,
    )
    with db.read() as session:
        ledger = hours.ledger(session, TENANT, {})
        by_volunteer = hours.period_totals(session, TENANT, {"by": "volunteer"})
        by_month = hours.period_totals(session, TENANT, {"by": "month", "year": 2026})
        ranking = hours.publishable_ranking(session, TENANT, {"limit": 10})
    assert [e["minutes"] for e in ledger] == [180, -30]  # the original line is untouched
    assert by_volunteer == [{"key": vid, "name": "李医生", "hours": 2.5, "minutes": 150, "entries": 2}]
    assert by_month == [{"key": "2026-12", "name": None, "hours": 2.5, "minutes": 150, "entries": 2}]
    assert ranking == [{"rank": 1, "volunteer_id": vid, "name": "李医生", "party_member": False, "hours": 2.5}]
    assert sum(e["minutes"] for e in ledger) == by_volunteer[0]["minutes"]


def test_weekly_series_generates_each_occurrence_once_with_two_instances(url, db, events):
    data = {
        "title": "义务理发",
        "kind": "haircut",
        "estate_ids": [ESTATE],
        "place": "3号楼下",
        "capacity": 10,
        "frequency": "weekly",
        "weekday": 5,
        "week_of_month": None,
        "start": "09:00",
        "end": "11:00",
        "starts_on": date(2026, 12, 1),
        "until": None,
        "themes": {"2026-12": "冬季暖心"},
        "shifts": [{"name": "理发", "skills": ["haircut"], "needed": 2}],
    }
    with db.transaction() as session:
        series = activities.create_series(session, events, TENANT, data, NOW)
    assert series["generated_until"] == "2026-12-30"  # today (Shanghai) + 28 days
    with db.read() as session:
        made = session.scalars(select(Activity).order_by(Activity.starts_at)).all()
    assert [(a.occurs_on.isoformat(), a.starts_at.isoformat(), a.title) for a in made] == [
        ("2026-12-05", "2026-12-05T01:00:00", "义务理发·冬季暖心"),
        ("2026-12-12", "2026-12-12T01:00:00", "义务理发·冬季暖心"),
        ("2026-12-19", "2026-12-19T01:00:00", "义务理发·冬季暖心"),
        ("2026-12-26", "2026-12-26T01:00:00", "义务理发·冬季暖心"),
    ]
    assert len(events.of("activity.published")) == 4

    a_week_later = NOW + timedelta(days=7)
    one, two = Store(make_engine(url)), Store(make_engine(url))
    with one.read() as session:
        seen_one = activities.series_due(session, a_week_later)
    with two.read() as session:
        seen_two = activities.series_due(session, a_week_later)
    assert seen_one == seen_two == [(series["id"], date(2026, 12, 30))]
    with one.transaction() as session:
        assert activities.generate(session, events, series["id"], date(2026, 12, 30), a_week_later) == 1
    with two.transaction() as session:
        assert activities.generate(session, events, series["id"], date(2026, 12, 30), a_week_later) == 0
    with db.read() as session:
        last = session.scalars(select(Activity).order_by(Activity.starts_at.desc())).first()
    assert (last.occurs_on, last.title) == (date(2027, 1, 2), "义务理发")  # no theme set for January


def test_calendar_week_shows_counts_never_residents(db, events):
    activity = clinic(db, events, capacity=3)
    sign_up(db, activity["id"], "1-1-101", name="陈先生", phone="+8613912345601")
    with db.read() as session:
        week = calendar.week(session, ESTATE, None, NOW)
        elsewhere = calendar.week(session, "estate-2", None, NOW)
    assert (week["week_start"], week["week_end"]) == ("2026-11-30", "2026-12-06")
    saturday = week["days"][5]
    assert saturday["date"] == "2026-12-05"
    assert [(a["title"], a["confirmed"], a["waiting"]) for a in saturday["activities"]] == [("社区义诊", 1, 0)]
    assert "陈先生" not in repr(week) and "13912345601" not in repr(week)
    assert all(day["activities"] == [] for day in elsewhere["days"])
