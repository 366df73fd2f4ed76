"""Weekend driving-test sessions: eligibility, first-come seats, the ballot, waiting lists and calendars."""
