"""Every action a key can trigger, as plain data: the one place an action is described.

The keymap loader (coda_tui.keymaps) checks files against these names; ui/keys.py makes
the app's, the screens' and the widgets' Textual bindings from this table and the keymap
in force, and the footer, F1 help and the command palette read the same rows. Nothing here
imports Textual.

Scopes:
- "app": works everywhere on the main screen; in a dialog only quit and the palette do.
- "widget": works while the widget it belongs to (`where`) has focus.
- "screen": works while the dialog it belongs to (`where`) is open; its keys may repeat
  the main screen's, since the two are never active together.
"""

from __future__ import annotations

from dataclasses import dataclass

from coda_tui import panes

APP, SCREEN, WIDGET = "app", "screen", "widget"


@dataclass(frozen=True)
class Action:
    name: str
    description: str
    scope: str = APP
    # The footer's label; None keeps the action out of the footer (F1 and the palette list it).
    footer: str | None = None
    # Ahead of the focused widget: without it a text input types alt+e as an "e".
    priority: bool = True
    palette: bool = True
    # For widget and screen actions: where they work, as the help says.
    where: str = ""


def _app(name: str, description: str, footer: str | None = None, **kw) -> Action:
    return Action(name, description, APP, footer, **kw)


def _widget(name: str, description: str, where: str, footer: str | None, **kw) -> Action:
    return Action(name, description, WIDGET, footer, priority=kw.pop("priority", False), palette=False, where=where, **kw)


def _screen(name: str, description: str, where: str, footer: str) -> Action:
    return Action(name, description, SCREEN, footer, priority=True, palette=False, where=where)


# Order is the order of the help screen's source table and of keymaps.ACTIONS.
REGISTRY: tuple[Action, ...] = (
    _app("quit", "Quit coda", "Quit"),
    _app("help", "Show the keys and what they do", "Help"),
    _app("command_palette", "Open the command palette", palette=False),
    # Not ahead of widgets: a dialog's own Esc closes it, and a recording stops first.
    _app("cancel", "Cancel the running answer, or close the open dialog", priority=False, palette=False),
    # Sent and new lines are decided in the input's own key handler, in order with the typing.
    _widget("send", "Send the message in the chat input", "chat input", "Send"),
    _widget("newline", "Start a new line in the chat input", "chat input", None),
    # Ahead of the input's typing: alt+p would otherwise type a "p".
    _widget("history_previous", "Put the previous message you sent in the chat input", "chat input", None, priority=True),
    _widget("history_next", "Put the next message you sent in the chat input", "chat input", None, priority=True),
    _app("focus_next", "Focus the next pane"),
    _app("focus_previous", "Focus the previous pane"),
    # Each declared pane's (coda_tui.panes): focus in Tab order, show/hide left to right,
    # which is also their order in the footer.
    *(_app(p.focus_action, f"Focus {p.name}") for p in panes.PANES),
    *(_app(p.toggle_action, f"Show or hide {p.name}", p.title) for p in panes.in_layout_order() if p.toggle_action),
    _app("zoom", "Zoom the focused pane to the whole screen, or back"),
    _app("new_session", "Start a new session", "New"),
    _app("clear_session", "Clear the conversation on screen"),
    _app("export_session", "Export the session as Markdown"),
    _app("sessions", "Browse past sessions", "Sessions"),
    _app("open_file", "Open a file in the code pane"),
    _app("pick_model", "Choose the provider and model", "Model"),
    _app("regenerate", "Answer the last message again"),
    _app("compare", "Ask the last question again with other models, side by side"),
    _app("retry", "Retry the request that failed"),
    _app("edit_last", "Edit the last message you sent"),
    _app("copy_answer", "Copy the last answer"),
    _app("copy_code", "Copy the last code block of the last answer"),
    _app("theme_next", "Switch to the next theme"),
    _widget("branch", "Branch a new session from the selected message (in the conversation)", "conversation", "Branch here"),
    _widget("copy_message", "Copy the selected message (in the conversation)", "conversation", "Copy message"),
    _widget("rate_up", "Rate the selected answer up, with an optional reason (in the conversation)",
            "conversation", "Rate up"),
    _widget("rate_down", "Rate the selected answer down, with an optional reason (in the conversation)",
            "conversation", "Rate down"),
    _widget("attach", "Attach the file under the cursor, or the selected lines, to the next question",
            "project tree, search results, code pane", "Attach"),
    _widget("index_folder", "Index this folder although coda would not on its own (a big folder outside git)",
            "project tree", "Index folder"),
    # From any pane: the code pane takes focus and asks for the line.
    _app("go_to_line", "Go to a line of the file in the code pane"),
    _widget("detach", "Remove the selected attachment (in the attachment list)", "attachment list", "Remove"),
    _app("talk", "Speak a question: press to record, again to stop (it also stops when you stop speaking)", "Talk"),
    _screen("rename_session", "Rename the selected session (in the sessions list)", "sessions list", "Rename"),
    _screen("delete_session", "Delete the selected session (in the sessions list)", "sessions list", "Delete"),
    _screen("branch_session", "Branch a new session from the selected one (in the sessions list)", "sessions list", "Branch"),
    _screen("memory_previous", "Show the session's previous turn (in the memory explorer)", "memory explorer", "Previous"),
    _screen("memory_next", "Show the session's next turn (in the memory explorer)", "memory explorer", "Next"),
    _screen("memory_mark", "Mark this turn, or unmark it, to compare (in the memory explorer)", "memory explorer", "Mark"),
    _screen("memory_compare", "Compare the marked turns, or the marked one with this one, or back (in the memory explorer)",
            "memory explorer", "Compare"),
)

BY_NAME: dict[str, Action] = {a.name: a for a in REGISTRY}
# Active in a dialog too, so their keys must not repeat a dialog's.
EVERYWHERE = frozenset({"quit", "command_palette"})


def describe(name: str) -> str:
    action = BY_NAME.get(name)
    return action.description if action else name.replace("_", " ")


def can_clash(a: str, b: str) -> bool:
    """Whether actions `a` and `b` can be reached at the same moment, so may not share a key."""
    sa, sb = BY_NAME[a], BY_NAME[b]
    if sa.scope == SCREEN or sb.scope == SCREEN:
        if sa.scope == sb.scope:
            return sa.where == sb.where
        other = sb if sa.scope == SCREEN else sa
        return other.name in EVERYWHERE
    return True
