"""Reports read from the marts and rendered as text, csv or json."""
