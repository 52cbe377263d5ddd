"""Request bodies for the end-to-end scenarios: the sample cases the demo and the bench use."""

from __future__ import annotations

from deploy.samples import case_body, id_number

__all__ = ["case_body", "id_number"]
