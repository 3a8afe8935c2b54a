"""A sweep over three classifiers (runelog examples sweep)."""
