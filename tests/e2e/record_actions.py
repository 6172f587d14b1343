"""`coda` with every action it runs written, one name a line, to $CODA_ACTION_LOG.

For test_keys.py: the keys arrive as a real terminal's bytes, and this records which action
the app ran for them. Actions reached through a binding pass App._dispatch_action; the chat
input decides send and new line in its own key handler, so those two are wrapped as well.
"""

from __future__ import annotations

import os
import sys

from textual.app import App

from coda_tui.ui.widgets.chat import ChatInput

_dispatch = App._dispatch_action


def _note(action: str) -> None:
    with open(os.environ["CODA_ACTION_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{action}\n")


async def _recorded(self, namespace, action_name, params):
    handled = await _dispatch(self, namespace, action_name, params)
    if handled:
        _note(action_name)
    return handled


def _wrap(method):
    def recorded(self, *args):
        _note(method.__name__.removeprefix("action_"))
        return method(self, *args)

    return recorded


App._dispatch_action = _recorded
ChatInput.action_send = _wrap(ChatInput.action_send)
ChatInput.action_newline = _wrap(ChatInput.action_newline)

if __name__ == "__main__":
    from coda_tui.cli import main

    sys.argv[0] = "coda"
    main()
