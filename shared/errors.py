"""Refusals: what a use case raises when it will not do what was asked.

They know nothing of HTTP. Each has a ``kind`` (the HTTP edge maps kinds to
status codes, in ``shared.http``), a ``code`` a program can test, a message a
person can read, and the ``field`` at fault. They cross RPC as themselves:
nameko rebuilds a registered exception from its args on the caller's side, so a
refusal in payments reaches registration's client as the same refusal (409
stays 409), and only an unreachable service becomes ``Unavailable``.
"""

from nameko.exceptions import deserialize_to_instance


class Refusal(Exception):
    kind = "bad_request"
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None, code: str | None = None):
        # Every attribute travels in args: that is what nameko sends over RPC.
        super().__init__(message, field, code or self.code)
        self.message, self.field, self.code = message, field, code or self.code

    def __str__(self) -> str:
        return self.message


@deserialize_to_instance
class BadRequest(Refusal):
    pass


@deserialize_to_instance
class Invalid(Refusal):
    kind, code = "invalid", "invalid_field"


@deserialize_to_instance
class Unauthorized(Refusal):
    kind, code = "unauthorized", "unauthorized"


@deserialize_to_instance
class Forbidden(Refusal):
    kind, code = "forbidden", "forbidden"


@deserialize_to_instance
class NotFound(Refusal):
    kind, code = "not_found", "not_found"


@deserialize_to_instance
class Conflict(Refusal):
    kind, code = "conflict", "conflict"


@deserialize_to_instance
class Gone(Refusal):
    kind, code = "gone", "gone"


@deserialize_to_instance
class TooLarge(Refusal):
    kind, code = "too_large", "too_large"


@deserialize_to_instance
class TooManyRequests(Refusal):
    """The caller has asked too much, too fast; ``retry_after`` says when to try again."""

    kind, code = "too_many", "too_many_requests"

    def __init__(self, message: str, field: str | None = None, code: str | None = None,
                 retry_after: int = 60):
        super().__init__(message, field, code)
        self.retry_after = max(1, int(retry_after))


@deserialize_to_instance
class Unavailable(Refusal):
    """Another service (or Stripe) cannot be reached now; try again shortly."""

    kind, code = "unavailable", "unavailable"
