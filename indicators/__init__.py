"""Text → scores with evidence. Pure functions; imports nothing from `tension`."""
