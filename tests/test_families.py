"""Model-family normalisation (one place: trainplan.plan.families), fixing the reference's filter_trainers quirks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from trainplan.plan.families import normalise_families, normalise_family


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("LightGBM", "lightgbm"),
        ("XGBoost", "xgboost"),
        ("XGB", "xgboost"),
        ("CatBoost", "catboost"),
        ("QuantileLightGBM", "quantile_lightgbm"),
        ("TabCNN", "tab_cnn"),
        ("GMMRegime", "gmm_regime"),
        ("FTRLProximal", "ftrl_proximal"),
        ("random_forest", "random_forest"),
        ("MyNewModel", "my_new_model"),
        ("lightgbm", "lightgbm"),
    ],
)
def test_normalise_family(raw: str, expected: str) -> None:
    assert normalise_family(raw) == expected


def test_reference_example_list() -> None:
    # requested [LightGBM, xgboost, random_forest, XGB] -> [lightgbm, xgboost]
    assert normalise_families(["LightGBM", "xgboost", "random_forest", "XGB"]) == ["lightgbm", "xgboost"]


def test_selectors_are_dropped_after_normalisation() -> None:
    assert normalise_families(["CatBoost", "RandomForest", "Lasso", "MLP"]) == ["mlp"]


def test_empty_and_none() -> None:
    assert normalise_families(None) == []
    assert normalise_families(["", "  "]) == []


@given(st.lists(st.text(alphabet=st.characters(categories=["Lu", "Ll", "Nd"]) | st.sampled_from("_- "), max_size=20)))
def test_idempotent(names: list[str]) -> None:
    once = normalise_families(names)
    assert normalise_families(once) == once
