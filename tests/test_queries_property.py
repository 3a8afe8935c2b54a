"""Random filters against a plain-Python reading of docs/querying.md's rules, on SQLite and PostgreSQL.

The store holds runs whose params, tags and metrics take every kind of value
(numbers, text, booleans, null, lists, NaN, ±inf, missing); hypothesis writes
filters over them, and the runs find_runs returns must be those the rules pick.
"""

import json
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runelog import db, queries

NUMBERS = [-1, 0, 0.1, 0.5, 1, 2, 2.5, 10]
TEXTS = ["adam", "Adam", "sgd", "0.1", "1", "true", "it's", "a%b", "a_b", "", "ünï", "x' OR '1'='1"]
VALUES = NUMBERS + TEXTS + [True, False, None, [1, 2]]
METRICS = [-1.0, 0.0, 0.1, 0.5, 1.0, 2.5, math.nan, math.inf, -math.inf]


def run_values(i: int) -> dict:
    """Run i's params, tags and metric histories: deterministic, and every value kind appears."""
    params = {key: VALUES[(i * 7 + offset) % len(VALUES)] for offset, key in enumerate(("p", "q"))
              if (i + offset) % 5}
    tags = {"t": VALUES[(i * 3) % len(VALUES)]} if i % 4 else {}
    points = [("m", METRICS[(i + j) % len(METRICS)], j) for j in range(i % 3 + 1)]
    return {"params": params, "tags": tags, "points": points}


RUNS = 24


@pytest.fixture
def store(tracker):
    for i in range(RUNS):
        values = run_values(i)
        with tracker.start_run(experiment_name="prop", run_name=f"r{i:02d}", log_code=False, log_git_meta=False):
            if values["params"]:
                tracker.log_params(values["params"])
            for key, value in values["tags"].items():
                tracker.set_tag(key, value)
            for key, value, step in values["points"]:
                tracker.log_metric(key, value, step=step)
    tracker.flush()
    return tracker


# ---------------------------------------------------------------- the rules, in Python


def like(pattern: str, text: str, insensitive: bool) -> bool:
    regex, escaped = "", False
    for char in pattern:
        if escaped:
            regex += re.escape(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            regex += {"%": ".*", "_": "."}.get(char, re.escape(char))
    if insensitive:  # ASCII case only, as SQLite folds it (the values here have no other cased letters that differ)
        return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL) is not None
    return re.fullmatch(regex, text, re.DOTALL) is not None


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def equals(stored, literal) -> bool:
    if is_number(literal):
        return is_number(stored) and stored == literal
    if isinstance(literal, bool):
        return isinstance(stored, bool) and stored == literal
    if isinstance(stored, str):
        return stored == literal
    try:
        parsed = json.loads(literal)
    except ValueError:
        return False
    scalar = parsed is None or isinstance(parsed, (bool, int, float))
    return scalar and json.dumps(stored) == json.dumps(parsed) and not isinstance(stored, (list, dict))


def value_matches(stored, op, literals) -> bool:
    if op in ("<", "<=", ">", ">="):
        return is_number(stored) and {"<": stored < literals[0], "<=": stored <= literals[0],
                                      ">": stored > literals[0], ">=": stored >= literals[0]}[op]
    if "like" in op:
        text = stored if isinstance(stored, str) else json.dumps(stored, ensure_ascii=False)
        found = like(literals[0], text, op.endswith("ilike"))
        return not found if op.startswith("not") else found
    hit = any(equals(stored, literal) for literal in literals)
    return not hit if op in ("!=", "not in") else hit


def metric_matches(latest, op, literals) -> bool:
    if latest is None or math.isnan(latest):
        return False
    return {"<": latest < literals[0], "<=": latest <= literals[0], ">": latest > literals[0],
            ">=": latest >= literals[0], "=": latest == literals[0], "!=": latest != literals[0],
            "in": latest in literals, "not in": latest not in literals}[op]


def expected(i: int, condition) -> bool:
    kind = condition[0]
    if kind == "and":
        return all(expected(i, part) for part in condition[1:])
    if kind == "or":
        return any(expected(i, part) for part in condition[1:])
    _, entity, key, op, literals = condition
    values = run_values(i)
    if entity == "metrics":
        points = [(step, n, v) for n, (k, v, step) in enumerate(values["points"]) if k == key]
        latest = max(points)[2] if points else None
        return metric_matches(latest, op, literals)
    stored = values["params" if entity == "params" else "tags"]
    return key in stored and value_matches(stored[key], op, literals)


