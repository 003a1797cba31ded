"""The cloud confirmation service: a second opinion on every edge alarm (issue 5, docs/cloud.md).

`python -m detection.cloud --broker HOST:PORT` runs it; `python -m detection.cloud.train` trains its models.
The wire contract is :mod:`detection.cloud.protocol` (docs/uplink.md), shared with the edge.
"""
