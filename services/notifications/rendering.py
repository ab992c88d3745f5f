"""The emails buyers and delegates get, rendered from Jinja2 templates. Pure: no I/O
beyond reading the templates."""

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from shared.money import format_money

KINDS = ("order_received", "payment_reminder", "payment_confirmed", "payment_failed",
         "hold_expired", "order_cancelled", "refunded", "invoice", "invoice_reminder",
         "transfer_received", "credit_note", "e_ticket", "badge_changed", "cancelled",
         "booking_changed", "links", "waiting_list_joined", "waiting_list_offer")

SUBJECTS = {
    "order_received": "{{ 'Change to your booking' if order.get('change_of') else 'Order' }}"
                      " {{ order.reference }} received: payment due",
    "payment_confirmed": "Payment received: order {{ order.reference }} confirmed",
    "payment_failed": "Payment for order {{ order.reference }} did not go through",
    "hold_expired": "{{ 'Change ' ~ order.reference ~ ' not paid: your booking stays as it"
                    " was' if order.get('change_of') else 'Order ' ~ order.reference ~"
                    " ' expired: the places are released' }}",
    "order_cancelled": "{{ 'Change' if order.get('change_of') else 'Order' }}"
                       " {{ order.reference }} cancelled{{ ': refund of '"
                       " ~ carried.refunded.amount | money(carried.refunded.currency)"
                       " if 'refunded' in carried else '' }}",
    "refunded": "Refund of {{ event.amount | money(event.currency) }}"
                " for order {{ order.reference }}",
    "invoice": "{{ 'Corrected invoice' if event.reason == 'billing_corrected' else 'Invoice' }}"
               " {{ event.number }} for order {{ order.reference }}",
    "invoice_reminder": "Reminder: payment for order {{ order.reference }} is due"
                        "{{ ' on ' ~ payment.due_on | day if payment.due_on else '' }}",
    "payment_reminder": "Reminder: your places in order {{ order.reference }} are held until"
                        " {{ order.hold_expires_at | utc }}",
    "transfer_received": "Transfer received for order {{ order.reference }}:"
                         " {{ (event.amount_due - event.total_received) | money(event.currency) }}"
                         " still due",
    "credit_note": "Credit note {{ event.number }} for order {{ order.reference }}",
    "e_ticket": "Your e-ticket for the {{ conference.name }} ({{ registration.reference }})",
    "badge_changed": "Your badge for the {{ conference.name }} has been updated",
    "cancelled": "{{ 'Your place was passed to a colleague: registration' if event.reason =="
                 " 'substituted' else 'Registration' }} {{ registration.reference }}"
                 "{{ '' if event.reason == 'substituted' else ' cancelled' }}",
    "booking_changed": "Your booking {{ registration.reference }} for the {{ conference.name }}"
                       " has been changed: your updated e-ticket",
    "links": "Your links for the {{ conference.name }}",
    "waiting_list_joined": "You are on the waiting list: {{ item.name }}",
    "waiting_list_offer": "A place is held for you until {{ expires }}: {{ item.name }}",
}

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def format_dates(starts_on: str, ends_on: str) -> str:
    """``"10–12 June 2027"``, ``"30 June – 2 July 2027"``, or with both years if they differ."""
    start, end = date.fromisoformat(starts_on), date.fromisoformat(ends_on)
    end_text = f"{end.day} {MONTHS[end.month - 1]} {end.year}"
    if start == end:
        return end_text
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end_text}"
    if start.year == end.year:
        return f"{start.day} {MONTHS[start.month - 1]} – {end_text}"
    return f"{start.day} {MONTHS[start.month - 1]} {start.year} – {end_text}"


def format_day(day: str | date) -> str:
    """A date (or the date of an ISO date-time, as written) as ``"15 March 2027"``."""
    if isinstance(day, str):
        day = datetime.fromisoformat(day)
    if isinstance(day, datetime):
        day = day.date()
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def in_groups(code: str | None, size: int = 4) -> str:
    """A reference or account number as people copy it: ``"RF18 5390 0754 7034"``."""
    compact = "".join((code or "").split()).upper()
    return " ".join(compact[i:i + size] for i in range(0, len(compact), size))


def format_utc(moment: str) -> str:
    """An ISO date-time as ``"2027-03-01 14:30 UTC"``; a naive one is taken to be UTC."""
    parsed = datetime.fromisoformat(moment)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.strftime("%Y-%m-%d %H:%M UTC")


ENV = Environment(
    loader=PackageLoader("services.notifications", "templates"),
    # Subjects are plain text: strings are not escaped, only the .html templates are.
    autoescape=select_autoescape(["html"], default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters.update(money=format_money, dates=format_dates, utc=format_utc, day=format_day,
                   groups=in_groups)

_SUBJECT_TEMPLATES = {kind: ENV.from_string(source) for kind, source in SUBJECTS.items()}


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def render(kind: str, context: dict) -> Rendered:
    """The subject, plain text and HTML of a ``kind`` of message; raises ValueError for an
    unknown kind and jinja2.UndefinedError when the context lacks a value."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind: {kind!r}")
    # One line, whatever the context holds: a newline in a header would break the email.
    subject = _nfc(" ".join(_SUBJECT_TEMPLATES[kind].render(context).split()))
    values = {**context, "subject": subject}
    return Rendered(
        subject=subject,
        text=_nfc(ENV.get_template(f"{kind}.txt").render(values)),
        html=_nfc(ENV.get_template(f"{kind}.html").render(values)),
    )
