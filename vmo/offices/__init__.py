"""Offices: every record belongs to one; its zone and plate prefix are its settings."""
