"""The producer: conversation datasets to deduplicated first-turn prompts in the work table.

``run_ingest(settings, progress=...)`` (or ``await ingest(...)``) is the whole public surface;
``python -m producer`` runs it from the command line. See docs/ingest.md.
"""

from producer.errors import IngestError
from producer.ingest import IngestSummary, ingest, run_ingest

__all__ = ["IngestError", "IngestSummary", "ingest", "run_ingest"]
