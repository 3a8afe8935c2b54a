import math

import numpy as np
import pytest

from runelog import codec, exceptions


@pytest.mark.parametrize("value", [True, 0.5, "x", [1000, 20], None, {"a": [1, {"b": False}]}, "ünïcødé", 10**20])
def test_values_round_trip_through_json(value):
    assert codec.decode_value(codec.encode_value("k", value)) == value


def test_numpy_scalars_and_arrays_are_stored_as_python_values():
    assert codec.decode_value(codec.encode_value("k", np.int64(7))) == 7
    assert codec.decode_value(codec.encode_value("k", np.arange(3))) == [0, 1, 2]


def test_unserialisable_value_names_the_key():
    with pytest.raises(exceptions.InvalidValue, match="'optimizer'"):
        codec.encode_value("optimizer", object())


@pytest.mark.parametrize("key", ["", "x" * 251, 5, None, "a\x00b"])
def test_bad_keys_are_refused(key):
    with pytest.raises(exceptions.InvalidKey):
        codec.check_key(key)


def test_key_at_the_limit_is_accepted():
    assert codec.check_key("k" * 250) == "k" * 250


@pytest.mark.parametrize("value", ["0.5", None, [1.0], np.array([1.0, 2.0]), 1j])
def test_non_numeric_metric_raises_type_error_naming_the_key(value):
    with pytest.raises(TypeError, match="'acc'"):
        codec.metric_value("acc", value)


def test_metric_values_nan_is_null_and_infinities_stay():
    assert codec.metric_value("m", float("nan")) is None
    assert math.isnan(codec.metric_from_db(None))
    assert codec.metric_value("m", float("inf")) == math.inf
    assert codec.metric_value("m", np.float32(0.5)) == 0.5
    assert codec.metric_value("m", 3) == 3.0


@pytest.mark.parametrize("name", ["../x", "a/../../b", "/etc/passwd", "C:/x", "a\x00b", "a\\b", "", "a//b", "./a", 7])
def test_unsafe_artifact_names_are_refused(name):
    with pytest.raises(exceptions.InvalidArtifactName):
        codec.check_artifact_name(name)


@pytest.mark.parametrize("name", ["model.joblib", "plots/loss.png", "a..b", ".hidden"])
def test_safe_artifact_names_pass(name):
    assert codec.check_artifact_name(name) == name
