"""Local mode: the whole service on one machine, with moto standing in for AWS."""

import os
import sys
import warnings
from pathlib import Path

# The functions find the shared package in their layer; here it is found in the layer's folder.
_LAYER = Path(__file__).resolve().parent.parent / "layers" / "mailcore" / "python"
if str(_LAYER) not in sys.path:
    sys.path.insert(0, str(_LAYER))

# Set before any function module creates its logger and metrics.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "mail-local")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Mail")

# Functions that record a metric only when something happened print nothing otherwise.
warnings.filterwarnings("ignore", message="No application metrics to publish")
