"""camt.053 statements of the conference account with the transfers a test needs."""

import hashlib
from collections import Counter
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

FIXTURES = Path(__file__).parent / "fixtures"
STATEMENT = (FIXTURES / "camt053_template.xml").read_text(encoding="utf-8")
ENTRY = (FIXTURES / "camt053_entry_template.xml").read_text(encoding="utf-8")


def statement_xml(entries: list[dict], statement_id: str | None = None) -> bytes:
    """A camt.053.001.08 statement booking each of ``entries`` as a credit.

    Each entry has ``amount_cents``, ``booked_on`` (a date), ``debtor_name`` and a
    ``structured_reference`` (an RF reference, sent as CdtrRefInf) or a ``free_text``
    (sent as Ustrd), or both; ``entry_ref`` optionally sets the bank's AcctSvcrRef.
    Otherwise that reference comes from the entry's content (and how many identical
    entries come before it), so the same transfers make the same statement again: one to
    import twice."""
    seen: Counter = Counter()
    filled = []
    for entry in entries:
        content = (entry["amount_cents"], entry["booked_on"].isoformat(), entry["debtor_name"],
                   entry.get("structured_reference"), entry.get("free_text"))
        seen[content] += 1
        filled.append(ENTRY.format(
            entry_ref=entry.get("entry_ref") or _reference("TRF", *content, seen[content]),
            amount=_amount(entry["amount_cents"]),
            booked_on=entry["booked_on"].isoformat(),
            debtor_name=escape(entry["debtor_name"]),
            remittance=_remittance(entry.get("structured_reference"), entry.get("free_text")),
        ))
    created_on = max((entry["booked_on"] for entry in entries), default=date(2027, 1, 1))
    return STATEMENT.format(
        statement_id=escape(statement_id or _reference("STMT", *filled)),
        created_at=f"{created_on.isoformat()}T18:00:00+00:00",
        entries="".join(filled),
    ).encode()


def _amount(cents: int) -> str:
    if cents <= 0:
        raise ValueError("A statement's transfers to the conference are credits: cents > 0.")
    return f"{cents // 100}.{cents % 100:02d}"


def _remittance(structured_reference: str | None, free_text: str | None) -> str:
    parts = []
    if free_text is not None:
        parts.append(f"<Ustrd>{escape(free_text)}</Ustrd>")
    if structured_reference is not None:
        parts.append(
            "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp>"
            f"<Ref>{escape(structured_reference)}</Ref></CdtrRefInf></Strd>"
        )
    return "".join(parts)


def _reference(prefix: str, *content) -> str:
    digest = hashlib.sha256(repr(content).encode()).hexdigest()[:16].upper()
    return f"{prefix}{digest}"
