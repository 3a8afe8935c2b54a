"""runelog.formatting: the one way sizes, durations, times, ids and typed `key=value` are shown and read."""

from datetime import datetime, timezone

import pytest

from runelog import exceptions, formatting


@pytest.mark.parametrize("n, shown", [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"),
                                      (5 * 1024**2, "5.0 MiB"), (3 * 1024**3 + 1, "3.0 GiB"),
                                      (2 * 1024**4, "2.0 TiB"), (None, "—")])
def test_size(n, shown):
    assert formatting.size(n) == shown


@pytest.mark.parametrize("seconds, shown", [(0.25, "250 ms"), (42.14, "42.1 s"), (200, "3m 20s"),
                                            (3725, "1h 2m 5s"), (2 * 86400 + 3 * 3600, "2d 3h"), (None, "—")])
def test_duration(seconds, shown):
    assert formatting.duration(seconds) == shown


def test_timestamps_ids_and_cells():
    assert formatting.timestamp("2026-06-01T14:03:07.123456+00:00") == "2026-06-01 14:03:07"
    assert formatting.timestamp(datetime(2026, 6, 1, 14, 3, 7, 5, tzinfo=timezone.utc)) == "2026-06-01 14:03:07"
    assert formatting.timestamp(None) == "—" and formatting.timestamp(None, empty="") == ""
    assert formatting.short_id("3fa9c0d2e1b44f0e") == "3fa9c0d2" and formatting.short_id(None) == "(deleted)"
    assert formatting.value(0.912345) == "0.9123" and formatting.value(1e-5) == "1e-05"
    assert formatting.value(None) == "—" and formatting.value(3) == "3"


def test_parse_duration():
    assert [formatting.parse_duration(t) for t in ("90", "90s", "30m", "1.5h", "2d")] == [90, 90, 1800, 5400, 172800]
    with pytest.raises(exceptions.InvalidInput, match="not a duration"):
        formatting.parse_duration("soon")


@pytest.mark.parametrize("text, parsed", [
    ("candidate=true", ("candidate", True)), ("candidate=True", ("candidate", True)),
    ('candidate="true"', ("candidate", "true")), ("stage=prod", ("stage", "prod")), ("n=3", ("n", 3)),
    ("x=0.5", ("x", 0.5)), ("shape=[1, 2]", ("shape", [1, 2])), ("v=None", ("v", None)), ("v=null", ("v", None)),
    ("v=NaN", ("v", "NaN")), ("v=1e999", ("v", "1e999")), ("url=a=b", ("url", "a=b")), (" k = v ", ("k", "v"))])
def test_parse_assignment_reads_values_as_typed(text, parsed):
    assert formatting.parse_assignment(text) == parsed


def test_parse_assignment_refuses_what_is_not_key_value():
    for bad in ("novalue", "=3", " =x"):
        with pytest.raises(exceptions.InvalidInput):
            formatting.parse_assignment(bad)
