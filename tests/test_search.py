"""Search: Dutch word forms, compounds, related words, ingredients, filters, CLI, evaluation."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

import pipeline.search.ranking as ranking_module
from pipeline.catalogue import Catalogue, open_catalogue
from pipeline.cli import cli
from pipeline.core.errors import InputError
from pipeline.core.models import Episode, Fragment, Tag
from pipeline.core.taxonomy import load_taxonomy
from pipeline.evaluation.search import evaluate_search, read_corpus, read_queries
from pipeline.search import SearchOptions, index, search
from pipeline.search.analysis import Analyser
from pipeline.search.words import split_compound

_ANALYSER = Analyser()
key = _ANALYSER.key
analyse_query = _ANALYSER.analyse_query
index_fields = _ANALYSER.index_fields

ROOT = Path(__file__).resolve().parent.parent
SHARED_EVAL = ROOT.parent / "shared" / "eval"
DATA = Path(__file__).resolve().parent / "data"

EPISODE_A = [
    (
        "We hebben inmiddels drie symposia georganiseerd en een podcastserie gemaakt.",
        ["kennis-actief-delen"],
    ),
    ("De natuurcompensatie was eigenlijk de trigger voor het hele verhaal.", ["aanleiding"]),
    (
        "Het sporttoernooi aan het eind van het jaar maakte er echt een groep van.",
        ["sociale-binding"],
    ),
    (
        "In een gewoon contract is meerwerk een verdienmodel. Hier deelden we de pot.",
        ["risico-en-winst-delen"],
    ),
    ("De kruinhoogte van de dijk gaat op dit traject een halve meter omhoog.", []),
    (
        "Die gezamenlijke lunch op maandag was heilig, niemand plande daar iets overheen.",
        ["sociale-binding"],
    ),
]
EPISODE_B = [
    ("De dijkgraaf durfde ja te zeggen zonder dat de uitkomst vastlag.", ["bestuurlijk-lef"]),
    ("Er moest natuur worden aangelegd als compensatie voor de kap van bomen langs de dijk.", []),
    (
        "De leergroep kwam elke zes weken bij elkaar om te leren van wat er gebeurde.",
        ["leren-tijdens-project"],
    ),
    ("Één team: je zag niet meer wie van het waterschap was en wie van de aannemer.", ["een-team"]),
    ("Het risico op piping is op dit deel van het traject groot.", []),
    ("Een <script>alert(1)</script> in een transcript hoort als tekst te blijven.", []),
]


def _fill(cat: Catalogue) -> None:
    for slug, title, date, speakers, rows in (
        ("klompje-goud", "Het klompje goud", dt.date(2024, 3, 1), ("Anna de Vries",), EPISODE_A),
        ("ja-durven", "Ja durven zeggen", dt.date(2024, 5, 1), ("Bert Jansen",), EPISODE_B),
    ):
        cat.upsert_episode(Episode(slug=slug, title=title, date=date, guid=slug, speakers=speakers))
        fragments = [
            Fragment(
                index=i,
                start=30.0 * i,
                end=30.0 * i + 29,
                text=text,
                tags=tuple(Tag(t, 0.9) for t in tags),
            )
            for i, (text, tags) in enumerate(rows)
        ]
        cat.replace_fragments(slug, [], fragments)
    index(cat)  # what the tag flow does after the tag stage (pipeline.flows.tag)


@pytest.fixture
def cat(ws) -> Catalogue:
    catalogue = open_catalogue(ws)
    _fill(catalogue)
    yield catalogue
    catalogue.close()


@pytest.fixture
def filled_ws(ws):
    with open_catalogue(ws) as c:
        _fill(c)
    return ws


def _top(cat: Catalogue, query: str, n: int = 3, **kw) -> list[str]:
    result = search(cat, query, SearchOptions(limit=n, **kw), load_taxonomy())
    return [h.text for h in result.hits]


# analysis ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("natuurcompensatie", ("natuur", "compensatie")),
        ("sporttoernooi", ("sport", "toernooi")),
        ("verkenningsfase", ("verkenning", "fase")),
        ("kostprijzen", ("kost", "prijzen")),
        ("dijkversterkingstraject", ("dijk", "versterking", "traject")),
        ("gesprekken", ()),
        ("verkenning", ()),
        ("deelden", ()),
        ("aanspreken", ()),
    ],
)
def test_split_compound(word: str, parts: tuple[str, ...]) -> None:
    assert split_compound(word) == parts


def test_keys_conflate_word_forms() -> None:
    assert key("symposia") == key("symposium")
    assert key("deelden") == key("gedeeld") == key("delen")
    assert key("leergroepen") == key("leergroep")
    assert analyse_query("risico's").concepts[0].variants[0].keys == (key("risico"),)
    fields = index_fields("Het ingrediënt én de ingrediënten")
    assert fields.terms.split()[1] == fields.terms.split()[4]  # diacritics folded


def test_query_drops_question_words() -> None:
    labels = [c.label for c in analyse_query("hoe deelden ze risico's").concepts]
    assert labels == ["deelden", "risico"]


# ranking ----------------------------------------------------------------------------------
def test_plural_and_irregular_plural(cat: Catalogue) -> None:
    assert "symposia" in _top(cat, "symposium")[0]
    assert "leergroep" in _top(cat, "leergroepen")[0]
    assert "risico" in _top(cat, "risico's", 1)[0]


def test_diacritics_fold(cat: Catalogue) -> None:
    assert "Één team" in _top(cat, "een team")[0]
    assert "Één team" in _top(cat, "één team")[0]


def test_compound_part_finds_compound(cat: Catalogue) -> None:
    assert "sporttoernooi" in _top(cat, "toernooi")[0]


def test_compound_both_ways(cat: Catalogue) -> None:
    top = _top(cat, "natuur compensatie", 2)
    assert "natuurcompensatie" in top[0] or "natuurcompensatie" in top[1]
    top = _top(cat, "natuurcompensatie", 2)
    assert any("natuur worden aangelegd als compensatie" in t for t in top)


def test_related_words_without_shared_word(cat: Catalogue) -> None:
    assert "lunch" in _top(cat, "samen eten", 2)[0]
    assert "durfde" in _top(cat, "moed", 1)[0]


def test_ingredient_aware_ranking(cat: Catalogue) -> None:
    # "deelden we de pot" shares only "deelden"; the piping line shares "risico" - the tagged
    # fragment about sharing risk comes first
    assert "deelden we de pot" in _top(cat, "hoe deelden ze risico's", 1)[0]


def test_or_semantics_keeps_recall(cat: Catalogue) -> None:
    # no fragment has every word; the best partial matches still come back
    assert _top(cat, "podcastserie over kruinhoogte en sporttoernooi", 5)


# filters and listing ----------------------------------------------------------------------
def test_ingredient_filter(cat: Catalogue) -> None:
    result = search(cat, "lunch toernooi symposia", SearchOptions(ingredients=("sociale-binding",)))
    assert result.hits and all("sociale-binding" in h.ingredients for h in result.hits)


def test_listing_without_query(cat: Catalogue) -> None:
    tax = load_taxonomy()
    result = search(cat, None, SearchOptions(ingredients=("sociale-binding",)), tax)
    assert len(result.hits) == 2
    result = search(cat, None, SearchOptions(vlinder="ja-durven-zeggen"), tax)
    assert {h.slug for h in result.hits} == {"klompje-goud", "ja-durven"}
    result = search(cat, "", SearchOptions(speaker="bert", limit=50), tax)
    assert {h.slug for h in result.hits} == {"ja-durven"} and len(result.hits) == 6
    result = search(cat, "dijk", SearchOptions(episode="klompje-goud"), tax)
    assert {h.slug for h in result.hits} == {"klompje-goud"}


def test_bad_options(cat: Catalogue) -> None:
    tax = load_taxonomy()
    with pytest.raises(InputError, match="zoekvraag"):
        search(cat, "  ", SearchOptions(), tax)
    with pytest.raises(InputError, match="onbekend ingrediënt"):
        search(cat, "dijk", SearchOptions(ingredients=("bestaat-niet",)), tax)
    with pytest.raises(InputError, match="onbekende vlinder"):
        search(cat, "dijk", SearchOptions(vlinder="bestaat-niet"), tax)


@pytest.mark.parametrize(
    "query",
    [
        '"',
        'risico"s',
        "risico*",
        "*",
        "dijk AND NOT",
        "NEAR(dijk lunch)",
        "(((",
        "{text}: lunch",
        "text:lunch",
        "-dijk +lunch ^moed",
        "'; DROP TABLE fragments; --",
        "OR",
        "é ü ß æ 😀",
    ],
)
def test_fts_injection_safe(cat: Catalogue, query: str) -> None:
    result = search(cat, query, SearchOptions(), load_taxonomy())
    assert isinstance(result.hits, tuple)
    assert cat.query("SELECT count(*) FROM fragments")[0][0] == 12


# index maintenance ------------------------------------------------------------------------
def test_index_follows_replace_and_delete(cat: Catalogue) -> None:
    assert _top(cat, "sporttoernooi")
    cat.replace_fragments(
        "klompje-goud", [], [Fragment(index=0, start=0, end=5, text="Alleen over dijken.")]
    )
    assert not _top(cat, "sporttoernooi")
    assert _top(cat, "dijken")
    cat.delete_episode("klompje-goud")
    assert not any("Alleen over dijken" in t for t in _top(cat, "dijken"))
    fts_rows = cat.query("SELECT count(*) FROM fragments_fts WHERE fragments_fts MATCH 'dijken'")
    assert fts_rows[0][0] == 0


def test_reanalysis_when_analysis_changes(cat: Catalogue) -> None:
    assert index(cat) == 0  # nothing new
    cat.conn.execute("UPDATE fragments SET terms = '', parts = ''")
    cat.conn.execute("DELETE FROM search_words")
    cat.set_search_meta("analysis_version", "old")
    assert index(cat) == 12
    assert "symposia" in _top(cat, "symposium")[0]
    assert cat.search_words(["symposia"])  # the word analyses are kept again


def test_catalogue_keeps_word_analyses(cat: Catalogue) -> None:
    """Indexing keeps each word's key and compound parts: the words, their dictionary forms,
    the parts of compounds and neighbours written apart that make one."""
    known = {
        w: (k, parts)
        for w, k, parts in cat.search_words(
            ["sporttoernooi", "toernooi", "symposia", "symposium", "natuurcompensatie", "kap"]
        )
    }
    assert known["sporttoernooi"] == (key("sporttoernooi"), f"{key('sport')} {key('toernooi')}")
    assert known["toernooi"] == (key("toernooi"), "")
    assert known["symposium"][0] == known["symposia"][0]
    assert known["natuurcompensatie"][1] == f"{key('natuur')} {key('compensatie')}"
    # a compound of two query words is found among the words the catalogue has
    assert cat.search_compound_key(f"{key('natuur')} {key('compensatie')}", "x") == key(
        "natuurcompensatie"
    )


def _run_python(code: str, ws_root: Path) -> str:
    env = {"VLINDER_WORKSPACE": str(ws_root), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_new_search_process_needs_no_word_tables(runner, filled_ws) -> None:
    """A new `vlinder search` process finds the analyses of the query, thesaurus and taxonomy
    words in the catalogue: it loads neither the lemma nor the frequency tables."""
    res = runner.invoke(cli, ["-w", str(filled_ws.root), "search", "durven"])  # first search
    assert res.exit_code == 0, res.output
    code = (
        "import sys\n"
        "from pipeline.cli import cli\n"
        "for q in ('toernooi', 'natuur compensatie', 'hoe deelden ze risico\\'s', 'moed'):\n"
        "    cli(['search', q], prog_name='vlinder', standalone_mode=False)\n"
        "from pipeline.search.words import tables_loaded\n"
        "print('TABLES', tables_loaded(), 'simplemma' in sys.modules, 'wordfreq' in sys.modules)\n"
        "print('HEAVY', sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'av', 'torch'}))"
    )
    out = _run_python(code, filled_ws.root)
    assert "[sporttoernooi]" in out and "[natuurcompensatie]" in out
    assert "TABLES False False False" in out
    assert "HEAVY []" in out  # a search needs no numpy, audio or model packages either


def test_cli_imports_stay_light() -> None:
    """Every command pays for what `vlinder` imports at start: no numpy, Whisper, web server,
    queue or word tables before a command needs them."""
    heavy = "numpy faster_whisper ctranslate2 whisper av starlette uvicorn huey simplemma wordfreq"
    code = (
        "import sys\n"
        "import pipeline.cli\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy.split()!r}))"
    )
    assert _run_python(code, ROOT).strip() == "[]"
    from pipeline.cli.transcribe import ENGINES as CLI_ENGINES
    from pipeline.transcribe.options import ENGINES

    assert CLI_ENGINES == ENGINES


@pytest.mark.parametrize(
    "query",
    ["toernooi", "hoe deelden ze risico's", "samen eten", "natuur compensatie", "dijk", "moed"],
)
def test_pruned_scoring_ranks_the_same(cat: Catalogue, monkeypatch, query: str) -> None:
    """Scoring common weaker variants only for the candidates (as in a large catalogue)
    gives the same ranking and scores as scoring every variant everywhere."""
    tax = load_taxonomy()
    full = search(cat, query, SearchOptions(limit=4), tax)
    monkeypatch.setattr(ranking_module, "COMMON_MIN_ROWS", 0)
    monkeypatch.setattr(ranking_module, "COMMON_SHARE", 0.0)
    monkeypatch.setattr(ranking_module, "SPLIT_WORTH", 0.0)
    pruned = search(cat, query, SearchOptions(limit=4), tax)
    assert [(h.fragment_id, h.score) for h in pruned.hits] == [
        (h.fragment_id, h.score) for h in full.hits
    ]
    assert pruned.total == full.total


# hits -------------------------------------------------------------------------------------
def test_hit_snippet_and_escaping(cat: Catalogue) -> None:
    hit = search(cat, "lunch", SearchOptions(limit=1), load_taxonomy()).hits[0]
    assert "[lunch]" in hit.snippet()
    assert "<mark>lunch</mark>" in hit.snippet_html()
    assert hit.start == 150.0 and hit.anchor == "f5"
    assert hit.episode_title == "Het klompje goud"
    assert "sociale-binding" in hit.ingredients
    hit = search(cat, "script transcript", SearchOptions(limit=1)).hits[0]
    html = hit.snippet_html()
    assert "<script" not in html and "</script" not in html
    assert "&lt;<mark>script</mark>&gt;alert(1)" in html


# CLI --------------------------------------------------------------------------------------
def test_cli_search_text(runner, filled_ws) -> None:
    res = runner.invoke(cli, ["-w", str(filled_ws.root), "search", "toernooi"])
    assert res.exit_code == 0, res.output
    assert "Het klompje goud" in res.output
    assert "[sporttoernooi]" in res.output
    assert "@ 1:00" in res.output  # fragment 2 starts at 60 s
    assert "sociale-binding" in res.output


def test_cli_search_json_shape(runner, filled_ws) -> None:
    res = runner.invoke(cli, ["-w", str(filled_ws.root), "search", "lunch", "--json", "-n", "2"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["query"] == "lunch" and len(data["hits"]) <= 2
    hit = data["hits"][0]
    assert set(hit) >= {
        "episode",
        "title",
        "date",
        "fragment",
        "anchor",
        "start",
        "end",
        "time",
        "score",
        "snippet",
        "text",
        "ingredients",
        "speakers",
    }
    assert hit["episode"] == "klompje-goud" and hit["anchor"] == "f5"


def test_cli_no_hits_in_dutch(runner, filled_ws) -> None:
    res = runner.invoke(cli, ["-w", str(filled_ws.root), "search", "xylofoonconcert"])
    assert res.exit_code == 0
    assert "Niets gevonden voor 'xylofoonconcert'" in res.output


def test_cli_ingredient_listing_and_errors(runner, filled_ws) -> None:
    root = str(filled_ws.root)
    res = runner.invoke(cli, ["-w", root, "search", "--ingredient", "bestuurlijk-lef"])
    assert res.exit_code == 0 and "durfde" in res.output
    res = runner.invoke(cli, ["-w", root, "search"])
    assert res.exit_code != 0 and "zoekvraag" in res.output
    assert "Traceback" not in res.output
    res = runner.invoke(cli, ["-w", root, "search", "dijk", "--ingredient", "onzin"])
    assert res.exit_code != 0 and "onbekend ingrediënt" in res.output


def test_cli_search_without_catalogue(runner, ws) -> None:
    res = runner.invoke(cli, ["-w", str(ws.root), "search", "dijk"])
    assert res.exit_code != 0 and "catalogus" in res.output


# evaluation -------------------------------------------------------------------------------
needs_eval = pytest.mark.skipif(
    not (SHARED_EVAL / "search-dev.jsonl").exists(), reason="shared eval set not present"
)


@needs_eval
def test_cli_eval_search_dev(runner) -> None:
    corpus, queries = SHARED_EVAL / "tagging-dev.jsonl", SHARED_EVAL / "search-dev.jsonl"
    res = runner.invoke(cli, ["eval", "search", str(corpus), str(queries)])
    assert res.exit_code == 0, res.output
    assert "recall@5" in res.output and "MRR" in res.output
    res = runner.invoke(cli, ["eval", "search", str(corpus), str(queries), "--json"])
    data = json.loads(res.output)
    assert data["tags"] == "auto"  # our own tagger: the corpus labels would leak the answers
    assert data["recall@5"] >= 0.9
    assert len(data["per_query"]) == 18
    assert all(set(p["ranked"]) <= {f"d{i:02d}" for i in range(1, 31)} for p in data["per_query"])
    res = runner.invoke(cli, ["eval", "search", str(corpus), str(queries), "--tags", "corpus"])
    assert res.exit_code == 0 and "ingrediënten: corpus" in res.output


def test_cli_eval_search_bad_input(runner, tmp_path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{niet json\n", encoding="utf-8")
    res = runner.invoke(cli, ["eval", "search", str(bad), str(bad)])
    assert res.exit_code != 0 and "regel 1" in res.output and "Traceback" not in res.output


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


@needs_eval
def test_eval_with_distractors_generalises() -> None:
    """The dev queries and our own extra queries (other word forms, compound parts, related
    words) over the on-topic fragments mixed with 400 off-topic distractors."""
    dev = read_corpus(_lines(SHARED_EVAL / "tagging-dev.jsonl"))
    extra = read_corpus(_lines(DATA / "search-extra-corpus.jsonl"))
    noise = read_corpus(_lines(DATA / "distractors.jsonl"))
    tax = load_taxonomy()
    report = evaluate_search(
        dev + noise, read_queries(_lines(SHARED_EVAL / "search-dev.jsonl")), taxonomy=tax
    )
    assert report["tags"] == "auto"
    assert report["recall@5"] >= 0.9
    report = evaluate_search(
        dev + extra + noise, read_queries(_lines(DATA / "search-extra.jsonl")), taxonomy=tax
    )
    assert report["recall@5"] >= 0.85
