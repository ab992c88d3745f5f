"""Bank statements (ISO 20022 camt.053, "BkToCstmrStmt"): the transfers that came in.

Every version from camt.053.001.02 on is read alike, by the elements' local names. Only
credits the bank has booked are kept; debits (its fees, our refunds) and entries still
pending are not. A batch entry gives one transfer per transaction in it. Pure: the XML
is parsed with defusedxml, which refuses DTDs and entity tricks.
"""

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DefusedElementTree
from defusedxml import DefusedXmlException


class StatementError(ValueError):
    """The file is not a bank statement this module can read; the message says why."""


@dataclass(frozen=True)
class StatementEntry:
    """One credit on the account: a transfer someone made to us."""

    entry_reference: str  # unique among the bank's entries: a re-imported one is known
    amount: int  # cents
    currency: str
    booked_on: date
    value_on: date | None
    structured_reference: str | None  # compact, e.g. an RF reference
    remittance_text: str  # what the payer wrote, "" if nothing
    debtor_name: str | None
    debtor_account: str | None  # IBAN, compact
    end_to_end_id: str | None


@dataclass(frozen=True)
class Statement:
    """A statement file; with several statements in it (days, accounts), all their
    entries, ``statement_id`` naming them all."""

    statement_id: str
    account_iban: str | None  # None too when the statements are of different accounts
    created_at: datetime | None
    entries: tuple[StatementEntry, ...]


_AMOUNT = re.compile(r"[0-9]+(\.[0-9]+)?")


def parse_statement(xml: bytes) -> Statement:
    """The booked credits of a camt.053 statement file."""
    try:
        root = DefusedElementTree.fromstring(xml, forbid_dtd=True)
    except DefusedXmlException as error:
        raise StatementError(
            f"The statement declares a DTD or entities, which are refused ({error})."
        ) from None
    except ParseError as error:
        raise StatementError(f"The statement is not well-formed XML ({error}).") from None
    message = _child(root, "BkToCstmrStmt")
    if message is None:
        found = next(iter(root), root)
        raise StatementError(
            "Not a camt.053 bank statement: no BkToCstmrStmt "
            f"(found {_name(root)}/{_name(found)})."
        )
    statements = _children(message, "Stmt")
    if not statements:
        raise StatementError("The file holds no statement (Stmt).")
    ids = [_required(statement, "statement", "Id") for statement in statements]
    ibans = {_text(statement, "Acct", "Id", "IBAN") for statement in statements}
    created = _text(message, "GrpHdr", "CreDtTm") or _text(statements[0], "CreDtTm")
    return Statement(
        statement_id=", ".join(ids),
        account_iban=_compact(ibans.pop()) if len(ibans) == 1 else None,
        created_at=_datetime(created, "the statement's creation time") if created else None,
        entries=tuple(
            entry
            for statement, statement_id in zip(statements, ids, strict=True)
            for entry in _credits(statement, statement_id)
        ),
    )


