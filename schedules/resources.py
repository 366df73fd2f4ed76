"""HTTP resources of the schedules package (each feature module adds its blueprint here)."""
from schedules.exams.resources import blp as exams_blp
from schedules.tours.resources import blp as tours_blp

BLUEPRINTS: list = []
BLUEPRINTS.append(exams_blp)
BLUEPRINTS.append(tours_blp)
