"""The IPP encoding a desk printer is sent (RFC 8010), and the desks' printer settings."""

import struct

import pytest

from services.badges import ipp
from services.badges.printing import Printers, parse_printers
from shared.errors import Invalid, Unavailable


def attribute(tag: int, name: str, value: bytes) -> bytes:
    return struct.pack(">BH", tag, len(name)) + name.encode() + struct.pack(
        ">H", len(value)) + value


def answer(status: int, *groups: tuple[int, list[bytes]]) -> bytes:
    body = struct.pack(">BBHI", 2, 0, status, 7)
    for tag, attributes in groups:
        body += bytes([tag]) + b"".join(attributes)
    return body + bytes([ipp.END])


def test_a_print_job_request_carries_the_operation_and_the_document():
    request = ipp.print_job_request("ipp://127.0.0.1:631/printers/desk-1", b"%PDF-1.4 badge",
                                    job_name="badge ECS27-7KQ3M9", user="badges")

    assert request[:8] == struct.pack(">BBHI", 2, 0, ipp.PRINT_JOB, 1)
    assert request[8] == ipp.OPERATION_GROUP
    assert request.endswith(bytes([ipp.END]) + b"%PDF-1.4 badge")
    # The charset and language come first, in that order (RFC 8011, 4.1.4).
    assert request[9:].startswith(attribute(ipp.CHARSET, "attributes-charset", b"utf-8")
                                  + attribute(ipp.LANGUAGE, "attributes-natural-language",
                                              b"en"))
    for tag, name, value in [(ipp.URI, "printer-uri", b"ipp://127.0.0.1:631/printers/desk-1"),
                             (ipp.NAME, "job-name", b"badge ECS27-7KQ3M9"),
                             (ipp.MIME_TYPE, "document-format", b"application/pdf")]:
        assert attribute(tag, name, value) in request


def test_an_answer_is_read_group_by_group_with_further_values_joined():
    body = answer(0x0000,
                  (0x01, [attribute(ipp.CHARSET, "attributes-charset", b"utf-8"),
                          attribute(ipp.TEXT, "status-message", b"successful-ok")]),
                  (0x02, [attribute(ipp.INTEGER, "job-id", struct.pack(">i", 42)),
                          attribute(ipp.ENUM, "job-state", struct.pack(">i", 3)),
                          attribute(ipp.KEYWORD, "job-state-reasons", b"none"),
                          attribute(ipp.KEYWORD, "", b"job-queued")]))

    response = ipp.parse_response(body)

    assert response.ok and response.request_id == 7
    assert response.first("job-id") == 42
    assert response.attributes["job-state-reasons"] == ["none", "job-queued"]
    assert response.first("status-message") == "successful-ok"


@pytest.mark.parametrize("body", [b"", b"\x02\x00\x00", answer(0)[:-1],
                                  answer(0, (0x01, [attribute(ipp.TEXT, "x", b"abc")]))[:-3]])
def test_an_answer_that_is_not_ipp_is_malformed(body):
    with pytest.raises(ipp.MalformedResponse):
        ipp.parse_response(body)


@pytest.mark.parametrize("uri, url", [
    ("ipp://127.0.0.1/printers/desk-1", "http://127.0.0.1:631/printers/desk-1"),
    ("ipp://printer.local:8631/ipp/print", "http://printer.local:8631/ipp/print"),
    ("ipps://printer.local/ipp/print", "https://printer.local:631/ipp/print"),
    ("http://127.0.0.1:631/printers/desk-1", "http://127.0.0.1:631/printers/desk-1"),
])
def test_a_printer_uri_is_posted_to_over_http(uri, url):
    assert ipp.http_url(uri) == url


def test_the_desk_printers_setting():
    assert parse_printers(" desk-1 = ipp://127.0.0.1:631/printers/desk-1 , desk-2=ipps://p/ipp,"
                          ) == {"desk-1": "ipp://127.0.0.1:631/printers/desk-1",
                                "desk-2": "ipps://p/ipp"}
    assert parse_printers("") == {} and parse_printers(None) == {}
    for wrong in ["desk-1", "desk 1=ipp://p/q", "desk-1=ftp://p/q", "a=ipp://p/q,a=ipp://r/s"]:
        with pytest.raises(ValueError, match="DESK_PRINTERS"):
            parse_printers(wrong)


def test_a_printer_that_refuses_is_unavailable_and_an_unknown_one_invalid():
    def refuse(uri, pdf, *, job_name, user):
        raise ipp.PrinterError("refused the job (server-error-not-accepting-jobs)")

    printers = Printers({"desk-1": "ipp://p/q"}, send=refuse)
    with pytest.raises(Unavailable) as away:
        printers.send("desk-1", b"%PDF", "badge")
    assert (away.value.code, away.value.field) == ("printer_unavailable", "printer")
    assert "not-accepting-jobs" in away.value.message
    with pytest.raises(Invalid) as unknown:
        printers.send("desk-2", b"%PDF", "badge")
    assert unknown.value.field == "printer"
