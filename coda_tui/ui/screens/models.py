"""Pick a provider, then a model from the list that provider returns."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
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
    ModelPicker #picker-note { color: $text-muted; height: auto; }
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
            yield Label("", id="picker-note", markup=False)

    def on_mount(self) -> None:
        self.show_providers()

    def show_providers(self) -> None:
        self.provider = None
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
            self.load_models(self.provider)
        else:
            self.dismiss((self.provider, event.option.id))

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
            note.update(f"{exc}  (Esc: back)")
            return
        default = prov.default_model
        if default and default not in models and not prov.offers(default, models):
            models = [default, *models]
        for m in models:
            mark = "▶ " if (name, m) == self.current else "  "
            options.add_option(Option(inert(mark + m), id=m))
        note.update(f"{len(models)} model(s) · Enter choose · Esc back")
        options.highlighted = 0

    def action_back(self) -> None:
        if self.provider is None:
            self.dismiss(None)
        else:
            self.show_providers()
