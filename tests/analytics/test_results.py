"""The facts the result types own: a direction's sign, a pilot's value metrics and headline."""

import pytest

from analytics.results import direction_sign


def test_a_direction_becomes_a_sign_in_one_place_and_an_unknown_one_is_refused():
    assert direction_sign("higher_is_better") == 1.0
    assert direction_sign("lower_is_better") == -1.0
    with pytest.raises(ValueError, match="'up_is_good'"):
        direction_sign("up_is_good")  # type: ignore[arg-type]  # the refusal is the point
