from __future__ import annotations

from decimal import Decimal

import pytest

from apps.bots.params import risk_params_serializer, strategy_params_form, strategy_params_serializer
from apps.bots.strategies import ParamsInvalid, strategy_clean_params


def test_pure_validation_fills_defaults_and_types():
    assert strategy_clean_params("rsi_mean_reversion", {"period": "7"}) == {
        "period": 7,
        "oversold": 30.0,
        "overbought": 70.0,
    }
    assert strategy_clean_params("grid", {"lower": "1.5", "upper": 2, "levels": 4})["lower"] == Decimal("1.5")


def test_pure_validation_reports_every_field():
    with pytest.raises(ParamsInvalid) as exc:
        strategy_clean_params("rsi_mean_reversion", {"period": 1, "oversold": "abc", "typo": 3})
    assert exc.value.errors == {
        "typo": ["Unknown parameter."],
        "period": ["Must be at least 2."],
        "oversold": ["Must be a number."],
    }


def test_pure_validation_refuses_null():
    # A null is not "use the default" (issue 18: `{"period": null}` created the bot).
    with pytest.raises(ParamsInvalid) as exc:
        strategy_clean_params("rsi_mean_reversion", {"period": None})
    assert exc.value.errors == {"period": ["This field may not be null."]}
    assert strategy_params_serializer("rsi_mean_reversion")(data={"period": None}).is_valid() is False


def test_serializer_built_from_the_declaration():
    serializer = strategy_params_serializer("macd_crossover")(data={"fast": 1, "slow": "x", "bogus": 1})
    assert not serializer.is_valid()
    # Every bad key at once, unknown ones included, as the pure validator reports them.
    assert serializer.errors == {
        "bogus": ["Unknown parameter."],
        "fast": ["Ensure this value is greater than or equal to 2."],
        "slow": ["A valid integer is required."],
    }
    serializer = strategy_params_serializer("macd_crossover")(data={"fast": 1, "slow": "x"})
    assert not serializer.is_valid()
    assert set(serializer.errors) == {"fast", "slow"}
    serializer = strategy_params_serializer("macd_crossover")(data={"fast": 30, "slow": 20})
    assert not serializer.is_valid()
    assert serializer.errors["fast"] == ["Must be shorter than the slow length."]
    serializer = strategy_params_serializer("macd_crossover")(data={"fast": 5})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data == {"fast": 5, "slow": 26, "signal": 9}


def test_form_built_from_the_declaration_with_prefixed_fields():
    form = strategy_params_form("bollinger_reversion", {"params-period": "1", "params-exit_band": "nowhere"})
    assert not form.is_valid()
    assert set(form.errors) == {"period", "exit_band"}
    form = strategy_params_form("grid", {"params-lower": "5", "params-upper": "4"})
    assert not form.is_valid()
    assert form.errors["upper"] == ["Must be above the lower price."]
    form = strategy_params_form("grid", {"params-lower": "4", "params-upper": "5", "params-levels": "8"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"lower": Decimal("4"), "upper": Decimal("5"), "levels": 8}
    assert 'name="params-levels"' in strategy_params_form("grid").as_div()


def test_risk_serializer():
    serializer = risk_params_serializer()(data={"order_size_mode": "percent", "order_size": "101"})
    assert not serializer.is_valid()
    assert "order_size" in serializer.errors
