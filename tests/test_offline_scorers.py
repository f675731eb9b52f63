"""Offline (builtin) scorers against hand-computed values: SQuAD EM/F1, ROUGE-L, BLEU+1, lexical
groundedness, JSON-schema / length / pattern checks, the [eval.builtin] config and score_span."""

from __future__ import annotations

import json
import math
import random

import pytest

from llmscope.evals import offline as O
from llmscope.evals.offline import (
    BUILTIN_METRICS,
    OfflineConfig,
    Score,
    bleu,
    check_json,
    check_length,
    check_patterns,
    exact_match,
    lexical_groundedness,
    rouge_l,
    score_span,
    token_f1,
)

# ---------------------------------------------------------------- exact match / token F1 (SQuAD)


@pytest.mark.parametrize(
    "output, reference, expected",
    [
        ("the Eiffel Tower", "Eiffel tower", 1.0),
        ("Paris.", "paris", 1.0),
        ("  An   apple!", "apple", 1.0),
        ("“Denver Broncos”", "Denver Broncos", 1.0),  # curly quotes are punctuation too
        ("Paris", "Lyon", 0.0),
        ("Paris, France", "Paris", 0.0),
    ],
)
def test_exact_match(output, reference, expected):
    assert exact_match(output, reference) == expected


def test_token_f1_hand_computed():
    # normalised: [paris, is, capital] vs [capital, is, paris]: same bag -> P = R = 1
    assert token_f1("Paris is the capital", "capital is Paris") == 1.0
    # [paris, is, capital, of, france] vs [capital, is, paris]: overlap 3, P = 3/5, R = 1 -> 2*.6/1.6
    assert token_f1("Paris is the capital of France", "capital is Paris") == pytest.approx(0.75)
    # multiset overlap: cat min(3,1) + dog min(1,2) = 2; P = 2/4, R = 2/3 -> F1 = 4/7
    assert token_f1("cat cat cat dog", "cat dog dog") == pytest.approx(4 / 7)
    assert token_f1("Lyon", "Paris") == 0.0
    # SQuAD v2 convention on empty token lists ("the" normalises to nothing)
    assert token_f1("the", "a") == 1.0
    assert token_f1("the", "Paris") == 0.0


# ---------------------------------------------------------------- ROUGE-L


def test_rouge_l_hand_computed():
    # Lin (2004): reference "police killed the gunman"
    # "police kill the gunman": LCS = police the gunman = 3, P = R = 3/4
    assert rouge_l("police kill the gunman", "police killed the gunman") == pytest.approx(0.75)
    # "the gunman kill police": LCS = the gunman = 2, P = R = 2/4
    assert rouge_l("the gunman kill police", "police killed the gunman") == pytest.approx(0.5)
    # LCS = 6 (all of the reference), P = 6/7, R = 1 -> F = 12/13
    assert rouge_l("the cat was found under the bed", "the cat was under the bed") == pytest.approx(12 / 13)
    assert rouge_l("Same words here.", "same words here") == 1.0
    assert rouge_l("", "anything") == 0.0
    assert rouge_l("alpha beta", "gamma delta") == 0.0


