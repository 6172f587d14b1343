"""Pick a provider, then a model from the list that provider returns."""

from __future__ import annotations

from textual import events, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from coda_tui.providers.registry import Providers
from coda_tui.textsafe import inert
from coda_tui.ui.keys import bind


class ModelPicker(ModalScreen[tuple[str, str] | None]):
    BINDINGS = [bind("cancel", "back", "Back", show=True)]
    DEFAULT_CSS = """
    ModelPicker { align: center middle; }
    ModelPicker > Vertical { width: 70%; height: 70%; border: thick $accent; background: $surface; padding: 0 1; }
    ModelPicker OptionList { height: 1fr; }
    /* The full width, wrapped: an error's last words say how to fix it (set OPENAI_API_KEY…). */
    ModelPicker #picker-note { color: $text-muted; height: auto; width: 100%; }
    ModelPicker #picker-typed { display: none; }
    ModelPicker.-models #picker-typed { display: block; }
    """

    def __init__(self, providers: Providers, current: tuple[str, str]) -> None:
        super().__init__()
        self.providers = providers
        self.current = current
        self.provider: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Provider", id="picker-title")
            yield OptionList(id="picker")
            # A model the provider does not list (or a provider that lists none) is typed.
            yield Input(placeholder="or type a model name, then Enter", id="picker-typed", select_on_focus=False)
            yield Label("", id="picker-note", markup=False)

    def on_mount(self) -> None:
        self.show_providers()

    def show_providers(self) -> None:
        self.provider = None
        self.remove_class("-models")
        self.query_one("#picker-typed", Input).value = ""
        self.query_one("#picker-title", Label).update("Provider")
        self.query_one("#picker-note", Label).update("")
        options = self.query_one(OptionList)
        options.clear_options()
        for name, pc in sorted(self.providers.config.providers.items()):
            mark = "▶ " if name == self.current[0] else "  "
            options.add_option(Option(inert(f"{mark}{name}  ({pc.type}, {pc.endpoint})"), id=name))
        options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if self.provider is None:
            self.provider = event.option.id
            self.add_class("-models")
            self.load_models(self.provider)
        else:
            self.dismiss((self.provider, event.option.id))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        typed = event.value.strip()
        if self.provider is not None and typed:
            self.dismiss((self.provider, typed))

    def on_key(self, event: events.Key) -> None:
        """Typing in the list of models starts a typed model name."""
        typed = self.query_one("#picker-typed", Input)
        if self.provider is not None and not typed.has_focus and event.is_printable and event.character:
            typed.focus()
            typed.insert_text_at_cursor(event.character)
            event.stop()
            event.prevent_default()

    @work(exclusive=True)
    async def load_models(self, name: str) -> None:
        self.query_one("#picker-title", Label).update(f"{name}: models")
        note = self.query_one("#picker-note", Label)
        note.update("asking the provider…")
        options = self.query_one(OptionList)
        options.clear_options()
        try:
            prov = self.providers.get(name)
            models = await prov.list_models()
        except Exception as exc:  # noqa: BLE001 - shown to the user, who can go back
            note.update(f"{exc}  (type a model name, or Esc: back)")
            self.query_one("#picker-typed", Input).focus()
            return
        default = prov.default_model
        if default and default not in models and not prov.offers(default, models):
            models = [default, *models]
        for m in models:
            mark = "▶ " if (name, m) == self.current else "  "
            options.add_option(Option(inert(mark + m), id=m))
        note.update(f"{len(models)} model(s) · Enter choose · type another name · Esc back")
        options.highlighted = 0

    def action_back(self) -> None:
        if self.provider is None:
            self.dismiss(None)
        else:
            self.show_providers()
