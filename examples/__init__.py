"""runelog's runnable examples, shipped in the wheel as `runelog.examples` (see `runelog examples`)."""