def _lcs_dp(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def test_bit_parallel_lcs_equals_dynamic_programming():
    rng = random.Random(7)
    for _ in range(300):
        a = [rng.choice("abcde") for _ in range(rng.randint(0, 40))]
        b = [rng.choice("abcdef") for _ in range(rng.randint(0, 70))]
        assert O._lcs_len(a, b) == _lcs_dp(a, b), (a, b)


# ---------------------------------------------------------------- BLEU


def test_bleu_identical_disjoint_and_brevity_penalty():
    assert bleu("the cat sat on the mat", "the cat sat on the mat") == pytest.approx(1.0)
    assert bleu("hi there", "hi there") == pytest.approx(1.0)  # shorter than 4 tokens: still 1 with BLEU+1
    assert bleu("alpha beta gamma delta", "one two three four") == 0.0
    assert bleu("", "the cat") == 0.0
    # every n-gram of the 4-token output matches (p1 = 4/4, pn = (m+1)/(m+1) = 1),
    # so BLEU = BP = exp(1 - r/c) = exp(1 - 6/4)
    assert bleu("the cat sat on", "the cat sat on the mat") == pytest.approx(math.exp(-0.5))


def test_bleu_hand_computed_precisions():
    # c = r = 6, BP = 1. p1 = 5/6 (a unmatched); p2 = (3+1)/(5+1); p3 = (2+1)/(4+1); p4 = (1+1)/(3+1)
    # product = 5/6 * 4/6 * 3/5 * 2/4 = 1/6
    assert bleu("the cat sat on a mat", "the cat sat on the mat") == pytest.approx((1 / 6) ** 0.25)
    # clipping: "the" counts once; p1 = 1/4, p2 = 1/4, p3 = 1/3, p4 = 1/2; c > r so BP = 1
    assert bleu("the the the the", "the cat") == pytest.approx((1 / 96) ** 0.25)
    assert bleu("the cat sat", "the cat sat on the mat", max_n=1) == pytest.approx(math.exp(1 - 6 / 3))


# ---------------------------------------------------------------- lexical groundedness

CONTEXT = (
    "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. "
    "It is named after the engineer Gustave Eiffel, whose company designed and built the tower. "
    "Constructed from 1887 to 1889, it was the entrance arch to the 1889 World's Fair."
)


def test_groundedness_one_supported_one_unsupported():
    supported = "The Eiffel Tower was designed by the company of engineer Gustave Eiffel."
    invented = "Napoleon painted it bright gold for the royal wedding celebrations."
    score, unsupported = lexical_groundedness(f"{supported} {invented}", CONTEXT)
    assert score == 0.5
    assert unsupported == [invented]


def test_groundedness_fully_supported_with_inflections_and_meta_words():
    answer = (
        "Sure! According to the provided context, the Eiffel Tower is located in Paris, France.\n"
        "- It was constructed between 1887 and 1889.\n"
        "- It served as the entrance arch of the World's Fair.\n"
        "Would you like to know more about its design? Hope this helps!"
    )
    assert lexical_groundedness(answer, CONTEXT) == (1.0, [])


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "   ",
        "I don't know.",
        "I’m sorry, I can't help with that.",
        "The context does not mention the ticket prices.",
        "Is it open on Sundays?",
        "Yes. It is.",  # no content words at all
    ],
)
def test_groundedness_not_applicable(answer):
    assert lexical_groundedness(answer, CONTEXT) == (None, [])


def test_groundedness_threshold_is_sixty_percent_of_content_words():
    assert O.SUPPORT_THRESHOLD == 0.6
    ctx = "alpha bravo charlie delta echo"
    # 5 content words each; 3/5 in context = 60% -> supported, 2/5 -> not
    assert lexical_groundedness("Alpha bravo charlie xray yankee.", ctx) == (1.0, [])
    assert lexical_groundedness("Alpha bravo zulu xray yankee.", ctx) == (0.0, ["Alpha bravo zulu xray yankee."])


def test_stemmer_maps_inflections_together():
    assert O.stem("cities") == O.stem("city")
    assert O.stem("created") == O.stem("creates") == O.stem("creating") == O.stem("create")
    assert O.stem("stopped") == O.stem("stop")
    assert O.stem("boxes") == O.stem("box")
    assert O.stem("1889") == "1889"


# ---------------------------------------------------------------- JSON schema

SCHEMA = {
    "type": "object",
    "required": ["intent", "confidence"],
    "additionalProperties": False,
    "properties": {
        "intent": {"type": "string", "enum": ["refund", "shipping", "other"]},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "order_id": {"type": ["string", "null"], "minLength": 6, "maxLength": 12},
        "items": {
            "type": "array",
            "items": {"type": "object", "required": ["sku"], "properties": {"qty": {"type": "integer"}}},
        },
    },
}


def test_check_json_valid():
    ok, msg = check_json(
        '{"intent": "refund", "confidence": 0.9, "order_id": null, "items": [{"sku": "A", "qty": 2.0}]}', SCHEMA
    )
    assert (ok, msg) == (True, "")
    assert check_json("  [1, 2, 3]\n", None) == (True, "")
    assert check_json(json.dumps({"n": 2**70}), {"type": "object", "properties": {"n": {"type": "integer"}}}) == (
        True,
        "",
    )


