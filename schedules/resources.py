"""HTTP resources of the schedules package (each feature module adds its blueprint here)."""

BLUEPRINTS: list = []
