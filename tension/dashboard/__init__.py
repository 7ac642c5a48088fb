"""The Dash dashboard: layout, callbacks and figures over `tension` and `indicators`."""
