"""Model-family names: the one place where the plan's family lists are normalised.

The routing policy (and any per-job list dbt computes) keeps family names as the user wrote them; the export
normalises them here, once, when it writes the plan (`metadata.model_families_requested` keeps the raw list).
The rule fixes the reference's `filter_trainers` (docs/decision-semantics.md):

1. a known family, compared case-, space-, dash- and underscore-insensitively, gets its canonical name
   (`LightGBM`→`lightgbm`, `XGBoost`/`XGB`→`xgboost`, `CatBoost`→`catboost`, `QuantileLightGBM`→`quantile_lightgbm`,
   `TabCNN`→`tab_cnn`, ...);
2. any other name becomes snake_case, keeping acronyms whole (`MyNewModel`→`my_new_model`, `FooNN`→`foo_nn`);
3. feature selectors (random_forest, catboost, lasso, ...) are dropped, after normalisation (so `CatBoost` no longer
   escapes the filter), and duplicates are removed keeping the first occurrence.

Normalising a normalised name changes nothing, so a list dbt already normalised passes through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FEATURE_SELECTORS = frozenset(
    {
        "random_forest",
        "catboost",
        "lasso",
        "mutual_information",
        "univariate_selection",
        "elastic_net",
        "ridge",
        "lasso_cv",
    }
)

# compact key (lower case, letters and digits only) -> canonical name
KNOWN_FAMILIES = {
    "lightgbm": "lightgbm",
    "lgbm": "lightgbm",
    "xgboost": "xgboost",
    "xgb": "xgboost",
    "catboost": "catboost",
    "quantilelightgbm": "quantile_lightgbm",
    "tabcnn": "tab_cnn",
    "tablstm": "tab_lstm",
    "tabtransformer": "tab_transformer",
    "gmmregime": "gmm_regime",
    "ftrlproximal": "ftrl_proximal",
    "randomforest": "random_forest",
    "mutualinformation": "mutual_information",
    "univariateselection": "univariate_selection",
    "elasticnet": "elastic_net",
    "lassocv": "lasso_cv",
    "metalearning": "meta_learning",
    "multitask": "multi_task",
    "ngboost": "ngboost",
}

_ACRONYM_WORD = re.compile(r"([A-Z]+)([A-Z][a-z])")
_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_SEPARATORS = re.compile(r"[\s\-]+")


def normalise_family(name: str) -> str:
    """The canonical spelling of one family name (rules 1 and 2 above)."""
    compact = re.sub(r"[^a-z0-9]", "", name.lower())
    if compact in KNOWN_FAMILIES:
        return KNOWN_FAMILIES[compact]
    snake = _LOWER_UPPER.sub(r"\1_\2", _ACRONYM_WORD.sub(r"\1_\2", name.strip()))
    snake = _SEPARATORS.sub("_", snake).lower()
    return re.sub(r"_+", "_", snake).strip("_")


def normalise_families(names: Iterable[str] | None) -> list[str]:
    """Normalise, drop feature selectors and empty names, de-duplicate keeping the first occurrence."""
    out: list[str] = []
    for name in names or []:
        family = normalise_family(name)
        if family and family not in FEATURE_SELECTORS and family not in out:
            out.append(family)
    return out
