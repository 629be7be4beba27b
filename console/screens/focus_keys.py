"""The keys that move focus, decided when the key arrives rather than after the keys before it.

Textual routes every key to the widget focused when the key reaches the app, but it resolves
an ordinary binding (Tab is one) only after the key has been through the focused widget and
bubbled back up. Keys typed right after Tab are routed before that happens, so they land in
the field being left: `payments-prod`, Tab, `api-7d9f` read `payments-prodapi-7d9f`. A
priority binding is resolved as the key arrives, so the keys after it go to the new field.
"""

from __future__ import annotations

from textual.binding import Binding

FIELD_FOCUS_BINDINGS = [
    Binding(
        "tab",
        "app.focus_next",
        "Next field",
        show=False,
        priority=True,
        id="field-next",
        tooltip="Move to the next field or button",
    ),
    Binding(
        "shift+tab",
        "app.focus_previous",
        "Previous field",
        show=False,
        priority=True,
        id="field-previous",
        tooltip="Move to the previous field or button",
    ),
]
"""Tab and Shift+Tab for a dialog with a text field."""