@pytest.mark.parametrize(
    "output, fragment",
    [
        ('{"intent": "refund"}', "$: missing required property 'confidence'"),
        ('{"intent": "refund", "confidence": "high"}', "$.confidence: expected number, got string"),
        ('{"intent": "refund", "confidence": true}', "$.confidence: expected number, got boolean"),
        ('{"intent": "cancel", "confidence": 0.5}', '$.intent: "cancel" is not one of'),
        ('{"intent": "other", "confidence": 0.5, "extra": 1}', "$: additional property 'extra' not allowed"),
        ('{"intent": "other", "confidence": 1.5}', "$.confidence: 1.5 is greater than maximum 1"),
        ('{"intent": "other", "confidence": 0.1, "order_id": "A1"}', "shorter than minLength 6"),
        (
            '{"intent": "other", "confidence": 0.1, "items": [{"sku": "a"}, {"qty": 1.5}]}',
            "$.items[1]: missing required property 'sku'",
        ),
        (
            '{"intent": "other", "confidence": 0.1, "items": [{"sku": "a", "qty": 1.5}]}',
            "$.items[0].qty: expected integer, got number",
        ),
        ('["refund"]', "$: expected object, got array"),
        ("The intent is refund.", "not valid JSON"),
        ('{"intent": "refund", "confidence": NaN}', "not valid JSON"),
        ('```json\n{"intent": "refund", "confidence": 0.5}\n```', "code fence"),
        ("", "empty"),
    ],
)
def test_check_json_invalid(output, fragment):
    ok, msg = check_json(output, SCHEMA)
    assert ok is False
    assert fragment in msg


def test_check_json_refuses_unsupported_keywords():
    with pytest.raises(ValueError, match="unsupported JSON Schema keyword 'pattern'"):
        check_json('"x"', {"type": "string", "pattern": "^x$"})
    with pytest.raises(ValueError, match="oneOf"):
        check_json("{}", {"properties": {"a": {"oneOf": []}}})
    assert check_json('"x"', {"type": "string", "title": "ignored annotation", "$schema": "x"}) == (True, "")


# ---------------------------------------------------------------- length / patterns


def test_check_length():
    cfg = OfflineConfig(min_chars=5, max_chars=20, max_words=3)
    assert check_length("  four words is ok  ", cfg) == (False, "4 words > max_words 3")
    assert check_length("  short one  ", cfg) == (True, "")  # 9 chars after strip, 2 words
    assert check_length("hey", cfg) == (False, "3 chars < min_chars 5")
    ok, msg = check_length("x" * 25, cfg)
    assert not ok and msg == "25 chars > max_chars 20"
    assert check_length("anything at all goes here", OfflineConfig()) == (True, "")


def test_check_patterns():
    cfg = OfflineConfig(
        required_patterns=(r"(?i)order\s+#?\d+",), prohibited_patterns=(r"\b\d{3}-\d{2}-\d{4}\b", "(?i)as an ai")
    )
    assert check_patterns("Your order #1234 ships today.", cfg) == (True, "")
    ok, msg = check_patterns("As an AI I cannot say.", cfg)
    assert not ok
    assert "required pattern '(?i)order\\\\s+#?\\\\d+' not found" in msg
    assert "prohibited pattern '(?i)as an ai' found at char 0" in msg
    ok, msg = check_patterns("Order 7 for SSN 123-45-6789", cfg)
    assert not ok and "123-45-6789" not in msg and "found at char 16" in msg


# ---------------------------------------------------------------- config


