"""Bank statements (camt.053): what is read, what is skipped, what is refused."""

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from services.payments import rf
from services.payments.camt import Statement, StatementEntry, StatementError, parse_statement
from tests.payments.camt_fixtures import statement_xml

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE_02 = (FIXTURES / "camt053_001_02_sample.xml").read_bytes()
SAMPLE_08 = (FIXTURES / "camt053_001_08_sample.xml").read_bytes()

# what both samples hold, in order: (amount, RF reference of the order, debtor)
CREDITS = [
    (59650, rf.for_order("ECS27-7KQ3M9"), "Copernicus Science Centre"),
    (138000, None, "Universeum AB"),  # its reference is in the free text
    (69000, rf.for_order("ECS27-N8WB5C"), "Zofia Wiśniewska-Łącka"),  # partial
    (50000, rf.for_order("ECS27-Q2ZD7F"), "Deutsches Museum"),  # over-payment
    (250000, None, "Stichting NEMO"),  # unknown
    (59000, rf.for_order("ECS27-B9MS4T"), "MUSE Museo delle Scienze"),  # batch, first
    (32550, rf.for_order("ECS27-X3LP8W"), "Eugenides Foundation"),  # batch, second
]


@pytest.mark.parametrize("xml", [SAMPLE_02, SAMPLE_08], ids=["001.02", "001.08"])
def test_reads_the_booked_credits_and_skips_the_rest(xml):
    statement = parse_statement(xml)
    assert isinstance(statement, Statement)
    assert statement.account_iban == "BE71096123456769"
    found = [(e.amount, e.structured_reference, e.debtor_name) for e in statement.entries]
    assert found == CREDITS
    assert all(isinstance(entry, StatementEntry) for entry in statement.entries)
    assert {entry.currency for entry in statement.entries} == {"EUR"}
    # the bank's fee (a debit) and the pending transfer are not there
    assert 1250 not in {entry.amount for entry in statement.entries}
    assert rf.for_order("ECS27-V6RJ3K") not in {e.structured_reference for e in statement.entries}
    assert len({entry.entry_reference for entry in statement.entries}) == len(CREDITS)


def test_version_02_every_field():
    statement = parse_statement(SAMPLE_02)
    assert statement.statement_id == "BE71096123456769-2027-0011"
    assert statement.created_at == datetime(2027, 1, 16, 5, 12, 44, tzinfo=UTC)
    first, free_text, partial, *_ = statement.entries
    assert first == StatementEntry(
        entry_reference="2027011504817301",
        amount=59650,
        currency="EUR",
        booked_on=date(2027, 1, 15),
        value_on=date(2027, 1, 15),
        structured_reference="RF02ECS277KQ3M9",
        remittance_text="",
        debtor_name="Copernicus Science Centre",
        debtor_account="PL61109010140000071219812874",
        end_to_end_id="CSC-2027-0113",
    )
    assert free_text == StatementEntry(
        entry_reference="2027011504817302",
        amount=138000,
        currency="EUR",
        booked_on=date(2027, 1, 15),
        value_on=date(2027, 1, 14),
        structured_reference=None,
        # two Ustrd lines, joined by a space
        remittance_text="Universeum invoice ECS27-I-000014 ref rf83 ecs27 h4tx-2p / M. Lindqvist",
        debtor_name="Universeum AB",
        debtor_account="SE4550000000058398257466",
        end_to_end_id=None,  # NOTPROVIDED
    )
    assert rf.references_in(free_text.remittance_text, [rf.for_order("ECS27-H4TX2P")]) == [
        rf.for_order("ECS27-H4TX2P")
    ]
    assert partial.debtor_name == "Zofia Wiśniewska-Łącka"
    assert partial.amount == 69000


def test_version_08_every_field():
    statement = parse_statement(SAMPLE_08)
    assert statement.statement_id == "053D20270203BE71096123456769"
    assert statement.created_at == datetime(
        2027, 2, 4, 5, 58, 10, 347000, tzinfo=timezone(timedelta(hours=1))
    )
    first, free_text, *_, unknown, batch_first, batch_second = statement.entries
    assert first == StatementEntry(
        entry_reference="ZC2B7F0X1Q8D0001",
        amount=59650,
        currency="EUR",
        booked_on=date(2027, 2, 3),
        value_on=date(2027, 2, 3),
        structured_reference="RF02ECS277KQ3M9",
        remittance_text="",
        debtor_name="Copernicus Science Centre",  # Dbtr/Pty/Nm in this version
        debtor_account="PL61109010140000071219812874",
        end_to_end_id="CSC-2027-0113",
    )
    assert free_text.structured_reference is None
    assert free_text.remittance_text == "Betalning faktura ECS27-I-000014, ref: rf83ecs 27h4tx 2p"
    assert free_text.value_on == date(2027, 2, 2)
    assert rf.references_in(free_text.remittance_text, [rf.for_order("ECS27-H4TX2P")]) == [
        rf.for_order("ECS27-H4TX2P")
    ]
    assert unknown == StatementEntry(
        entry_reference="ZC2B7F0X1Q8D0005",
        amount=250000,
        currency="EUR",
        booked_on=date(2027, 2, 3),
        value_on=date(2027, 2, 3),
        structured_reference=None,
        remittance_text="Ecsite membership fee 2027",
        debtor_name="Stichting NEMO",
        debtor_account="NL91ABNA0417164300",
        end_to_end_id="NEMO20270201",
    )
    assert rf.candidates(unknown.remittance_text) == []
    # a batch: each transaction its own amount (TxDtls/Amt, then AmtDtls/TxAmt/Amt)
    assert (batch_first.amount, batch_second.amount) == (59000, 32550)
    assert batch_second.debtor_account == "GR1601101250000000012300695"
    assert batch_second.end_to_end_id == "EF-2027-118"


