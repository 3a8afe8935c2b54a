"""The filter language's grammar: what parses into what, and how bad text is reported (no database)."""

from datetime import datetime, timezone

import pytest

from runelog.exceptions import InvalidFilter, InvalidInput
from runelog.filter_sql import glob_pattern
from runelog.filters import AllOf, AnyOf, Comparison, Key, parse_filter, parse_order_by


def one(text: str) -> Comparison:
    node = parse_filter(text)
    assert isinstance(node, Comparison), node
    return node


def test_the_issue_example_parses_into_four_comparisons():
    node = parse_filter("metrics.val_acc > 0.9 and params.lr < 0.1 and tags.stage = 'prod' "
                        "and attributes.status = 'FINISHED'")
    assert isinstance(node, AllOf)
    assert [(c.key.entity, c.key.name, c.op, c.values[0].value) for c in node.parts] == [
        ("metric", "val_acc", ">", 0.9), ("param", "lr", "<", 0.1), ("tag", "stage", "=", "prod"),
        ("attribute", "status", "=", "FINISHED")]


@pytest.mark.parametrize("op", ["=", "==", "!=", "<>", "<", "<=", ">", ">="])
def test_every_comparison_operator(op):
    assert one(f"metrics.x {op} 1").op == {"==": "=", "<>": "!="}.get(op, op)


@pytest.mark.parametrize("text, op", [("tags.a LIKE 'x%'", "like"), ("tags.a ilike 'x%'", "ilike"),
                                      ("tags.a NOT LIKE 'x%'", "not like"), ("tags.a not ILIKE 'x'", "not ilike"),
                                      ("tags.a IN ('x', 'y')", "in"), ("tags.a NoT In ('x',)", "not in")])
def test_text_operators_and_keywords_in_any_case(text, op):
    assert one(text).op == op


@pytest.mark.parametrize("prefix, entity", [("metric", "metric"), ("params", "param"), ("param", "param"),
                                            ("tag", "tag"), ("attribute", "attribute"), ("run", "attribute"),
                                            ("METRICS", "metric")])
def test_mlflow_prefix_aliases(prefix, entity):
    key = one(f"{prefix}.{'status' if entity == 'attribute' else 'k'} = '1'" if entity != "metric"
              else f"{prefix}.k = 1").key
    assert key.entity == entity


@pytest.mark.parametrize("text, name", [("metrics.`val/acc` > 1", "val/acc"), ("metrics.`val acc` > 1", "val acc"),
                                        ('metrics."val acc" > 1', "val acc"), ("metrics.`a``b` > 1", "a`b"),
                                        ("metrics.val/acc > 1", "val/acc"), ("params.model.lr = 1", "model.lr"),
                                        ("metrics.and > 1", "and")])
def test_quoted_and_bare_keys(text, name):
    assert one(text).key.name == name


@pytest.mark.parametrize("text, column", [("run_name = 'a'", "name"), ("status = 'A'", "status"),
                                          ("attributes.run_id = 'a'", "id"), ("start_time > 0", "start_time"),
                                          ("attributes.end_time > 0", "end_time"), ("created > 0", "start_time")])
def test_attributes_and_their_shorthand(text, column):
    assert one(text).key == Key("attribute", column, 0) or one(text).key.name == column


def test_strings_numbers_booleans():
    assert one("tags.a = \"it's\"").values[0].value == "it's"
    assert one("tags.a = 'it''s'").values[0].value == "it's"
    assert one("params.a = -1.5e3").values[0].value == -1500.0
    assert one("params.a = 7").values[0].value == 7 and isinstance(one("params.a = 7").values[0].value, int)
    assert one("params.a = TRUE").values[0].value is True
    assert one("params.a = false").values[0].value is False


def test_an_injection_attempt_is_one_literal_string():
    node = one("tags.x = 'a'' OR 1=1 --'")
    assert node.values[0].value == "a' OR 1=1 --"