def test_from_config_reads_the_table(tmp_path):
    (tmp_path / "schema.json").write_text(json.dumps({"type": "object", "required": ["a"]}))
    cfg = OfflineConfig.from_config(
        {
            "min_chars": 1,
            "max_words": 50,
            "required_patterns": "ok",
            "prohibited_patterns": ["bad"],
            "json_schema": "schema.json",
            "groundedness_threshold": 1,
        },
        base_dir=tmp_path,
    )
    assert cfg.required_patterns == ("ok",) and cfg.prohibited_patterns == ("bad",)
    assert cfg.json_schema == {"type": "object", "required": ["a"]}
    assert cfg.groundedness_threshold == 1.0
    assert OfflineConfig.from_config({"json_schema": '{"type": "array"}'}).json_schema == {"type": "array"}
    assert OfflineConfig.from_config({}) == OfflineConfig() == OfflineConfig.from_config(None)


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"max_chars": "100"}, r"\[eval.builtin\] max_chars must be a non-negative integer, got '100' \(str\)"),
        ({"max_words": True}, r"max_words must be a non-negative integer"),
        ({"min_chars": -1}, r"min_chars must be a non-negative integer"),
        ({"min_chars": 10, "max_chars": 5}, r"min_chars \(10\) must not exceed max_chars \(5\)"),
        ({"required_patterns": [1]}, r"required_patterns must be a string or a list of strings"),
        (
            {"prohibited_patterns": ["(unclosed"]},
            r"prohibited_patterns\[0\] '\(unclosed' is not a valid regular expression",
        ),
        ({"groundedness_threshold": 1.5}, r"groundedness_threshold must be a number between 0 and 1"),
        ({"groundedness_threshold": "high"}, r"groundedness_threshold"),
        (
            {"json_schema": {"type": "object", "properties": {"a": {"format": "email"}}}},
            r"json_schema.properties.a.format: unsupported JSON Schema keyword",
        ),
        ({"json_schema": {"type": "dict"}}, r"json_schema.type: unknown type 'dict'"),
        ({"json_schema": 3}, r"json_schema must be a table, a JSON string or a file path"),
        ({"json_schema": "{not json"}, r"json_schema is not valid JSON"),
        ({"json_schema": "/nonexistent/schema.json"}, r"json_schema: cannot read"),
        ({"max_char": 10}, r"\[eval.builtin\] max_char: unknown key; expected one of min_chars"),
    ],
)
def test_from_config_errors_name_the_key(raw, message):
    with pytest.raises(ValueError, match=message):
        OfflineConfig.from_config(raw)


# ---------------------------------------------------------------- score_span


def _by_metric(scores):
    return {s.metric: s for s in scores}


def _assert_no_nan(scores):
    for s in scores:
        assert isinstance(s, Score)
        assert s.score is None or (0.0 <= s.score <= 1.0 and not math.isnan(s.score)), s


def test_score_span_grounded_vs_hallucination():
    grounded = score_span(
        {
            "input_text": "Who built it?",
            "output_text": "Gustave Eiffel's company designed and built the tower.",
            "context": CONTEXT,
        },
        OfflineConfig(),
    )
    assert [s.metric for s in grounded] == ["groundedness_lexical"]
    g = grounded[0]
    assert (g.score, g.label, g.passed) == (1.0, "grounded", True)

    answer = "The tower is in Paris. Napoleon painted it bright gold. Tickets cost forty euros for adults."
    h = score_span({"input_text": "q", "output_text": answer, "context": CONTEXT}, OfflineConfig())[0]
    assert h.score == pytest.approx(1 / 3)
    assert (h.label, h.passed) == ("hallucination", False)
    assert "1/3 sentences supported" in h.explanation
    assert '"Napoleon painted it bright gold."' in h.explanation and "Tickets cost forty euros" in h.explanation

    lenient = score_span({"output_text": answer, "context": CONTEXT}, OfflineConfig(groundedness_threshold=0.3))[0]
    assert (lenient.label, lenient.passed) == ("grounded", True)


def test_score_span_explanation_is_truncated():
    long_answer = " ".join(
        f"Invented claim number {i} about zebras galloping through Lisbon markets." for i in range(50)
    )
    s = score_span({"output_text": long_answer, "context": CONTEXT}, OfflineConfig())[0]
    assert s.score == 0.0 and s.label == "hallucination"
    assert len(s.explanation) <= 600 and s.explanation.endswith("…")