def test_a_batch_gives_one_entry_per_transaction_each_with_its_own_reference():
    *_, first_02, second_02 = parse_statement(SAMPLE_02).entries
    # its transactions' own AcctSvcrRef
    assert (first_02.entry_reference, second_02.entry_reference) == (
        "2027011504817308-01",
        "2027011504817308-02",
    )
    # printed with spaces in the file, compact here
    assert second_02.structured_reference == "RF51ECS27X3LP8W"
    *_, first_08, second_08 = parse_statement(SAMPLE_08).entries
    # only the entry's AcctSvcrRef: numbered by transaction
    assert (first_08.entry_reference, second_08.entry_reference) == (
        "ZC2B7F0X1Q8D0008/1",
        "ZC2B7F0X1Q8D0008/2",
    )


def test_the_same_file_reads_the_same_every_time():
    assert parse_statement(SAMPLE_08) == parse_statement(SAMPLE_08)


def test_without_a_bank_reference_the_entry_gets_a_stable_fingerprint():
    xml = SAMPLE_02.replace(b"<AcctSvcrRef>2027011504817305</AcctSvcrRef>", b"")
    unknown = parse_statement(xml).entries[4]
    assert unknown.debtor_name == "Stichting NEMO"
    assert len(unknown.entry_reference) == 64  # sha256, hex
    assert parse_statement(xml).entries[4].entry_reference == unknown.entry_reference
    others = {entry.entry_reference for entry in parse_statement(xml).entries}
    assert len(others) == len(CREDITS)
    # another statement, another fingerprint for the same transfer
    elsewhere = xml.replace(b"BE71096123456769-2027-0011", b"BE71096123456769-2027-0012")
    assert parse_statement(elsewhere).entries[4].entry_reference != unknown.entry_reference


def test_an_entry_without_transaction_details_is_read_from_the_entry():
    xml = statement_xml([_transfer(structured_reference="RF18539007547034")])
    start, end = xml.index(b"<NtryDtls>"), xml.index(b"</NtryDtls>") + len(b"</NtryDtls>")
    (entry,) = parse_statement(xml[:start] + xml[end:]).entries
    assert entry.amount == 138000
    assert entry.structured_reference is None
    assert entry.remittance_text == ""
    assert entry.debtor_name is None


# --- the template that tests fill in -----------------------------------------------------


def _transfer(**fields) -> dict:
    return {"amount_cents": 138000, "booked_on": date(2027, 1, 20),
            "debtor_name": "Universeum AB", **fields}


def test_template_round_trip():
    order = rf.for_order("ECS27-H4TX2P")
    xml = statement_xml([
        _transfer(structured_reference=order),
        _transfer(amount_cents=5, booked_on=date(2027, 1, 21), debtor_name="Søren & <Ørsted>",
                  free_text=f"Invoice {rf.printed(order).lower()} <thanks> & bye"),
        _transfer(amount_cents=123456, free_text="Membership fee"),
    ])
    statement = parse_statement(xml)
    assert statement.account_iban == "BE71096123456769"
    assert statement.created_at == datetime(2027, 1, 21, 18, tzinfo=UTC)
    structured, free, unknown = statement.entries
    assert (structured.amount, structured.booked_on, structured.structured_reference) == (
        138000, date(2027, 1, 20), order)
    assert structured.remittance_text == ""
    assert (free.amount, free.booked_on, free.debtor_name) == (
        5, date(2027, 1, 21), "Søren & <Ørsted>")
    assert free.structured_reference is None
    assert free.remittance_text == "Invoice rf83 ecs2 7h4t x2p <thanks> & bye"
    assert rf.references_in(free.remittance_text, [order]) == [order]
    assert (unknown.amount, unknown.remittance_text) == (123456, "Membership fee")
    assert len({entry.entry_reference for entry in statement.entries}) == 3


def test_template_makes_the_same_statement_for_the_same_transfers():
    transfers = [_transfer(free_text="x"), _transfer(free_text="x")]
    first, again = parse_statement(statement_xml(transfers)), parse_statement(
        statement_xml(transfers))
    assert first == again
    # two identical transfers in one statement are still two
    assert len({entry.entry_reference for entry in first.entries}) == 2
    other = parse_statement(statement_xml([_transfer(free_text="y")]))
    assert other.entries[0].entry_reference not in {e.entry_reference for e in first.entries}
    chosen = parse_statement(statement_xml([_transfer(free_text="x", entry_ref="BANK-1")]))
    assert chosen.entries[0].entry_reference == "BANK-1"


