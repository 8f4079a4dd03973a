"""Domain errors: what services raise when a valid request meets a state that forbids it.

Plain Python (no DRF): each error carries its HTTP status as a number, which the API's
exception handler (shop.exceptions) and the idempotent-retry store read.
"""

from http import HTTPStatus


class DomainError(Exception):
    """A valid request that the resource's current state forbids (409 by default)."""

    status_code: int = HTTPStatus.CONFLICT
    code = "conflict"
    detail = "The resource's state forbids this request."
    # False for an answer true only for a moment (another request is under way): it is not
    # kept under an Idempotency-Key, so the same request sent later gets the lasting answer.
    lasting = True

    def __init__(self, detail: str | None = None, *, code: str | None = None, **extra):
        self.detail = detail or self.detail
        self.code = code or self.code
        self.extra = extra
        super().__init__(self.detail)

    def as_dict(self) -> dict:
        return {"detail": self.detail, "code": self.code, **self.extra}