@pytest.mark.parametrize("output", [None, "", "I don't know.", "I can't help with that."])
def test_score_span_not_applicable(output):
    cfg = OfflineConfig(max_chars=100)
    scores = score_span({"input_text": "q", "output_text": output, "context": CONTEXT}, cfg, reference="Gustave Eiffel")
    _assert_no_nan(scores)
    m = _by_metric(scores)
    assert list(m) == ["groundedness_lexical", "format", "exact_match", "token_f1", "rouge_l", "bleu"]
    g = m["groundedness_lexical"]
    assert (g.score, g.label, g.passed) == (None, "not_applicable", None)
    if output is None:  # nothing recorded: no format failure, no reference score
        assert all(s.score is None and s.label == "not_applicable" for s in scores)
    else:
        assert m["format"].score == 1.0 and m["exact_match"].score == 0.0


def test_score_span_format_and_reference_metrics():
    cfg = OfflineConfig(
        max_words=5, prohibited_patterns=("(?i)as an ai",), json_schema={"type": "object", "required": ["answer"]}
    )
    scores = score_span(
        {"input_text": "q", "output_text": '{"answer": "Gustave Eiffel"}', "context": None},
        cfg,
        reference="Gustave Eiffel",
    )
    _assert_no_nan(scores)
    m = _by_metric(scores)
    assert "groundedness_lexical" not in m  # no context, no groundedness
    assert (m["format"].score, m["format"].label, m["format"].passed) == (1.0, "pass", True)
    for name in ("exact_match", "token_f1", "rouge_l", "bleu"):
        assert m[name].passed is None and m[name].label == ""
    assert m["exact_match"].score == 0.0  # the braces and key are not part of the reference
    assert m["token_f1"].score == pytest.approx(0.8)  # [answer, gustave, eiffel] vs [gustave, eiffel]: P 2/3, R 1
    assert m["rouge_l"].score == pytest.approx(0.8)

    bad = _by_metric(score_span({"output_text": "As an AI, the answer is not JSON at all here"}, cfg))
    f = bad["format"]
    assert (f.score, f.label, f.passed) == (0.0, "fail", False)
    assert (
        "words > max_words 5" in f.explanation
        and "prohibited pattern" in f.explanation
        and "not valid JSON" in f.explanation
    )


def test_score_span_without_rules_context_or_reference_is_empty():
    assert score_span({"input_text": "q", "output_text": "a", "context": "  "}, OfflineConfig()) == []


def test_score_span_context_as_list_of_documents():
    docs = ["Gustave Eiffel's company built the tower.", "It opened in 1889."]
    s = score_span({"output_text": "The tower opened in 1889.", "context": docs}, OfflineConfig())[0]
    assert s.score == 1.0


def test_builtin_metrics_cover_score_span_output():
    assert BUILTIN_METRICS == ("groundedness_lexical", "format", "exact_match", "token_f1", "rouge_l", "bleu")
    scores = score_span(
        {"output_text": "The tower opened in 1889.", "context": CONTEXT}, OfflineConfig(min_chars=1), reference="1889"
    )
    assert {s.metric for s in scores} == set(BUILTIN_METRICS)
    _assert_no_nan(scores)


def test_random_inputs_never_crash_or_give_nan():
    rng = random.Random(5)
    alphabet = [
        "abc",
        "XYZ",
        "İ",
        "ß",
        "é",
        "1",
        "2",
        ".",
        "!",
        "?",
        "\n",
        "-",
        "'",
        "’",
        '"',
        "{",
        "}",
        ":",
        ",",
        "的",
        "😀",
        "the",
        "an",
        " ",
        " ",
        ". ",
    ]
    cfg = OfflineConfig(
        min_chars=3, max_chars=50, max_words=8, required_patterns=("a",), json_schema={"type": "object"}
    )
    for _ in range(1500):
        out, ctx, ref = ("".join(rng.choice(alphabet) for _ in range(rng.randint(0, k))) for k in (30, 40, 10))
        scores = score_span({"output_text": out, "context": ctx}, cfg, ref)
        _assert_no_nan(scores)
        assert all((s.score is None) == (s.label == "not_applicable") for s in scores)
