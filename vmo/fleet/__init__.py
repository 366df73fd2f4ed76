"""Fleet pre-registration: companies' batches of new vehicles, their green-channel requests and appointments
(on the days of vmo.greenchannel), inspections and plates."""
