"""One small error hierarchy; the API maps these to HTTP answers in one place."""


class MailError(Exception):
    """Base of every error the service raises on purpose."""

    status = 500
    # The error code in API answers; the class name without "Error" unless a contract fixed another.
    code: str | None = None


class NotFoundError(MailError):
    status = 404


class ConflictError(MailError):
    status = 409


class InvalidRequestError(MailError):
    status = 400


class PayloadTooLargeError(MailError):
    status = 413


class StorageError(MailError):
    """An AWS call failed in a way the caller cannot fix; retrying may help."""

    status = 503
