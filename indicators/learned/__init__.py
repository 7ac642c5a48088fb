"""The learned scorer: features, a linear model with exact explanations, and the scorer."""
