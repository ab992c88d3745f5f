"""Registration's side of the right to be forgotten: the delegate anonymised (and the buyer
of an order only theirs), the published events that carried them gone, the other
services told once; the export of what registration holds."""

from sqlalchemy import String, cast, create_engine, select
from sqlalchemy.orm import Session

from services.registration import privacy
from services.registration.models import Order, Registration
from services.registration.service import RegistrationService
from shared.db import OutboxEvent, UnitOfWork
from tests.conftest import wait_until
from tests.registration.conftest import register

NAME, EMAIL = "Żółć", "zofia.erase@example.org"


def rows_mentioning(session: Session, text: str) -> list:
    found = []
    for model in (Registration, Order, OutboxEvent):
        for row in session.scalars(select(model)):
            if text in " ".join(str(getattr(row, c.key)) for c in model.__table__.columns):
                found.append((model.__name__, row))
    return found


def test_an_erased_delegate_is_gone_from_registration_and_announced_once(
        start_service, registration_config, listen):
    _, api = start_service(RegistrationService, registration_config)
    events = listen("registration")
    kept = register(api, email="someone.else@example.org", family_name="Kowalska")
    created = register(api, family_name=NAME, email=EMAIL, dietary_needs="vegan",
                       billing_address="ul. Wybrzeże Kościuszkowskie 20, Warszawa")
    events.wait_for("registration_created", created["id"])
    engine = create_engine(registration_config["DATABASE_URL"])
    with Session(engine) as session:
        wait_until(lambda: not session.scalar(select(OutboxEvent).where(
            OutboxEvent.published_at.is_(None))), 10, message="the outbox published")
        assert rows_mentioning(session, EMAIL)

    assert api.post(f"/api/admin/registrations/{created['id']}/erase",
                    headers=api.as_desk()).status_code == 403
    erased = api.post(f"/api/admin/registrations/{created['id']}/erase",
                      headers=api.as_admin())
    assert erased.status_code == 202, erased.text
    assert any("invoices" in line for line in erased.json()["kept"])
    (event,) = events.wait_for("delegate_erased", created["id"])
    assert event["data"] == {"registration_id": created["id"], "order_id": created["order_id"],
                             "whole_order": True, "erased_at": event["data"]["erased_at"]}

    with Session(engine) as session:
        for text in (EMAIL, NAME, "vegan", "Kościuszkowskie"):
            assert rows_mentioning(session, text) == [], text
        assert rows_mentioning(session, "someone.else@example.org")  # the other is kept
        erased_row = session.get(Registration, created["id"])
        assert erased_row.amount_due == created["amount_due"]  # the figures still add up
        assert session.scalar(select(OutboxEvent).where(cast(
            OutboxEvent.envelope, String).contains(kept["id"])))

    again = api.post(f"/api/admin/registrations/{created['id']}/erase", headers=api.as_admin())
    assert again.status_code == 202
    assert again.json()["erased_at"] == erased.json()["erased_at"]
    assert len(events.of_type("delegate_erased", created["id"])) == 1
    found = api.get(f"/api/admin/registrations?q={created['reference']}",
                    headers=api.as_admin()).json()["items"]
    assert found == [] or found[0]["email"] == privacy.ERASED_EMAIL


def test_the_export_holds_the_delegate_and_after_erasure_only_what_is_kept(
        start_service, registration_config):
    _, api = start_service(RegistrationService, registration_config)
    created = register(api, family_name=NAME, email=EMAIL, accessibility_needs="ramp")
    engine = create_engine(registration_config["DATABASE_URL"])
    with Session(engine) as session:
        uow = UnitOfWork(session, "test", lambda: None)
        before = privacy.export(uow, created["id"])
        assert before["data"]["registration"]["email"] == EMAIL
        assert before["data"]["registration"]["accessibility_needs"] == "ramp"
        assert before["data"]["order"]["buyer_email"] == EMAIL
        assert before["kept"] == []
    api.post(f"/api/admin/registrations/{created['id']}/erase", headers=api.as_admin())
    with Session(engine) as session:
        after = privacy.export(UnitOfWork(session, "test", lambda: None), created["id"])
    assert EMAIL not in str(after) and NAME not in str(after) and "ramp" not in str(after)
    assert after["kept"] == privacy.KEPT
