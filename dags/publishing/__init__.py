"""The example DAGs' view of a publishing system: content source, holds, and audit reports."""
