"""The card form's path, through the API as the page takes it: a SetupIntent confirmed
with the card (what Stripe.js's confirmCardSetup does), then /pay."""

from services.cli import TEST_CARDS
from tests.registration.conftest import register


def set_up_card(stack, created, card: str) -> str:
    """The page's part: get a SetupIntent secret, confirm it with the card."""
    response = stack.registration.post(f"/api/registrations/{created['id']}/card-setup",
                                       headers={"X-Registration-Token": created["token"]})
    assert response.status_code == 200, response.text
    setup_id = response.json()["client_secret"].split("_secret_")[0]
    setup = stack.stripe.v1.setup_intents.confirm(setup_id, params={
        "payment_method_data": {"type": "card", "card": {
            "number": TEST_CARDS[card], "exp_month": 12, "exp_year": 2030, "cvc": "123"}}})
    return setup.payment_method


def pay(stack, created, payment_method):
    return stack.registration.post(f"/api/registrations/{created['id']}/pay",
                                   json={"payment_method": payment_method},
                                   headers={"X-Registration-Token": created["token"]})


def test_paying_with_the_card_form_confirms(stack):
    created = register(stack.registration)
    answer = pay(stack, created, set_up_card(stack, created, "ok"))
    assert answer.status_code == 200 and answer.json()["status"] == "succeeded"
    stack.wait_for_status(created, "confirmed")
    receipt = stack.registration.get(f"/api/registrations/{created['id']}/receipt.pdf",
                                     headers={"X-Registration-Token": created["token"]})
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")


def test_a_declined_card_then_another_on_a_new_intent(stack):
    created = register(stack.registration)
    first = stack.payment(created)
    declined = pay(stack, created, set_up_card(stack, created, "declined")).json()
    assert declined["status"] == "declined" and declined["message"]
    accepted = pay(stack, created, set_up_card(stack, created, "ok")).json()
    assert accepted["status"] == "succeeded"
    assert accepted["client_secret"] != first["client_secret"]
    stack.wait_for_status(created, "confirmed")


def test_a_3d_secure_card_asks_the_page_to_authenticate(stack):
    created = register(stack.registration)
    answer = pay(stack, created, set_up_card(stack, created, "3ds")).json()
    assert answer["status"] == "requires_action" and answer["client_secret"]


def test_bad_input_and_wrong_tokens(stack):
    created = register(stack.registration)
    path = f"/api/registrations/{created['id']}/pay"
    headers = {"X-Registration-Token": created["token"]}
    bad = stack.registration.post(path, json={"payment_method": "tok_123"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "payment_method"
    assert stack.registration.post(path, json={"payment_method": "pm_1"}).status_code == 401
    free = register(stack.registration, ticket_type="speaker", discount_code="SPEAKER27",
                    add_ons=[], email="free@example.org")
    nothing_due = stack.registration.post(
        f"/api/registrations/{free['id']}/card-setup",
        headers={"X-Registration-Token": free["token"]})
    assert nothing_due.status_code == 409
