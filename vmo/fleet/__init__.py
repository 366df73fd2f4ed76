"""Fleet pre-registration and the green channel: batches, green-channel days, inspections, plates."""
