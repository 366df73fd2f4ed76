"""The office's motorcycle register: import, due dates for periodic inspection, township counts."""
