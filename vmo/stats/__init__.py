"""Statistics: figures by SQL aggregation, extended by other packages through providers; the report page."""
