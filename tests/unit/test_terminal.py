"""Outside text never drives the operator's terminal: escape sequences removed (colours
kept only for a parser), other control characters shown; a runbook's shown as symbols."""

from __future__ import annotations

import pytest

from runbook.document.parser import parse
from runbook.terminal import neutralise, visible_controls

ATTACKS = [
    "\x1b[2J\x1b]0;PWNED\x07",  # clear the screen, set the window title
    "\x1b]52;c;cm0gLXJmIC8=\x07",  # write the clipboard
    "\x1b[?1049h\x1b[H",  # alternate screen, cursor home
    "\x1bc",  # reset the terminal
    "\x1bP+q544e\x1b\\",  # DCS query
    "\x9b2J",  # 8-bit CSI
    "\x1b[31",  # an unterminated sequence
    "\x1b",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_no_escape_reaches_the_terminal(attack: str) -> None:
    for keep_colour in (False, True):
        shown = neutralise(f"before{attack}after", keep_colour=keep_colour)
        assert "\x1b" not in shown and "\x9b" not in shown and "\x07" not in shown
        assert shown.startswith("before")
        if attack not in ("\x1b[31", "\x1b"):  # unterminated: the next letter ends it
            assert shown == "beforeafter"


def test_colours_stay_for_a_parser_and_controls_show() -> None:
    assert neutralise("\x1b[1;31mred\x1b[0m") == "red"
    assert neutralise("\x1b[1;31mred\x1b[0m", keep_colour=True) == "\x1b[1;31mred\x1b[0m"
    assert neutralise("ring\x07 back\x08 tab\tend\r") == "ring␇ back␈ tab\tend"
    assert neutralise("50%\rdone") == "50%␍done", "a carriage return inside a line is shown"


def test_a_runbooks_control_characters_are_shown_and_reported() -> None:
    text = (
        "# Ops\x1b]0;PWNED\x07\n\n## Restart\n\n1. Clear:\n\n   ```bash\n   echo \x1b[2J\n   ```\n"
    )
    runbook = parse(text)
    assert runbook.title == "Ops␛]0;PWNED␇"
    assert runbook.procedures[0].steps[0].commands[0].code == "echo ␛[2J"
    assert runbook.problems[0].line == 1 and "control characters" in runbook.problems[0].message
    assert visible_controls("a\tb\r\n") == "a\tb\r\n"
