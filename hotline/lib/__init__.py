"""Framework-free helpers: pure functions, no Django imports."""
