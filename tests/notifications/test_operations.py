"""Recording and sending messages on a real database, without a broker: who each message
goes to, once, and what is sent with it."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.notifications import operations
from services.notifications.mailer import TemporaryFailure
from services.notifications.models import Base, Message
from shared.db import MessagingBase, OutboxEvent, UnitOfWork, make_engine
from shared.events import new_event
from tests.notifications import samples

BUYER = "buyer@example.org"
SETTINGS = operations.Settings(from_address="tickets@ecsite.test",
                               public_base_url="https://tickets.ecsite.test",
                               secret_key="s3cret", retry_base_seconds=5)


@pytest.fixture
def uow(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'notifications.db'}")
    MessagingBase.metadata.create_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        yield UnitOfWork(session, "notifications.on_event", lambda: None)
    engine.dispose()


class Mailbox:
    def __init__(self):
        self.sent = []

    def send(self, email):
        self.sent.append(email)


def messages(uow) -> list[tuple]:
    return [(m.kind, m.to_address, m.registration_id, m.order_id)
            for m in uow.session.scalars(select(Message).order_by(Message.id))]


def test_the_buyer_hears_of_the_order_and_its_payment_and_each_delegate_of_their_place(uow):
    operations.record(uow, new_event("order_placed", samples.order(buyer_email=BUYER)))
    operations.record(uow, new_event("payment_succeeded", samples.payment()))
    operations.record(uow, new_event("registration_confirmed", samples.registration()))

    assert messages(uow) == [
        ("order_received", BUYER, None, samples.ORDER_ID),
        ("payment_confirmed", BUYER, None, samples.ORDER_ID),
        ("e_ticket", "lukasz@example.org", samples.REGISTRATION_ID, samples.ORDER_ID)]


def test_a_payment_event_before_its_order_waits_for_it(uow):
    payment = new_event("payment_failed", samples.payment(reason="card_declined"))
    with pytest.raises(operations.OrderNotKnownYet):
        operations.record(uow, payment)
    uow.rollback()  # as the failed worker's transaction is

    operations.record(uow, new_event("order_placed", samples.order(buyer_email=BUYER)))
    operations.record(uow, payment)  # the retry
    assert [kind for kind, *_ in messages(uow)] == ["order_received", "payment_failed"]


def test_the_same_event_twice_stores_one_message(uow):
    event = new_event("order_placed", samples.order())
    operations.record(uow, event)
    operations.record(uow, event)
    assert len(messages(uow)) == 1


def test_payment_messages_go_to_the_latest_buyer_address(uow):
    placed = new_event("order_placed", samples.order(buyer_email="old@example.org"))
    later = new_event("order_confirmed", samples.order(buyer_email=BUYER, status="confirmed"))
    operations.record(uow, later)
    operations.record(uow, placed)  # delivered late: it does not undo the newer one
    operations.record(uow, new_event("payment_refunded", samples.payment(
        refund_id="re_1", total_refunded=100, fully_refunded=False)))
    assert messages(uow)[-1][:2] == ("refunded", BUYER)


def test_a_full_refund_tells_a_delegate_someone_else_paid_for(uow):
    operations.record(uow, new_event("order_placed", samples.order(buyer_email=BUYER)))
    for registration_id, email in [(samples.OTHER_REGISTRATION_ID, "zofia@example.org"),
                                   (samples.REGISTRATION_ID, BUYER)]:
        operations.record(uow, new_event("registration_cancelled", samples.registration(
            registration_id=registration_id, email=email, status="cancelled",
            reason="refunded", refund_due=0)))
    assert messages(uow) == [("order_received", BUYER, None, samples.ORDER_ID),
                             ("cancelled", "zofia@example.org", samples.OTHER_REGISTRATION_ID,
                              samples.ORDER_ID)]


def test_a_badge_name_change_is_noticed_against_what_was_known(uow):
    operations.record(uow, new_event("registration_confirmed", samples.registration()))
    operations.record(uow, new_event("registration_updated", samples.registration(
        delegate={**samples.registration()["delegate"], "pronouns": "they/them"})))
    operations.record(uow, new_event("registration_updated", samples.registration("Łukasz Jan")))
    assert [kind for kind, *_ in messages(uow)] == ["e_ticket", "badge_changed"]


def test_sending_attaches_the_order_s_receipt_and_announces_the_email(uow):
    operations.record(uow, new_event("order_placed", samples.order(buyer_email=BUYER)))
    operations.record(uow, new_event("payment_succeeded", samples.payment()))
    asked, mailbox = [], Mailbox()

    def receipt_pdf(order_id):
        asked.append(order_id)
        return b"%PDF-1.7 receipt"

    now = datetime.now(UTC)
    assert operations.send_due(uow, mailbox, receipt_pdf, SETTINGS, now) == 2
    assert asked == [samples.ORDER_ID]
    received, paid = mailbox.sent
    assert received["To"] == BUYER
    assert f"/orders/{samples.ORDER_ID}#token=" in received.get_body(("plain",)).get_content()
    [receipt] = list(paid.iter_attachments())
    assert receipt.get_content() == b"%PDF-1.7 receipt"
    announced = [e.envelope["data"] for e in uow.session.scalars(select(OutboxEvent))]
    assert [(d["kind"], d["order_id"], d["registration_id"]) for d in announced] == [
        ("order_received", samples.ORDER_ID, None),
        ("payment_confirmed", samples.ORDER_ID, None)]


def test_a_receipt_payments_cannot_give_now_is_tried_again_later(uow):
    operations.record(uow, new_event("order_placed", samples.order(status="confirmed")))
    operations.record(uow, new_event("payment_succeeded", samples.payment()))
    mailbox, now = Mailbox(), datetime.now(UTC)

    def unavailable(order_id):
        raise TemporaryFailure("no receipt from payments: service_unavailable")

    operations.send_due(uow, mailbox, unavailable, SETTINGS, now)
    [message] = uow.session.scalars(select(Message)).all()
    assert (message.status, message.attempts) == ("queued", 1)
    assert message.next_attempt_at == now + timedelta(seconds=5)
    assert message.last_error.startswith("TemporaryFailure") and mailbox.sent == []

    operations.send_due(uow, mailbox, lambda order_id: b"%PDF", SETTINGS,
                        now + timedelta(seconds=5))
    assert message.status == "sent" and len(mailbox.sent) == 1


def test_payment_due_waits_and_is_not_sent_once_the_order_is_paid(uow):
    placed = new_event("order_placed", samples.order(buyer_email=BUYER))
    operations.record(uow, placed, defer=timedelta(seconds=60))
    mailbox = Mailbox()
    assert operations.send_due(uow, mailbox, None, SETTINGS, placed.occurred_at) == 0
    confirmed = new_event("order_confirmed", samples.order(buyer_email=BUYER,
                                                            status="confirmed"))
    operations.record(uow, confirmed)
    later = placed.occurred_at + timedelta(seconds=61)
    assert operations.send_due(uow, mailbox, None, SETTINGS, later) == 1
    assert mailbox.sent == []
    assert uow.session.scalars(select(Message.status)).all() == ["skipped"]


def test_payment_due_is_sent_when_the_order_is_still_unpaid(uow):
    placed = new_event("order_placed", samples.order(buyer_email=BUYER))
    operations.record(uow, placed, defer=timedelta(seconds=60))
    mailbox = Mailbox()
    later = placed.occurred_at + timedelta(seconds=61)
    assert operations.send_due(uow, mailbox, None, SETTINGS, later) == 1
    assert len(mailbox.sent) == 1