# ---------------------------------------------------------------- filters as text


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def literal_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_number(value):
        return repr(value)
    return quote(value)


@st.composite
def comparisons(draw):
    entity = draw(st.sampled_from(["metrics", "params", "params", "tags"]))
    if entity == "metrics":
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "=", "!=", "in", "not in"]))
        pool = st.sampled_from([-1.0, 0.0, 0.1, 0.5, 1.0, 2.5, 1e308])
        literals = draw(st.lists(pool, min_size=1, max_size=3)) if "in" in op else [draw(pool)]
        key = "m"
    else:
        key = draw(st.sampled_from(["p", "q"] if entity == "params" else ["t"]))
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "=", "!=", "in", "not in", "like", "ilike",
                                   "not like", "not ilike"]))
        if op in ("<", "<=", ">", ">="):
            literals = [draw(st.sampled_from(NUMBERS))]
        elif "like" in op:
            literals = [draw(st.sampled_from(["a%", "A%", "%a%", "_", "__", "%", "0._", "a\\%b", "a\\_b", "%'%",
                                              "ü%", "t%", "[%"]))]
        else:
            pool = st.sampled_from(NUMBERS + TEXTS + [True, False, "null", "[1, 2]", "0.10"])
            literals = draw(st.lists(pool, min_size=1, max_size=3)) if "in" in op else [draw(pool)]
    if "in" in op and "like" not in op:
        text = f"{entity}.{key} {op.upper()} ({', '.join(literal_text(v) for v in literals)})"
    else:
        text = f"{entity}.{key} {op.upper()} {literal_text(literals[0])}"
    return text, ("cmp", entity, key, op, literals)


@st.composite
def filters(draw, depth=0):
    if depth >= 2 or draw(st.booleans()):
        return draw(comparisons())
    joiner = draw(st.sampled_from(["and", "or"]))
    parts = [draw(filters(depth=depth + 1)) for _ in range(draw(st.integers(2, 3)))]
    return "(" + f" {joiner.upper()} ".join(text for text, _ in parts) + ")", (joiner, *(c for _, c in parts))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=filters())
def test_find_runs_picks_the_runs_the_rules_pick(store, case):
    text, condition = case
    with db.read_session(store._engine) as session:
        found = sorted(run.run_name for run in queries.find_runs(session, "prop", text, details=False))
    wanted = sorted(f"r{i:02d}" for i in range(RUNS) if expected(i, condition))
    assert found == wanted, text


def sort_value(i: int, entity: str, key: str):
    """(kind, number, text) as find_runs sorts a value, or None when the run lacks it (or it is NaN)."""
    values = run_values(i)
    if entity == "metrics":
        points = [(step, n, v) for n, (k, v, step) in enumerate(values["points"]) if k == key]
        latest = max(points)[2] if points else None
        return None if latest is None or math.isnan(latest) else (0, latest, "")
    stored = values["params" if entity == "params" else "tags"]
    if key not in stored:
        return None
    value = stored[key]
    if is_number(value) or isinstance(value, bool):  # booleans sort as 0 and 1, among the numbers
        return (0, float(value), "")
    return (1, 0.0, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entity_key=st.sampled_from([("metrics", "m"), ("params", "p"), ("params", "q"), ("tags", "t")]),
       descending=st.booleans(), limit=st.none() | st.integers(1, 30), offset=st.integers(0, 25))
def test_order_by_and_paging_follow_the_rules(store, entity_key, descending, limit, offset):
    entity, key = entity_key
    with db.read_session(store._engine) as session:
        found = [run.run_name for run in queries.find_runs(
            session, "prop", order_by=f"{entity}.{key} {'DESC' if descending else 'ASC'}", limit=limit,
            offset=offset, details=False)]
    present = [i for i in range(RUNS) if sort_value(i, entity, key) is not None]
    missing = [i for i in range(RUNS) if sort_value(i, entity, key) is None]
    ordered = sorted(present, key=lambda i: (*sort_value(i, entity, key), i), reverse=descending)
    ordered += sorted(missing, reverse=descending)  # ties, and the runs without the key, in time order
    wanted = [f"r{i:02d}" for i in ordered][offset:None if limit is None else offset + limit]
    assert found == wanted
