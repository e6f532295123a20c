"""Polymarket connectors: venue words stay here; `parse.py` maps them to core events."""
