"""HTTP resources of the mobile endpoint."""

BLUEPRINTS: list = []
