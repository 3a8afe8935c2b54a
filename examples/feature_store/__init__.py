"""The lightweight feature store: version a feature set, train on it, keep the lineage."""
