"""Files in and out: readers of article files, export writers, small CSV formats."""
