"""Shared widgets and Qt models used by more than one page."""
