"""The index, spikes and word shifts: pandas in, pandas out. No SQL, no files."""
