"""Staff people (services/gateway/staff.py) without services: an SQLite file per test."""

from datetime import datetime

import pytest

from services.common.db import Store, make_engine
from services.common.errors import Conflict, NotFound, ValidationFailed
from services.gateway import staff, tenants
from services.gateway.models import Base, Person, StaffMembership

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 2, 8, 0, 0)
ADMIN, CLERK, OTHER = "+8613800000001", "+8613800000002", "+8613800000003"


@pytest.fixture
def store(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/gateway.sqlite3")
    Base.metadata.create_all(engine)
    store = Store(engine)
    with store.transaction() as session:
        store.a = tenants.create_tenant(session, "甲物业", "政通路社区")["tenant_id"]
        store.b = tenants.create_tenant(session, "乙物业", "政通路社区")["tenant_id"]
    return store


def first_admin(store, company="甲物业", phone=ADMIN):
    with store.transaction() as session:
        return staff.invite_first(session, phone, "王经理", NOW, company=company)


def test_first_admin_is_invited_by_the_operator_and_a_second_operator_invitation_is_refused(store):
    admin = first_admin(store)
    assert (admin.role, admin.tenant_id, admin.tenant_name) == ("company_admin", store.a, "甲物业")
    assert admin.name == "王经理"
    with store.read() as session:
        row = session.get(StaffMembership, admin.id)
        person = session.get(Person, admin.person_id)
    assert row.invited_by == "operator" and person.phone == ADMIN and person.verified_at is None
    with pytest.raises(Conflict):
        first_admin(store, phone=OTHER)
    with pytest.raises(NotFound):
        first_admin(store, company="没有的物业")


def test_an_admin_invites_staff_of_their_own_company_and_the_phone_only_once(store):
    admin = first_admin(store)
    assert staff.may_invite(admin, "company_staff") and staff.may_invite(admin, "company_admin")
    assert not staff.may_invite(admin, "supervisor")
    with store.transaction() as session:
        clerk = staff.invite(session, CLERK, "李师傅", "company_staff", admin.actor, NOW, tenant_id=store.a)
    assert not staff.may_invite(clerk, "company_staff")  # staff invite nobody
    with store.transaction() as session, pytest.raises(Conflict):
        staff.invite(session, CLERK, "李师傅", "company_staff", admin.actor, NOW, tenant_id=store.a)
    with store.transaction() as session, pytest.raises(ValidationFailed):
        staff.invite(session, OTHER, "", "company_staff", admin.actor, NOW, tenant_id=store.a)
    with store.transaction() as session, pytest.raises(ValidationFailed):
        staff.invite(session, OTHER, "某人", "supervisor", admin.actor, NOW, tenant_id=store.a)
    with store.read() as session:
        assert [m.name for m in staff.members(session, tenant_id=store.a)] == ["王经理", "李师傅"]
        assert staff.members(session, tenant_id=store.b) == []
        assert staff.is_staff_of(session, CLERK, store.a) and not staff.is_staff_of(session, CLERK, store.b)
        assert session.get(StaffMembership, clerk.id).invited_by == f"staff:{admin.person_id}/王经理"


def test_revoking_ends_the_membership_only_in_one_s_own_company_and_never_oneself(store):
    admin = first_admin(store)
    other_admin = first_admin(store, company="乙物业", phone=OTHER)
    with store.transaction() as session:
        clerk = staff.invite(session, CLERK, "李师傅", "company_staff", admin.actor, NOW, tenant_id=store.a)
    with store.transaction() as session, pytest.raises(NotFound):
        staff.revoke(session, other_admin, clerk.id, NOW)  # another company's: not found
    with store.transaction() as session, pytest.raises(Conflict):
        staff.revoke(session, admin, admin.id, NOW)
    with store.transaction() as session:
        staff.revoke(session, admin, clerk.id, NOW)
    with store.read() as session:
        assert not staff.is_staff_of(session, CLERK, store.a)
        row = session.get(StaffMembership, clerk.id)
        assert row.revoked_at == NOW and row.revoked_by == admin.actor
        assert staff.memberships_of(session, clerk.person_id) == []


def test_a_community_s_first_supervisor_then_supervisors_invite_supervisors_only(store):
    with store.transaction() as session:
        chief = staff.invite_first(session, ADMIN, "赵书记", NOW, community="政通路社区")
    assert (chief.role, chief.community, chief.tenant_id) == ("supervisor", "政通路社区", None)
    assert staff.may_invite(chief, "supervisor") and not staff.may_invite(chief, "company_staff")
    with store.transaction() as session, pytest.raises(Conflict):
        staff.invite_first(session, OTHER, "钱委员", NOW, community="政通路社区")
    with store.transaction() as session, pytest.raises(NotFound):
        staff.invite_first(session, OTHER, "钱委员", NOW, community="没有的社区")
    with store.read() as session:
        assert not staff.is_staff_of(session, ADMIN, store.a)  # a supervisor is no company's staff


def test_one_phone_may_be_staff_and_resident_alike_the_person_is_the_same(store):
    from services.gateway import sessions

    with store.transaction() as session:
        resident = sessions.person_for(session, CLERK, NOW)
        resident_id = resident.id
    admin = first_admin(store)
    with store.transaction() as session:
        clerk = staff.invite(session, CLERK, "李师傅", "company_staff", admin.actor, NOW, tenant_id=store.a)
    assert clerk.person_id == resident_id


def test_the_chosen_membership_comes_first_and_each_offers_the_others():
    def member(id_: str, tenant: str | None) -> staff.Membership:
        role = "company_staff" if tenant else "supervisor"
        community = None if tenant else "政通路社区"
        return staff.Membership(id_, "p", "+8613900000000", "钱", role, tenant, tenant, community)

    chief, a, b = member("m1", None), member("m2", "甲"), member("m3", "乙")  # oldest first, as read
    default = staff.acting_first([chief, a, b], None)
    assert [m.id for m in default] == ["m2", "m3", "m1"]  # companies' first, oldest first
    assert [[o.id for o in m.others] for m in default] == [["m3", "m1"], ["m2", "m1"], ["m2", "m3"]]
    assert [m.id for m in staff.acting_first([chief, a, b], "m1")] == ["m1", "m2", "m3"]
    assert [m.id for m in staff.acting_first([chief, a, b], "m3")] == ["m3", "m2", "m1"]
    assert [m.id for m in staff.acting_first([chief, a, b], "not-theirs")] == ["m2", "m3", "m1"]
    assert staff.acting_first([a], "m2")[0].others == ()
