"""Values are substituted quoted for where they stand, and run as plain data."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runbook.execution.resolve import ResolveError, image_repository, resolve, suggestions
from runbook.model import Command, Variable

PLACEHOLDER = Variable("previous-sha", "placeholder")
TARGET = Variable("TARGET", "env")


def command(code: str, *variables: Variable) -> Command:
    return Command(code=code, line=1, risk="mutating", variables=variables)


def test_placeholder_in_image_tag() -> None:
    cmd = command("docker tag monkeytown-web:<previous-sha> monkeytown-web:current", PLACEHOLDER)
    resolved = resolve(cmd, {"previous-sha": "abc123"}, environ={})
    assert resolved.code == "docker tag monkeytown-web:abc123 monkeytown-web:current"
    assert resolved.missing == ()
    assert image_repository(cmd, PLACEHOLDER) == "monkeytown-web"


def test_missing_values_are_listed() -> None:
    cmd = command("echo <previous-sha> $TARGET", PLACEHOLDER, TARGET)
    assert resolve(cmd, {}, environ={}).missing == ("previous-sha", "TARGET")


def test_defaults_come_from_config_then_environment() -> None:
    cmd = command("echo $TARGET", TARGET)
    assert resolve(cmd, {}, {"TARGET": "cfg"}, {"TARGET": "env"}).code == "echo cfg"
    assert resolve(cmd, {}, {}, {"TARGET": "env"}).code == "echo env"


def test_single_quoted_dollar_is_left_alone() -> None:
    cmd = command("echo '$TARGET' \"$TARGET\" ${TARGET}", TARGET)
    assert resolve(cmd, {"TARGET": "a b"}, environ={}).code == "echo '$TARGET' \"a b\" 'a b'"


def test_secret_named_values_stay_out_of_the_command_text() -> None:
    cmd = command('curl -H "Authorization: $API_TOKEN"', Variable("API_TOKEN", "env"))
    resolved = resolve(cmd, {"API_TOKEN": "s3cret"}, environ={})
    assert "s3cret" not in resolved.code
    assert resolved.env == {"API_TOKEN": "s3cret"}


def test_export_values_can_be_overridden() -> None:
    cmd = command("export TAG=abc\necho $TAG", Variable("TAG", "export", "abc"))
    assert resolve(cmd, {"TAG": "x y"}, environ={}).code == "export TAG='x y'\necho $TAG"
    assert resolve(cmd, {}, environ={}).code == "export TAG=abc\necho $TAG"


def test_nul_bytes_are_rejected() -> None:
    with pytest.raises(ResolveError):
        resolve(command("echo $TARGET", TARGET), {"TARGET": "a\0b"}, environ={})


def test_no_suggestions_without_an_image_or_an_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert suggestions(command("echo <previous-sha>", PLACEHOLDER), PLACEHOLDER) == []
    cmd = command("docker tag monkeytown-web:<previous-sha> x:current", PLACEHOLDER)
    assert suggestions(cmd, PLACEHOLDER) == []


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="\0", blacklist_categories=["Cs"])))
def test_any_value_reaches_the_program_unchanged(value: str) -> None:
    code = "printf '%s\\0' <previous-sha> \"$TARGET\" $TARGET 'x<previous-sha>y' \"${TARGET}z\""
    cmd = command(code, PLACEHOLDER, TARGET)
    resolved = resolve(cmd, {"previous-sha": value, "TARGET": value}, environ={})
    out = subprocess.run(["bash", "-c", resolved.code], capture_output=True, env={}, check=True)
    assert out.stdout.decode("utf-8", "surrogateescape").split("\0")[:-1] == [
        value,
        value,
        value,
        f"x{value}y",
        f"{value}z",
    ]


def test_secret_placeholders_reach_the_shell_through_the_environment() -> None:
    token = Variable("api-token", "placeholder")
    cmd = command("printf '%s\\0' <api-token> \"x<api-token>\" 'y<api-token>'", token)
    resolved = resolve(cmd, {"api-token": "s3cr3t $(id)"}, environ={})
    assert "s3cr3t" not in resolved.code
    assert resolved.env == {"RUNBOOK_SECRET_API_TOKEN": "s3cr3t $(id)"}
    out = subprocess.run(
        ["bash", "-c", resolved.code], capture_output=True, env=resolved.env, check=True
    )
    assert out.stdout.decode().split("\0")[:-1] == [
        "s3cr3t $(id)",
        "xs3cr3t $(id)",
        "ys3cr3t $(id)",
    ]


def test_secret_export_override_stays_out_of_the_command() -> None:
    cmd = command(
        "export DB_PASSWORD=changeme\necho ok", Variable("DB_PASSWORD", "export", "changeme")
    )
    resolved = resolve(cmd, {"DB_PASSWORD": "hunter2"}, environ={})
    assert resolved.code == 'export DB_PASSWORD="${RUNBOOK_SECRET_DB_PASSWORD}"\necho ok'
    assert resolved.env == {"RUNBOOK_SECRET_DB_PASSWORD": "hunter2"}
