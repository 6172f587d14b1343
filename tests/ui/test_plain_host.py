"""Pieces of the UI that need no CodaApp (issue 11): push-to-talk is given the voice
settings and the key that stops a recording, and draws into whatever Textual app holds
the meter, the pipeline pane, the status bar and the chat input; an answer's code colours
come from its message list, not from the app's theme table."""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult

from coda_tui.config import VoiceConfig
from coda_tui.core import events as ev
from coda_tui.core.listen import Utterance
from coda_tui.ui.voice import PushToTalk
from coda_tui.ui.widgets.chat import ChatInput
from coda_tui.ui.widgets.messages import MessageList, MessageView
from coda_tui.ui.widgets.pipeline import PipelinePane
from coda_tui.ui.widgets.status import StatusBar
from coda_tui.ui.widgets.voice import VoiceMeter
from coda_tui.voice.audio import RATE
from coda_tui.voice.capture import Recording


class Host(App):
    def compose(self) -> ComposeResult:
        yield PipelinePane()
        yield VoiceMeter()
        yield StatusBar()
        yield ChatInput()


def test_a_transcript_lands_in_the_input_of_a_plain_textual_app():
    async def go():
        app = Host()
        async with app.run_test(size=(120, 40)) as pilot:
            talk = PushToTalk(app, VoiceConfig(), "f9,alt+v")
            talk.handle(ev.VoiceStarted("tiny.en", loading=False))
            await pilot.pause()
            meter = app.query_one(VoiceMeter)
            assert meter.keys == "f9/alt+v stops · esc cancels" and meter.state == "recording"
            chat = app.query_one(ChatInput)
            chat.load_text("explain")
            chat.move_cursor(chat.document.end)  # as after typing it
            heard = Recording(pcm=b"", speech=(0, int(1.5 * RATE)), ended_by="silence", device="test",
                              started_at=0.0, ended_at=2.0)
            spoken = Utterance("this function", heard, None, end_to_text_ms=120.0, speculative=False, load_ms=0.0)
            talk.handle(ev.VoiceFinished(spoken))
            await pilot.pause()
            assert chat.text == "explain this function"
            assert meter.state == "idle"
            assert app.query_one(StatusBar).activity == "transcribed 1.5 s of speech · end of speech → text 120 ms"
            assert talk.take_spoken() is spoken and talk.take_spoken() is None

    asyncio.run(go())


class Conversation(App):
    def compose(self) -> ComposeResult:
        yield MessageList()


def test_an_answer_colours_its_code_by_the_style_its_list_gives_for_the_theme_shown():
    async def go():
        app = Conversation()
        async with app.run_test(size=(80, 24)) as pilot:
            messages = app.query_one(MessageList)
            plain = await messages.add(MessageView("assistant", "```python\nx = 1\n```", stored=True))
            assert plain._code_theme() == "monokai"  # no styles given
            messages.code_styles = {app.theme: "friendly", "other-theme": "native"}
            styled = await messages.add(MessageView("assistant", "```python\ny = 2\n```", stored=True))
            await pilot.pause()
            assert styled._code_theme() == "friendly"

    asyncio.run(go())
