"""The booking core: one way to hold capacity for any kind of slot."""
