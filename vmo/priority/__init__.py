"""The priority green channel: places kept for pregnant, elderly and disabled people, served first."""
