"""Buyer BOMs: reading exports, mapping columns, matching lines to parts, watching their health."""