def _credits(statement: Element, statement_id: str) -> Iterator[StatementEntry]:
    for index, entry in enumerate(_children(statement, "Ntry"), start=1):
        if _text(entry, "CdtDbtInd") != "CRDT" or _status(entry) != "BOOK":
            continue
        where = f"entry {index} of statement {statement_id}"
        amount = _money(_child(entry, "Amt"), where)
        booked = _date_of(_child(entry, "BookgDt"), f"the booking date of {where}")
        if booked is None:
            raise StatementError(f"The statement's {where} has no booking date.")
        valued = _date_of(_child(entry, "ValDt"), f"the value date of {where}")
        transactions = [
            transaction
            for details in _children(entry, "NtryDtls")
            for transaction in _children(details, "TxDtls")
        ]
        batch = len(transactions) > 1
        # an entry without details reads as one whose only transaction says nothing more
        for number, transaction in enumerate(transactions or [Element("TxDtls")], start=1):
            if _text(transaction, "CdtDbtInd") == "DBIT":
                continue
            own_amount = _child(transaction, "Amt")
            if own_amount is None:
                own_amount = _child(transaction, "AmtDtls", "TxAmt", "Amt")
            if own_amount is None and batch:
                raise StatementError(f"A transaction of the batch {where} has no amount.")
            cents, currency = (
                amount if own_amount is None else _money(own_amount, f"a transaction of {where}")
            )
            parts = {
                "amount": cents,
                "currency": currency,
                "booked_on": booked,
                "value_on": valued,
                "structured_reference": _compact(
                    _text(transaction, "RmtInf", "Strd", "CdtrRefInf", "Ref")
                ),
                "remittance_text": " ".join(
                    text
                    for information in _children(transaction, "RmtInf")
                    for unstructured in _children(information, "Ustrd")
                    if (text := (unstructured.text or "").strip())
                ),
                "debtor_name": _text(transaction, "RltdPties", "Dbtr", "Nm")
                or _text(transaction, "RltdPties", "Dbtr", "Pty", "Nm"),
                "debtor_account": _compact(
                    _text(transaction, "RltdPties", "DbtrAcct", "Id", "IBAN")
                ),
                "end_to_end_id": _end_to_end(_text(transaction, "Refs", "EndToEndId")),
            }
            entry_reference = _text(entry, "AcctSvcrRef")
            if entry_reference and batch:
                entry_reference = f"{entry_reference}/{number}"
            yield StatementEntry(
                entry_reference=_text(transaction, "Refs", "AcctSvcrRef")
                or entry_reference
                or _fingerprint(statement_id, index, number, parts),
                **parts,
            )


def _status(entry: Element) -> str | None:
    """BOOK, PDNG, INFO: a code of its own in .02, inside Sts/Cd from .08."""
    return _text(entry, "Sts", "Cd") or _text(entry, "Sts")


def _money(amount: Element | None, where: str) -> tuple[int, str]:
    """(cents, currency) of an amount element such as ``<Amt Ccy="EUR">1234.5</Amt>``."""
    if amount is None or not (amount.text or "").strip():
        raise StatementError(f"The statement's {where} has no amount.")
    currency = (amount.get("Ccy") or "").strip()
    if not currency:
        raise StatementError(f"The statement's {where} has no currency.")
    text = amount.text.strip()
    cents = Decimal(text) * 100 if _AMOUNT.fullmatch(text) else None
    if cents is None or cents != cents.to_integral_value():
        raise StatementError(
            f"The statement's {where} has an amount that is not a whole number of cents: "
            f"{text!r}."
        )
    return int(cents), currency


def _date_of(element: Element | None, what: str) -> date | None:
    """The day of a date choice element: its Dt, or the day of its DtTm."""
    if element is None:
        return None
    if day := _text(element, "Dt"):
        try:
            return date.fromisoformat(day)
        except ValueError:
            raise StatementError(f"Not a date, in {what}: {day!r}.") from None
    if moment := _text(element, "DtTm"):
        return _datetime(moment, what).date()
    return None


def _datetime(text: str, what: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise StatementError(f"Not a date and time, in {what}: {text!r}.") from None


def _end_to_end(identifier: str | None) -> str | None:
    """The payer's own id of the transfer; SEPA's NOTPROVIDED says there is none."""
    return None if identifier in (None, "NOTPROVIDED") else identifier


def _fingerprint(statement_id: str, index: int, number: int, parts: dict) -> str:
    """A stable id for an entry the bank gave no reference of its own."""
    fields = [statement_id, str(index), str(number)]
    fields += ["" if value is None else str(value) for value in parts.values()]
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


def _compact(text: str | None) -> str | None:
    return "".join(text.split()).upper() if text else None


# --- elements by local name, whatever the namespace of the version ------------------------


def _name(element: Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _name(child) == name]


def _child(element: Element, *path: str) -> Element | None:
    for name in path:
        element = next(iter(_children(element, name)), None)
        if element is None:
            return None
    return element


def _text(element: Element, *path: str) -> str | None:
    found = _child(element, *path)
    if found is None:
        return None
    return (found.text or "").strip() or None


def _required(element: Element, what: str, *path: str) -> str:
    text = _text(element, *path)
    if text is None:
        raise StatementError(f"A {what} has no {'/'.join(path)}.")
    return text
