"""Every write to the hotline domain goes through a function in this package."""
