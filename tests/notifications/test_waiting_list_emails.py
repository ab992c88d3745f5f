"""The emails of the waiting list: joining it, and a place offered with its private link and
when the offer ends, in the conference's time zone; stored once, to the person's address
alone, and emptied when that address is erased."""

import re

import pytest

from services.notifications import operations, privacy
from services.notifications.models import Message
from services.notifications.rendering import render
from services.notifications.sending import Settings, context
from shared.auth import waiting_list_token
from shared.events import new_event
from tests.notifications import samples

SETTINGS = Settings(from_address="Ecsite <tickets@ecsite.test>",
                    public_base_url="https://tickets.ecsite.eu", secret_key="s3cret",
                    retry_base_seconds=5)
ENTRY_ID = "5b0e3c2a-0000-4000-8000-00000000000a"
LINK = f"https://tickets.ecsite.eu/?offer={ENTRY_ID}#token={waiting_list_token('s3cret', ENTRY_ID)}"
WORKSHOP = {"kind": "add_on", "code": "ws-evaluation",
            "name": "Pre-conference workshop (9 June): Evaluation that changes practice"}
PERSON = {"given_name": "Αλέξανδρος", "family_name": "Παπαδόπουλος",
          "email": "alexandros@example.org"}


def joined(**changes) -> dict:
    return {"entry_id": ENTRY_ID, "item": WORKSHOP, "person": PERSON,
            "joined_at": "2027-03-01T10:00:00+00:00", "offer_hours": 48.0,
            "conference": samples.CONFERENCE, **changes}


def offer(**changes) -> dict:
    return {"entry_id": ENTRY_ID, "item": WORKSHOP, "person": PERSON,
            "offered_at": "2027-03-01T10:00:00+00:00",
            "expires_at": "2027-03-03T10:00:00+00:00", "conference": samples.CONFERENCE,
            **changes}


def rendered(kind: str, data: dict):
    return render(kind, context(Message(kind=kind, event_data=data), None, SETTINGS))


@pytest.mark.parametrize(("kind", "data"), [("waiting_list_joined", joined()),
                                            ("waiting_list_offer", offer())])
def test_each_says_what_is_waited_for_and_links_only_to_the_persons_own_place(kind, data):
    email = rendered(kind, data)
    for body in (email.text, email.html):
        assert "Dear Αλέξανδρος Παπαδόπουλος," in body
        assert "Evaluation that changes practice" in body
        assert "Booking reference" not in body  # they have no booking (yet)
        assert "{{" not in body
    assert set(re.findall(r'https://[^\s"<]+', email.text + email.html)) == {LINK}
    assert "\n" not in email.subject and "Evaluation that changes practice" in email.subject


def test_joining_says_how_long_an_offer_is_held_and_how_to_leave():
    email = rendered("waiting_list_joined", joined(offer_hours=36.0))
    assert email.subject.startswith("You are on the waiting list")
    assert "held for them for 36 hours" in email.text
    assert "leave the waiting list" in email.text and "leave the waiting list" in email.html


def test_an_offer_ends_at_a_time_in_the_conferences_time_zone():
    email = rendered("waiting_list_offer", offer())
    # 10:00 UTC on 3 March is 12:00 in Helsinki (EET, UTC+2)
    assert "held for you until 3 March 2027, 12:00 (Helsinki time)" in email.text
    assert email.subject == ("A place is held for you until 3 March 2027, 12:00 (Helsinki "
                             "time): " + WORKSHOP["name"])
    summer = rendered("waiting_list_offer", offer(expires_at="2027-06-01T10:00:00Z"))
    assert "1 June 2027, 13:00 (Helsinki time)" in summer.text  # EEST, UTC+3
    assert "Book the place" in email.html


def test_stored_once_to_the_persons_address_and_emptied_when_it_is_erased(uow):
    event = new_event("waiting_list_offer_made", offer())
    operations.record_waiting_list(uow, event)
    operations.record_waiting_list(uow, event)  # delivered again
    (message,) = uow.session.query(Message).all()
    assert (message.kind, message.to_address, message.order_id, message.registration_id) == (
        "waiting_list_offer", "alexandros@example.org", None, None)

    privacy.forget_links_sent(uow, {"alexandros@example.org"})
    assert (message.to_address, message.event_data) == ("erased@invalid", {})
