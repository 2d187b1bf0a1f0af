"""The label-quality audit of a built dataset: one offline HTML page and the numbers behind it.

`audit(build_dir, output, gold=None, config=AuditConfig())` reads only the build folder
(run.json, rejects.parquet and the shards, streamed one sample at a time), computes every
section's metrics, and writes `output/metrics.json`, `output/index.html` and
`output/suspects.csv`. See `labelmill audit --help` for the gold format.
"""

from labelmill.audit.metrics import AuditConfig
from labelmill.audit.report import audit

__all__ = ["AuditConfig", "audit"]