def test_or_and_parentheses_bind_as_usual():
    node = parse_filter("metrics.a > 1 or metrics.b > 1 and (tags.c = 'x' or tags.d = 'y')")
    assert isinstance(node, AnyOf) and isinstance(node.parts[1], AllOf)
    assert isinstance(node.parts[1].parts[1], AnyOf)


def test_times_are_milliseconds_or_iso_text():
    assert one("start_time > 1700000000000").values[0].value == datetime(2023, 11, 14, 22, 13, 20,
                                                                        tzinfo=timezone.utc)
    assert one("start_time >= '2024-06-01'").values[0].value == datetime(2024, 6, 1, tzinfo=timezone.utc)
    assert one("start_time < '2024-06-01T12:00:00+02:00'").values[0].value == datetime(2024, 6, 1, 10,
                                                                                       tzinfo=timezone.utc)
    assert one("end_time < '2024-06-01T10:00:00Z'").values[0].value.hour == 10


@pytest.mark.parametrize("text", [None, "", "   \n"])
def test_no_filter(text):
    assert parse_filter(text) is None


@pytest.mark.parametrize("text, column, words", [
    ("metrics.acc ~ 0.9", 13, "operator"),
    ("metrics.acc >", 14, "ends too soon"),
    ("metrics.acc > 1 and", 20, "ends too soon"),
    ("(metrics.acc > 1", 17, "')'"),
    ("metricz.acc > 1", 1, "unknown prefix"),
    ("foo = 1", 1, "unknown key"),
    ("attributes.colour = 'x'", 12, "unknown attribute"),
    ("metrics.acc = 'high'", 15, "number"),
    ("metrics.acc LIKE 'x'", 13, "LIKE compares text"),
    ("status < 'x'", 8, "text"),
    ("status = 3", 10, "quoted string"),
    ("params.lr < 'abc'", 13, "number"),
    ("tags.stage = 'prod", 14, "never closed"),
    ("metrics.val acc > 1", 13, "backticks"),
    ("start_time > 'yesterday'", 14, "ISO 8601"),
    ("tags.a LIKE 'x\\'", 13, "escape character"),
    ("metrics.a > 1 metrics.b > 2", 15, "AND"),
])
def test_a_bad_filter_says_where_and_what_was_expected(text, column, words):
    with pytest.raises(InvalidFilter) as raised:
        parse_filter(text)
    error = raised.value
    assert isinstance(error, InvalidInput) and isinstance(error, ValueError)
    assert f"at column {column}:" in str(error) and words in str(error), str(error)
    lines = str(error).splitlines()
    assert lines[1].strip() == text.strip() and lines[2].index("^") == lines[1].index(text[0]) + column - 1
    assert error.position == column - 1 and error.filter == text


def test_a_bad_filter_on_a_later_line_points_into_that_line():
    with pytest.raises(InvalidFilter) as raised:
        parse_filter("metrics.a > 1\n and metrics.b >> 2")
    assert "column 17" in str(raised.value) and "and metrics.b >> 2" in str(raised.value)


def test_order_by_terms():
    terms = parse_order_by(["metrics.`val/acc` DESC, params.lr", "run_name asc", "attributes.start_time"])
    assert [(t.key.entity, t.key.name, t.descending) for t in terms] == [
        ("metric", "val/acc", True), ("param", "lr", False), ("attribute", "name", False),
        ("attribute", "start_time", False)]
    assert parse_order_by(None) == () and parse_order_by("") == ()
    with pytest.raises(InvalidFilter, match="column 13"):
        parse_order_by("metrics.acc sideways")
    with pytest.raises(InvalidFilter, match="column 3: unexpected character ';'"):
        parse_order_by("id; DROP TABLE runs")


def test_like_patterns_become_equivalent_globs():
    assert glob_pattern("a%b_c") == "a*b?c"
    assert glob_pattern("50\\%") == "50%" and glob_pattern("a\\_b") == "a_b"
    assert glob_pattern("*?[") == "[*][?][[]"
