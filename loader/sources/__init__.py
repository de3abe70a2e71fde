"""Input sources landed as-is into the raw schema."""
