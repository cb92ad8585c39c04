"""`vlinder init/add/list/show/remove/reindex` through click: output, exit codes, bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_ingest import ffmpeg, listing, make_bad_input

from pipeline.catalogue import open_catalogue
from pipeline.cli import cli
from pipeline.core.workspace import Workspace


def run(runner: CliRunner, ws: Workspace, *args: str, input: str | None = None):  # noqa: A002
    return runner.invoke(cli, ["-w", str(ws.root), *args], input=input)


def add(runner: CliRunner, ws: Workspace, path: Path, *args: str):
    return run(runner, ws, "add", str(path), "--no-transcribe", *args)


def test_every_command_has_help(runner: CliRunner) -> None:
    for name in ("init", "add", "list", "show", "remove", "reindex"):
        command = cli.commands[name]
        assert command.help and command.help.strip(), name
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0
        for param in command.params:
            if isinstance(param, __import__("click").Option):
                assert param.help, f"{name} {param.name}"


def test_init(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["init", str(tmp_path / "nieuw")])
    assert result.exit_code == 0, result.output
    for name in ("episodes", "transcripts", "feeds", "site", "vlinder.toml"):
        assert (tmp_path / "nieuw" / name).exists()


def test_add_list_show_remove(runner: CliRunner, ws: Workspace, speech_wav: Path) -> None:
    result = add(
        runner, ws, speech_wav, "--title", 'Dijk & "durf" <1>', "--date", "2025-03-14",
        "--speaker", "Anna", "--speaker", "Bram", "--event", "Symposium", "--kind", "interview",
        "--description", "Korte test",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[0] == "dijk-durf-1"

    listed = run(runner, ws, "list")
    assert listed.exit_code == 0
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:4] == ["slug", "datum", "titel", "duur"]
    assert "ingest" in lines[0] and "publish" in lines[0]
    assert lines[1].startswith("dijk-durf-1  2025-03-14")
    assert 'Dijk & "durf" <1>' in lines[1]
    assert re.search(r"  0:0\d  ", lines[1])
    assert "✓" in lines[1]

    shown = run(runner, ws, "show", "dijk-durf-1")
    assert shown.exit_code == 0
    out = shown.stdout
    assert 'Dijk & "durf" <1>' in out and "Anna, Bram" in out and "interview" in out
    assert "LUFS" in out and "dBTP" in out
    assert re.search(r"-1[567]\.\d LUFS", out)
    assert "ingest      done" in out

    # transcripts of the episode go too, others stay
    (ws.transcripts_dir / "dijk-durf-1.vtt").write_text("WEBVTT\n")
    (ws.transcripts_dir / "dijk-durf-10.vtt").write_text("WEBVTT\n")
    kept = run(runner, ws, "remove", "dijk-durf-1", input="n\n")
    assert kept.exit_code == 0 and ws.episode_dir("dijk-durf-1").exists()
    removed = run(runner, ws, "remove", "dijk-durf-1", input="j\n")
    assert removed.exit_code == 0, removed.output
    assert not ws.episode_dir("dijk-durf-1").exists()
    assert not (ws.transcripts_dir / "dijk-durf-1.vtt").exists()
    assert (ws.transcripts_dir / "dijk-durf-10.vtt").exists()
    with open_catalogue(ws) as cat:
        assert cat.slugs() == []
        assert cat.query("SELECT * FROM stages") == []
    again = run(runner, ws, "remove", "dijk-durf-1", "--yes")
    assert again.exit_code != 0 and "bestaat niet" in again.output


def test_list_empty_and_show_unknown(runner: CliRunner, ws: Workspace) -> None:
    assert "Nog geen afleveringen" in run(runner, ws, "list").stdout
    result = run(runner, ws, "show", "bestaat-niet")
    assert result.exit_code != 0
    assert "bestaat niet" in result.output


def test_duplicate_names_existing_episode(runner: CliRunner, ws: Workspace, speech_wav: Path):
    first = add(runner, ws, speech_wav, "--title", "Eerste")
    assert first.exit_code == 0
    before = listing(ws.root)
    dup = add(runner, ws, speech_wav, "--title", "Tweede")
    assert dup.exit_code == 3
    assert "'eerste'" in dup.output and "--force" in dup.output
    assert listing(ws.root) == before
    forced = add(runner, ws, speech_wav, "--title", "Tweede", "--force")
    assert forced.exit_code == 0
    assert forced.stdout.strip().splitlines()[0] == "tweede"


@pytest.mark.parametrize(
    "kind",
    ["missing", "directory", "empty", "random", "truncated", "text", "video_only", "zero"],
)
def test_bad_recording_one_line_error(
    runner: CliRunner, ws: Workspace, tmp_path: Path, speech_wav: Path, kind: str
) -> None:
    path = make_bad_input(tmp_path, speech_wav, kind)
    before = listing(ws.root)
    result = add(runner, ws, path)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("Error: "), result.stderr
    assert listing(ws.root) == before


@pytest.mark.parametrize(
    "args, message",
    [
        (["--date", "14-03-2025"], "ongeldige datum"),
        (["--date", "2025-02-30"], "ongeldige datum"),
        (["--kind", "lezing"], "lezing"),
    ],
)
def test_bad_options(
    runner: CliRunner, ws: Workspace, speech_wav: Path, args: list[str], message: str
) -> None:
    before = listing(ws.root)
    result = add(runner, ws, speech_wav, *args)
    assert result.exit_code != 0
    assert message in result.output
    assert listing(ws.root) == before


def test_silence_warning(runner: CliRunner, ws: Workspace, tmp_path: Path) -> None:

    silent = tmp_path / "stil.wav"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "4", str(silent))
    result = add(runner, ws, silent)
    assert result.exit_code == 0
    assert "Waarschuwing" in result.stderr and "stil" in result.stderr
    assert "stil" in run(runner, ws, "show", "stil").stdout


def test_reindex_rebuilds_catalogue(runner: CliRunner, ws: Workspace, speech_wav: Path) -> None:
    assert add(runner, ws, speech_wav, "--title", "Herbouw").exit_code == 0
    ws.catalogue_path.unlink()
    for extra in ws.root.glob("catalogue.db-*"):
        extra.unlink()
    # a hand edit of the metadata file is picked up
    toml = ws.episode_file("herbouw")
    toml.write_text(toml.read_text().replace('title = "Herbouw"', 'title = "Herbouwd"'))
    result = run(runner, ws, "reindex")
    assert result.exit_code == 0, result.output
    assert "1 afleveringen" in result.stdout
    with open_catalogue(ws) as cat:
        rows = cat.episode_rows()
        assert [(r["slug"], r["title"]) for r in rows] == [("herbouw", "Herbouwd")]
        assert cat.stages("herbouw")["ingest"]["status"] == "done"
    # a broken file is reported, the rest indexed, exit non-zero
    toml.write_text("title = ")
    broken = run(runner, ws, "reindex")
    assert broken.exit_code != 0
    assert "herbouw" in broken.stderr


def test_add_calls_after_ingest(
    runner: CliRunner, ws: Workspace, speech_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import flows
    from pipeline.flows import ProcessResult
    from pipeline.tagging import TagResult

    calls: list[tuple] = []

    def fake_process(ws_, slug, *, transcribe_audio, transcript_file, progress):
        calls.append((slug, transcribe_audio, transcript_file))
        return ProcessResult(slug, tags=TagResult(slug, "k", (), ()))

    monkeypatch.setattr(flows, "process", fake_process)
    result = add(runner, ws, speech_wav, "--title", "Volgende stap")
    assert result.exit_code == 0, result.output
    assert calls == [("volgende-stap", False, None)]
    assert "Getagd: 0 hoofdstukken" in result.stdout


def test_reindex_after_deleting_the_catalogue_answers_as_before(
    runner: CliRunner, ws: Workspace, speech_wav: Path, tmp_path: Path
) -> None:
    """The catalogue can always be rebuilt: delete it, `vlinder reindex`, and `vlinder list`
    and `vlinder search` answer exactly as before (every stage's state, chapters, fragments
    and tags come back from the files)."""
    vtt = tmp_path / "t.vtt"
    vtt.write_text(
        "WEBVTT\n\n00:00:00.000 --> 00:00:04.000\n"
        "Wij deelden de risico's met de aannemer, als één team zonder wij-zij.\n\n"
        "00:00:04.000 --> 00:00:07.500\n"
        "Elke vrijdag stond er een frietkar bij het projectkantoor.\n",
        encoding="utf-8",
    )
    added = run(runner, ws, "add", str(speech_wav), "--title", "Herbouw", "--transcript", str(vtt))
    assert added.exit_code == 0, added.output
    assert run(runner, ws, "build").exit_code == 0
    queries = (
        ("search", "risico's delen"),
        ("search", "frietkar"),
        ("search", "--ingredient", "een-team"),
        ("search", "--speaker", "x", "team"),
    )
    before = [run(runner, ws, "list").stdout] + [run(runner, ws, *q).output for q in queries]
    # ingest, transcribe, tag and publish all done
    assert before[0].splitlines()[1].split()[-4:] == ["✓", "✓", "✓", "✓"]
    assert "frietkar" in before[2] and "een-team" in before[3]

    for path in ws.root.glob("catalogue.db*"):
        path.unlink()
    reindexed = run(runner, ws, "reindex")
    assert reindexed.exit_code == 0, reindexed.output
    after = [run(runner, ws, "list").stdout] + [run(runner, ws, *q).output for q in queries]
    assert after == before
