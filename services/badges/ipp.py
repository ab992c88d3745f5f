"""Printing over IPP, the protocol CUPS and network printers speak (RFC 8010, RFC 8011):
one Print-Job request, an HTTP POST of ``application/ipp``, and its answer.

Only what a desk printer needs: a PDF sent to a queue, the job id back, and the
printer's refusal in its own words. Pure encoding and decoding, plus ``print_job``, the
one function with I/O (``requests``, green under eventlet).
"""

import struct
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import requests

PRINT_JOB = 0x0002
VERSION = (2, 0)
# Delimiter tags: attribute groups, and the end of the attributes.
OPERATION_GROUP, END = 0x01, 0x03
# Value tags (RFC 8010, 3.5.2).
INTEGER, ENUM = 0x21, 0x23
TEXT, NAME, KEYWORD, URI, CHARSET, LANGUAGE, MIME_TYPE = (
    0x41, 0x42, 0x44, 0x45, 0x47, 0x48, 0x49)
STRING_TAGS = {TEXT, NAME, KEYWORD, URI, CHARSET, LANGUAGE, MIME_TYPE}
DEFAULT_PORT = 631
TIMEOUT = (3, 10)  # seconds to connect, and to hear back once the document is sent
# The refusals a desk is likely to meet, by name (RFC 8011, 13.1).
STATUS_NAMES = {
    0x0400: "client-error-bad-request", 0x0401: "client-error-forbidden",
    0x0402: "client-error-not-authenticated", 0x0403: "client-error-not-authorized",
    0x0406: "client-error-not-found", 0x040A: "client-error-document-format-not-supported",
    0x0500: "server-error-internal-error", 0x0502: "server-error-service-unavailable",
    0x0506: "server-error-not-accepting-jobs", 0x0507: "server-error-busy",
}


class PrinterError(Exception):
    """The printer could not be reached, or it did not take the job."""


class MalformedResponse(PrinterError):
    pass


@dataclass
class Response:
    status: int
    request_id: int
    attributes: dict[str, list] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status < 0x0100

    def first(self, name: str):
        return (self.attributes.get(name) or [None])[0]


def _attribute(tag: int, name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode("ascii"), value.encode("utf-8")
    return (struct.pack(">BH", tag, len(raw_name)) + raw_name
            + struct.pack(">H", len(raw_value)) + raw_value)


def print_job_request(printer_uri: str, document: bytes, *, job_name: str, user: str,
                      document_format: str = "application/pdf", request_id: int = 1) -> bytes:
    """A Print-Job request: the operation's attributes, then the document."""
    attributes = [
        (CHARSET, "attributes-charset", "utf-8"),
        (LANGUAGE, "attributes-natural-language", "en"),
        (URI, "printer-uri", printer_uri),
        (NAME, "requesting-user-name", user),
        (NAME, "job-name", job_name),
        (MIME_TYPE, "document-format", document_format),
    ]
    return b"".join([
        struct.pack(">BBHI", *VERSION, PRINT_JOB, request_id),
        bytes([OPERATION_GROUP]),
        *(_attribute(*attribute) for attribute in attributes),
        bytes([END]),
        document,
    ])


def parse_response(body: bytes) -> Response:
    """An IPP answer: its status, and every attribute of every group by name (an
    attribute's further values, which have no name of their own, joined to it)."""
    try:
        _major, _minor, status, request_id = struct.unpack_from(">BBHI", body)
        response, at, name = Response(status, request_id), 8, None
        while True:
            tag = body[at]
            at += 1
            if tag == END:
                return response
            if tag < 0x10:  # the start of another group
                continue
            (name_length,) = struct.unpack_from(">H", body, at)
            name = body[at + 2:at + 2 + name_length].decode("ascii") or name
            at += 2 + name_length
            (value_length,) = struct.unpack_from(">H", body, at)
            raw = body[at + 2:at + 2 + value_length]
            if len(raw) != value_length or name is None:
                raise MalformedResponse("the printer's answer is cut short")
            at += 2 + value_length
            response.attributes.setdefault(name, []).append(_value(tag, raw))
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise MalformedResponse("the printer's answer is not IPP") from exc


def _value(tag: int, raw: bytes):
    if tag in (INTEGER, ENUM) and len(raw) == 4:
        return struct.unpack(">i", raw)[0]
    if tag in STRING_TAGS:
        return raw.decode("utf-8")
    return raw


def http_url(printer_uri: str) -> str:
    """Where an ``ipp://`` (``ipps://``) printer URI is posted to: HTTP (HTTPS), port 631
    unless the URI names another."""
    parts = urlsplit(printer_uri)
    scheme = {"ipp": "http", "ipps": "https"}.get(parts.scheme, parts.scheme)
    netloc = parts.netloc if parts.port or parts.scheme not in ("ipp", "ipps") \
        else f"{parts.netloc}:{DEFAULT_PORT}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def status_name(status: int) -> str:
    return STATUS_NAMES.get(status, f"0x{status:04x}")


def print_job(printer_uri: str, document: bytes, *, job_name: str, user: str) -> int:
    """Send ``document`` (a PDF) to the printer queue at ``printer_uri``; the job's id.
    Raises PrinterError when the printer cannot be reached or refuses the job."""
    request = print_job_request(printer_uri, document, job_name=job_name, user=user)
    try:
        answer = requests.post(http_url(printer_uri), data=request, timeout=TIMEOUT,
                               headers={"Content-Type": "application/ipp"})
    except requests.RequestException as exc:
        raise PrinterError(f"cannot be reached ({type(exc).__name__})") from exc
    if answer.status_code != 200:
        raise PrinterError(f"answered HTTP {answer.status_code}")
    response = parse_response(answer.content)
    if not response.ok:
        said = response.first("status-message")
        raise PrinterError(f"refused the job ({status_name(response.status)}"
                           + (f": {said})" if said else ")"))
    job_id = response.first("job-id")
    if not isinstance(job_id, int):
        raise MalformedResponse("the printer took the job but gave no job id")
    return job_id
