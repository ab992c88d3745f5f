"""Composing and sending email over SMTP."""

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from nameko.extensions import DependencyProvider

from services.notifications.domain import is_permanent


class TemporaryFailure(Exception):
    """Try again later: the server is down or answered 4xx, or a source is unavailable."""


class PermanentFailure(Exception):
    """The server refused for good (5xx): a bad address, say."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str
    inline_cid: str | None = None  # shown inside the HTML part, as cid:<inline_cid>


def compose(from_address: str, to_address: str, message_id: str, subject: str, text: str,
            html: str, attachments: tuple[Attachment, ...] = ()) -> EmailMessage:
    """A UTF-8 email: text and HTML alternatives, inline images beside the HTML, files."""
    email = EmailMessage()
    email["Subject"] = subject
    email["From"] = from_address
    email["To"] = to_address
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = message_id
    email.set_content(text, charset="utf-8")
    email.add_alternative(html, subtype="html", charset="utf-8")
    html_part = email.get_payload()[1]
    for attachment in attachments:
        if attachment.inline_cid:
            html_part.add_related(attachment.content, attachment.maintype, attachment.subtype,
                                  cid=f"<{attachment.inline_cid}>",
                                  filename=attachment.filename)
    for attachment in attachments:
        if not attachment.inline_cid:
            email.add_attachment(attachment.content, attachment.maintype, attachment.subtype,
                                 filename=attachment.filename)
    return email


class Mailer:
    def __init__(self, host: str, port: int, from_address: str):
        self.host, self.port, self.from_address = host, port, from_address

    def send(self, email: EmailMessage) -> None:
        """Hand the email to the SMTP server; raises Temporary- or PermanentFailure."""
        try:
            with smtplib.SMTP(self.host, self.port, timeout=15) as smtp:
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as refused:
            code, answer = next(iter(refused.recipients.values()))
            raise failure(code, answer) from None
        except smtplib.SMTPResponseException as error:
            raise failure(error.smtp_code, error.smtp_error) from None
        except (OSError, smtplib.SMTPException) as error:
            raise TemporaryFailure(f"{type(error).__name__}: {error}") from None


def failure(code: int, answer: bytes | str) -> Exception:
    text = answer.decode(errors="replace") if isinstance(answer, bytes) else answer
    kind = PermanentFailure if is_permanent(code) else TemporaryFailure
    return kind(f"{code} {text}"[:500])


class MailerProvider(DependencyProvider):
    def setup(self):
        config = self.container.config
        self.mailer = Mailer(config["SMTP_HOST"], int(config["SMTP_PORT"]), config["MAIL_FROM"])

    def get_dependency(self, worker_ctx):
        return self.mailer
