"""A step whose `rb-verify` check fails shows as failed, with the check's reason."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from console.messages import StepFinished
from console.widgets.step_list import StepList
from console.widgets.step_output import StepOutput
from tests.tui.conftest import MakeConsole, wait_for_workers
from tests.tui.test_flows import open_procedure

RUNBOOK = (
    "# Checked\n\n## Checks\n\n### Look\n\n"
    '```bash { rb-verify="test -e missing-marker" }\n# Look around\necho looked\n```\n'
)


async def test_a_failed_check_fails_the_step_with_its_reason(
    make_console: MakeConsole, tmp_path: Path
) -> None:
    folder = tmp_path / "checked"
    folder.mkdir()
    path = folder / "runbook.md"
    path.write_text(RUNBOOK)
    messages: list[object] = []
    app = make_console(path)
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await open_procedure(pilot, app, "Look")
        await pilot.press("r")
        await wait_for_workers(app)
        await pilot.pause()
        reason = "verify failed: test -e missing-marker exited 1"
        (finished,) = [m for m in messages if isinstance(m, StepFinished)]
        assert (finished.status, finished.detail, finished.exit_code) == ("failed", reason, None)
        key = app.main_screen.query_one(StepList).procedure.key  # type: ignore[union-attr]
        record = app.progress.record(key, 1)
        assert record.status == "failed" and record.reason == reason
        assert ("info", "verify: test -e missing-marker") in record.output
        log = app.screen.query_one(StepOutput).log_widget
        assert any("verify: test -e missing-marker" in line.text for line in log.lines)
        title = app.screen.query_one("#output-title", Static)
        assert reason in str(title.render()) and title.has_class("-failed")
