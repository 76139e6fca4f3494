"""Shared code of the mail service's Lambda functions, shipped as a Lambda layer."""
