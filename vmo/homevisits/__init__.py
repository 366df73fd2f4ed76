"""Home visits (上门办理): an officer sent to the house of someone who cannot come to the hall."""
