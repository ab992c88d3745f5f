"""Registration fuzzed through its OpenAPI document (tests/fuzz.py): each operation on a
booking of its own, so that requests reach past the token checks."""

from tests.fuzz import fuzz
from tests.registration.conftest import register

# The pages are HTML whose only input is the path, which only their script reads. Card
# setup and paying wait on payments and Stripe, and a delegate's export on every other
# service (503 while one cannot answer), none of which runs here: the tests of paying and
# of privacy run them for real.
SKIP = {"register_page", "confirmation_page", "manage_page", "order_page", "admin_page",
        "order_card_setup", "pay_order", "registration_card_setup", "pay_registration",
        "export_delegate"}


def test_no_5xx_and_every_answer_as_documented(registration, subtests):
    def booking():
        created = register(registration)
        return {"registration_id": created["id"], "X-Registration-Token": created["token"],
                "order_id": created["order_id"], "X-Order-Token": created["order_token"]}

    fuzz(registration, subtests, skip=SKIP, pinned=booking)
