"""Local mode: the whole service on one machine, with moto standing in for AWS."""

import os

# Set before any function module creates its logger and metrics.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "mail-local")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Mail")
