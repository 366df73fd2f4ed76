"""The green channel: days the office opens, their two slots (fleet and priority), and the day's serving queue."""