# --- amounts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "cents"),
    [("1234.5", 123450), ("1380", 138000), ("0.01", 1), ("12.340", 1234), ("1380.00", 138000)],
)
def test_amounts_are_exact_cents(written, cents):
    xml = statement_xml([_transfer(free_text="x")]).replace(
        b">1380.00<", f">{written}<".encode())
    assert parse_statement(xml).entries[0].amount == cents


@pytest.mark.parametrize("written", ["12.345", "0.001", "1e3", "-5.00", "12,50", "NaN", ""])
def test_amounts_that_are_not_whole_cents_are_refused(written):
    xml = statement_xml([_transfer(free_text="x")]).replace(
        b">1380.00<", f">{written}<".encode())
    with pytest.raises(StatementError, match="amount"):
        parse_statement(xml)


# --- refused ----------------------------------------------------------------------------


@pytest.mark.parametrize("xml", [b"", b"not xml at all", b"<Document><BkToCstmrStmt>",
                                 b"%PDF-1.7\n", "Überweisung".encode("latin-1")])
def test_not_xml_is_refused(xml):
    with pytest.raises(StatementError, match="XML"):
        parse_statement(xml)


def test_a_notification_camt_054_is_not_a_statement():
    xml = b"""<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
  <BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>N1</MsgId></GrpHdr></BkToCstmrDbtCdtNtfctn>
</Document>"""
    with pytest.raises(StatementError, match="camt.053") as refused:
        parse_statement(xml)
    assert "BkToCstmrDbtCdtNtfctn" in str(refused.value)


def test_other_xml_is_not_a_statement():
    with pytest.raises(StatementError, match="BkToCstmrStmt"):
        parse_statement(b"<html><body>Statement</body></html>")


def test_billion_laughs_is_refused():
    xml = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Document><BkToCstmrStmt><Stmt><Id>&lol3;</Id></Stmt></BkToCstmrStmt></Document>"""
    with pytest.raises(StatementError, match="DTD"):
        parse_statement(xml)


def test_an_external_entity_is_refused():
    xml = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Document><BkToCstmrStmt><Stmt><Id>&secret;</Id></Stmt></BkToCstmrStmt></Document>"""
    with pytest.raises(StatementError):
        parse_statement(xml)


def test_a_doctype_alone_is_refused():
    xml = SAMPLE_08.replace(b"<Document ", b"<!DOCTYPE Document>\n<Document ", 1)
    with pytest.raises(StatementError, match="DTD"):
        parse_statement(xml)


@pytest.mark.parametrize(
    ("written", "instead", "message"),
    [
        (b'<Amt Ccy="EUR">1380.00</Amt>', b"", "no amount"),
        (b'<Amt Ccy="EUR">1380.00</Amt>', b"<Amt>1380.00</Amt>", "no currency"),
        (b"<BookgDt>\n          <Dt>2027-01-20</Dt>\n        </BookgDt>", b"", "no booking date"),
    ],
)
def test_an_entry_without_amount_currency_or_booking_date_is_refused(written, instead, message):
    xml = statement_xml([_transfer(free_text="x")])
    assert written in xml
    with pytest.raises(StatementError, match=message):
        parse_statement(xml.replace(written, instead, 1))


def test_a_malformed_date_is_refused():
    xml = statement_xml([_transfer(free_text="x")]).replace(b"2027-01-20", b"20.01.2027")
    with pytest.raises(StatementError, match="20.01.2027"):
        parse_statement(xml)


def test_a_statement_without_id_is_refused():
    xml = statement_xml([_transfer(free_text="x")])
    start = xml.index(b"<Id>STMT")
    xml = xml[:start] + xml[xml.index(b"</Id>", start) + len(b"</Id>"):]
    with pytest.raises(StatementError, match="Id"):
        parse_statement(xml)


# --- several statements in one file --------------------------------------------------------


def test_a_file_with_two_statements_gives_the_credits_of_both():
    first = statement_xml([_transfer(free_text="first day")], statement_id="STMT-0020")
    second = statement_xml([_transfer(free_text="second day", booked_on=date(2027, 1, 21))],
                           statement_id="STMT-0021")
    stmt = second[second.index(b"<Stmt>"):second.index(b"</Stmt>") + len(b"</Stmt>")]
    both = first.replace(b"</Stmt>", b"</Stmt>\n" + stmt, 1)
    statement = parse_statement(both)
    assert statement.statement_id == "STMT-0020, STMT-0021"
    assert statement.account_iban == "BE71096123456769"
    assert [entry.remittance_text for entry in statement.entries] == ["first day", "second day"]
    # of two different accounts, no one account
    other_account = both.replace(b"BE71096123456769", b"BE68539007547034", 1)
    assert parse_statement(other_account).account_iban is None
    assert len(parse_statement(other_account).entries) == 2
