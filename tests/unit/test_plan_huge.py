"""A huge command is planned without the risk rules reading it: destructive unread, as at
load, with the reason the confirmation shows; the walks on the way to the plan give the
same results as before, without a Python step per character."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.config import Config
from runbook.document.parser import parse
from runbook.execution import environment, history, risk
from runbook.execution.plan import plan
from runbook.execution.resolve import resolve
from runbook.execution.risk import MAX_RATED_BYTES, UNRATED_REASON, classify


def huge_runbook(body_line: str, lines: int, attributes: str = "") -> str:
    body = "\n".join(body_line.format(n=n) for n in range(lines))
    return f"# Huge\n\n## Proc\n\n```bash{attributes}\n{body}\n```\n"


@pytest.fixture
def rules_never_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails any attempt of the rules to read a command (after the load)."""

    def refuse(code: str, depth: int) -> str:
        raise AssertionError(f"the rules read {len(code):,} characters")

    classify.cache_clear()
    monkeypatch.setattr(risk, "classify_at", refuse)


def test_a_command_too_long_to_rate_is_planned_destructive_unread(
    tmp_path: Path, rules_never_read: None
) -> None:
    runbook = parse(huge_runbook("echo line {n} $(date) some words", 5_000))
    planned = plan(runbook, runbook.procedures[0], 1, config=Config(), environ={})
    assert len(planned.commands[0].code) > MAX_RATED_BYTES
    assert planned.risk == "destructive"
    assert planned.needs_confirmation
    assert planned.risk_reason == UNRATED_REASON == "too long to rate: destructive unread"
    assert f"risk:        destructive ({UNRATED_REASON})" in planned.describe()


def test_a_declared_read_only_risk_does_not_lower_an_unread_command(
    rules_never_read: None,
) -> None:
    runbook = parse(huge_runbook("echo line {n} some words", 5_000, " { rb-risk=read-only }"))
    planned = plan(runbook, runbook.procedures[0], 1, config=Config(), environ={})
    assert planned.risk == "destructive"
    assert planned.risk_reason == UNRATED_REASON


def test_a_command_the_rules_read_has_no_reason() -> None:
    runbook = parse(huge_runbook("echo line {n}", 10))
    planned = plan(runbook, runbook.procedures[0], 1, config=Config(), environ={})
    assert planned.risk == "read-only"
    assert planned.risk_reason == ""
    assert "risk:        read-only\n" in planned.describe()


def test_classify_does_not_read_a_command_over_the_limit(rules_never_read: None) -> None:
    assert classify("ls\n" * (MAX_RATED_BYTES // 3 + 1)) == "destructive"


def test_values_go_into_a_huge_command_everywhere_they_stand() -> None:
    line = "echo {n} \"$HOST\" '$HOST' $HOST img:<tag> '<tag>' \\$HOST"
    runbook = parse(huge_runbook(line, 3_000))
    (command,) = runbook.procedures[0].steps[0].commands
    code = resolve(command, {"HOST": "a b", "tag": "v1"}, environ={}).code
    expected = "echo {n} \"a b\" '$HOST' 'a b' img:v1 ''v1'' \\$HOST"
    assert code.split("\n")[:2] == [expected.format(n=0), expected.format(n=1)]
    assert code.count("\n") == 2_999


def test_scripts_named_in_a_huge_command_are_found(tmp_path: Path) -> None:
    code = "\n".join(f"echo {n}" for n in range(20_000)) + "\n./deploy/run.sh now\necho x.sh"
    assert environment._named_scripts(code, tmp_path) == [
        tmp_path / "deploy/run.sh",
        tmp_path / "x.sh",
    ]


def test_history_finds_a_deploy_after_many_lines() -> None:
    many = "\n".join(f"echo line {n} to make it longer" for n in range(20_000))
    assert history.classify(f"{many}\nmake deploy VERSION=2") == ("deploy", None)
    assert history.classify(f"{many}\ndocker tag web:abc web:current") == ("rollback", "abc")
    assert history.classify(f"{many}\ndocker compose up -d") == ("deploy", None)
    assert history.classify(many) is None


def test_the_image_a_placeholder_tags_is_found_on_any_line_of_a_huge_command() -> None:
    from runbook.execution.resolve import image_repository
    from runbook.model import Command, Variable

    tag = Variable(name="<tag>", kind="placeholder")
    many = "\n".join(f"echo line {n}" for n in range(20_000))
    code = f"{many}\necho ' :<tag>'\ndocker run registry/web:<tag>\n{many}"
    assert image_repository(Command(code=code, line=1, risk="read-only"), tag) == "registry/web"
    assert image_repository(Command(code=many, line=1, risk="read-only"), tag) is None
