"""Reading the store for people and programs: index tables, spikes, explanations, exports."""
