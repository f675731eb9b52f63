"""The offline claim checker: what it catches (numbers, dates, names, negation, antonyms, unsupported
additions), that each failure is explained, its ROC AUC per perturbation type on the team-written
perturbation set, and the [eval.builtin] switch that puts it behind the builtin groundedness metric."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from llmscope.evals.claims import claim_groundedness
from llmscope.evals.offline import OfflineConfig, score_span

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import groundedness_data  # noqa: E402

CONTEXT = (
    "The Eiffel Tower is 330 metres tall and was completed in March 1889 for the World's Fair in Paris. "
    "It was designed by the company of Gustave Eiffel. Visitors are not allowed to climb above the second "
    "floor by the stairs. Ticket prices increased in 2024."
)


def test_grounded_answer_scores_high():
    rep = claim_groundedness("The Eiffel Tower is 330 metres tall and was completed in 1889.", CONTEXT)
    assert rep.score >= 0.7 and not rep.unsupported


@pytest.mark.parametrize(
    "answer, why",
    [
        ("The Eiffel Tower is 350 metres tall.", "number '350'"),
        ("It was completed in June 1889.", "date 'June'"),
        ("It was designed by the company of Henrik Bauer.", "name 'Henrik Bauer'"),
        ("Visitors are allowed to climb above the second floor by the stairs.", "negat"),
        ("Ticket prices decreased in 2024.", "'decreased' where the context says 'increased'"),
        ("The tower was later sold to a Canadian investment fund for two billion dollars.", "new content"),
    ],
)
def test_each_unsupported_claim_says_why(answer, why):
    rep = claim_groundedness(answer, CONTEXT)
    assert rep.score < 0.5 and rep.unsupported, rep
    assert why in rep.explanation(), rep.explanation()


def test_nothing_to_check():
    assert claim_groundedness("", CONTEXT).score is None
    assert claim_groundedness("Is it tall?", CONTEXT).score is None
    assert claim_groundedness("It is tall.", "").score is None


def _auc(rows):
    pos = [claim_groundedness(r["answer"], r["context"]).score for r in rows if r["label"]]
    out = {}
    for kind in sorted({r["kind"] for r in rows if not r["label"]}):
        neg = [claim_groundedness(r["answer"], r["context"]).score for r in rows if r["kind"] == kind]
        out[kind] = groundedness_data.auc(pos, neg)
    return out


def test_roc_auc_per_perturbation_type_on_the_fresh_pairs():
    # PAIRS_FRESH were written after the scorer's rules were frozen; floors are the measured AUCs rounded down
    auc = _auc(groundedness_data.build(fresh=True))
    assert set(auc) == {"number", "date", "entity", "negation", "antonym", "appended"}
    assert all(v >= 0.85 for v in auc.values()), auc


def test_eval_builtin_switch_uses_the_claim_checker():
    row = {"output_text": "The Eiffel Tower is 350 metres tall.", "context": CONTEXT}
    lexical = score_span(row, OfflineConfig())[0]
    claims = score_span(row, OfflineConfig.from_config({"groundedness": "claims"}))[0]
    assert lexical.metric == claims.metric == "groundedness_lexical"
    assert lexical.passed and not claims.passed and "number '350'" in claims.explanation
    with pytest.raises(ValueError, match="groundedness must be one of"):
        OfflineConfig.from_config({"groundedness": "magic"})
