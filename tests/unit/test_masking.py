"""Secret values are masked, also when split across writes."""

from __future__ import annotations

import base64
import json
import shlex
import urllib.parse
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runbook.execution.masking import MASK, Masker, is_secret_name, secret_values

SECRET = "hunter2-very-secret"


def test_secret_names() -> None:
    for name in (
        "GITHUB_TOKEN", "db_password", "AWS_SECRET_ACCESS_KEY", "SSH_KEY", "PASSWD",
        "APIKEY", "KEY", "SSH_KEY_FILE", "stripe-keys",
    ):  # fmt: skip
        assert is_secret_name(name)
    for name in ("HOME", "PATH", "COLOUR", "MONKEYTOWN_PORT", "KEYBOARD_LAYOUT", "TURKEYS_SEEN"):
        assert not is_secret_name(name)
    assert is_secret_name("SENTRY_DSN", extra_fragments=["dsn"])
    env = {"API_TOKEN": SECRET, "HOME": "/root", "EMPTY_KEY": "", "SHORT_KEY": "ab"}
    assert secret_values(env) == [SECRET]


def test_split_secret_is_masked() -> None:
    stream = Masker([SECRET]).stream()
    out = stream.feed("value=hunter2-ve") + stream.feed("ry-secret and more\n") + stream.flush()
    assert out == f"value={MASK} and more\n"


def test_tail_is_released_at_end_of_stream() -> None:
    stream = Masker([SECRET]).stream()
    assert stream.feed("hunter") == ""
    assert stream.flush() == "hunter"


def test_configured_patterns_are_masked() -> None:
    masker = Masker(patterns=[r"ghp_[A-Za-z0-9]{8}"])
    assert masker.mask("token ghp_abcdEFGH used") == f"token {MASK} used"
    stream = masker.stream()
    out = stream.feed("x ghp_abc") + stream.feed("dEFGH y") + stream.flush()
    assert out == f"x {MASK} y"


@given(st.text(max_size=40), st.text(max_size=40), st.lists(st.integers(0, 120), max_size=6))
def test_any_split_never_reveals_the_secret(before: str, after: str, cuts: list[int]) -> None:
    text = before + SECRET + after
    stream = Masker([SECRET]).stream()
    pieces, last = [], 0
    for cut in sorted(c % (len(text) + 1) for c in cuts):
        pieces.append(stream.feed(text[last:cut]))
        last = cut
    pieces.append(stream.feed(text[last:]))
    pieces.append(stream.flush())
    out = "".join(pieces)
    assert SECRET not in out
    assert out == Masker([SECRET]).mask(text)


@pytest.mark.parametrize(
    "printed",
    [
        lambda s: json.dumps({"dsn": s}),
        lambda s: urllib.parse.quote(s, safe=""),
        lambda s: urllib.parse.urlencode({"token": s}),
        lambda s: base64.b64encode(s.encode()).decode(),
        lambda s: base64.b64encode(s.encode()).decode().rstrip("="),
        lambda s: f"export TOKEN={shlex.quote(s)}",
        lambda s: s,
    ],
)
def test_a_secret_is_masked_in_its_common_encodings(printed: Any) -> None:
    secret = 'p@ss"w\\ord/+=x y'
    masker = Masker.from_env({"API_TOKEN": secret})
    line = f"value: {printed(secret)} end"
    masked = masker.mask(line)
    assert masker.mask(printed(secret)) == MASK or MASK in masked
    for form in {secret, printed(secret)}:
        assert form not in masked, (form, masked)
    stream = masker.stream()
    streamed = "".join(stream.feed(char) for char in line) + stream.flush()
    assert streamed == masked
