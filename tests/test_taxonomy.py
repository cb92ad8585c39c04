"""The taxonomy loader: the bundled default and broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.errors import TaxonomyError
from pipeline.core.taxonomy import (
    DEFAULT_TAXONOMY,
    load_taxonomy,
    load_taxonomy_file,
    parse_taxonomy,
)

SPEC = Path(__file__).resolve().parent.parent.parent / "shared" / "spec" / "ingredients.md"
SPEC_IDS = {
    "kennis-actief-delen", "leren-tijdens-project", "samen-optrekken", "een-team",
    "principes-toepassen", "risico-en-winst-delen", "transparantie-aanspreekbaarheid",
    "autonomie-binnen-kaders", "sociale-binding", "gesprek-op-gang", "met-een-mond",
    "aanleiding", "bestuurlijk-lef", "eerdere-relaties", "elkaar-nodig-hebben",
}  # fmt: skip

GOOD = """
[[vlinders]]
id = "v1"
title = "Vlinder"

[[ingredients]]
id = "i1"
vlinder = "v1"
title = "Ingrediënt"
phrases = ["samen eten"]
"""


def test_default_taxonomy_has_every_spec_id():
    tax = load_taxonomy_file(DEFAULT_TAXONOMY)
    assert set(tax.ingredient_ids) == SPEC_IDS
    assert {v.id for v in tax.vlinders} == {"klompje-goud", "vertrouwen-winnen", "ja-durven-zeggen"}
    assert all(i.title and i.description and len(i.phrases) >= 10 for i in tax.ingredients)
    assert tax.ingredient("sociale-binding").vlinder == "vertrouwen-winnen"


def test_workspace_gets_a_copy_of_the_default(ws):
    assert ws.taxonomy_path.exists()
    assert load_taxonomy(ws).version == load_taxonomy_file(DEFAULT_TAXONOMY).version


def test_version_ignores_comments_but_not_phrases():
    base = parse_taxonomy(GOOD)
    assert parse_taxonomy("# een opmerking\n" + GOOD).version == base.version
    changed = parse_taxonomy(GOOD.replace('"samen eten"', '"samen eten", "lunch"'))
    assert changed.version != base.version


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[vlinders]\nid = 1", "geen geldige TOML"),
        (GOOD.replace('id = "i1"\n', ""), "verplicht veld 'id' ontbreekt"),
        (GOOD.replace('id = "i1"', 'id = "v1"'), "id 'v1' komt dubbel voor"),
        (GOOD.replace('vlinder = "v1"', 'vlinder = "v9"'), "onbekende vlinder 'v9'"),
        (GOOD.replace('id = "i1"', 'id = "Grote Fout"'), "ongeldige id 'Grote Fout'"),
        (GOOD.replace('phrases = ["samen eten"]', 'phrases = "samen eten"'), "lijst met teksten"),
        (GOOD.replace('phrases = ["samen eten"]', ""), "geen 'phrases', 'hints' of 'examples'"),
        (GOOD + "threshold = -1\n", "positief getal"),
        (GOOD + "[extra]\n", "onbekende sectie 'extra'"),
        ('[[vlinders]]\nid = "v1"\ntitle = "x"\n', "geen enkel ingrediënt"),
    ],
)
def test_broken_taxonomy_names_the_problem(text, message):
    with pytest.raises(TaxonomyError, match=message):
        parse_taxonomy(text, "taxonomy.toml")


def test_missing_file(tmp_path):
    with pytest.raises(TaxonomyError, match="bestaat niet"):
        load_taxonomy_file(tmp_path / "taxonomy.toml")
