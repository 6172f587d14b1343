"""Push-to-talk in the app, through PortAudio and tiny.en for real: the transcript arrives in
the chat input, the capture and stt stages in the pipeline pane, then in the turn's trace."""

from __future__ import annotations

import asyncio

from coda_tui.ui.widgets.chat import ChatInput
from coda_tui.ui.widgets.pipeline import PipelinePane
from coda_tui.ui.widgets.status import StatusBar
from coda_tui.ui.widgets.voice import VoiceMeter
from tests.audio import tone, words
from tests.ui.conftest import wait_for

QUESTION = "What does this function return"


def run(coro):
    return asyncio.run(coro)


def test_push_to_talk_puts_the_transcript_in_the_input_and_the_stages_in_the_pipeline(harness, project, microphone):
    h = harness()
    microphone.say(QUESTION)

    async def go():
        app = h.app(project)
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.pause()
            meter = app.query_one(VoiceMeter)
            assert not meter.display
            await pilot.press("alt+v")
            chat = app.query_one(ChatInput)
            await wait_for(lambda: chat.text.strip() != "", timeout=30, pilot=pilot)
            assert {"what", "function", "return"} <= words(chat.text), chat.text
            assert not meter.display
            waterfall = app.query_one(PipelinePane).waterfall
            assert [b.name for b in waterfall.stages] == ["capture", "stt"]
            assert waterfall.status.startswith("transcribed · end of speech → text")
            assert "transcribed" in app.query_one(StatusBar).activity
            # Reviewed, then sent: the turn's trace opens with the spoken stages.
            await pilot.press("enter")
            await wait_for(lambda: not app.turn_running and app._turn_view is None, pilot=pilot)
            await pilot.pause(0.1)
            shown = [b.name for b in waterfall.stages]
            # After the first model round, the embedded model's tool rounds if any, then store.
            assert shown[:6] == ["capture", "stt", "context", "memory", "prompt", "llm"] and shown[-1] == "store"
            assert set(shown[6:-1]) <= {"tool", "llm"}
            trace = app.rt.store.traces.recent(1)[0]
            names = [s.name for s in trace.stages]
            assert names[:2] == ["capture", "stt"]
            stt = trace.stages[1].detail
            assert stt["model"] == "tiny.en" and stt["rtf"] > 0 and stt["end_of_speech_to_text_ms"] > 0
            assert stt["review_ms"] >= 0
            # One clock: each stage starts where the one before it ended or later.
            assert trace.stages[2].start_ms >= trace.stages[1].start_ms + trace.stages[1].duration_ms - 1
            # The question the model got is what was said.
            sent = h.server.chat_requests()[-1]["body"]["messages"][-1]["content"]
            assert {"what", "function", "return"} <= words(sent)

    run(go())


def test_esc_throws_a_recording_away(harness, project, live_microphone):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("f8")
            meter = app.query_one(VoiceMeter)
            await wait_for(lambda: meter.state == "recording", pilot=pilot)
            live_microphone.queue(tone(20.0, dbfs=-20))
            await wait_for(lambda: meter.speaking, timeout=10, pilot=pilot)
            await pilot.press("escape")
            await wait_for(lambda: meter.state == "idle", pilot=pilot)
            assert app.query_one(ChatInput).text == ""
            assert app.query_one(StatusBar).activity == "recording cancelled"
            assert app.voice.spoken is None

    run(go())


def test_pressing_the_key_again_stops_and_transcribes(harness, project, live_microphone):
    async def go():
        app = harness().app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("alt+v")
            meter = app.query_one(VoiceMeter)
            await wait_for(lambda: meter.state == "recording", pilot=pilot)
            # A steady sound with no pause: only the key can end it.
            live_microphone.queue(tone(20.0, dbfs=-20))
            # The meter follows the sound live.
            await wait_for(lambda: meter.speaking and meter.seconds > 1.0 and meter.level_db > -30, timeout=10, pilot=pilot)
            await pilot.press("alt+v")
            waterfall = app.query_one(PipelinePane).waterfall
            await wait_for(lambda: meter.state == "idle", timeout=30, pilot=pilot)
            capture = waterfall.stages[0]
            assert capture.name == "capture" and "ended by stopped" in capture.summary
            assert capture.duration_ms / 1000 < 5.0  # the key ended it, not the 20 s sound
            assert [b.name for b in waterfall.stages] == ["capture", "stt"]

    run(go())


def test_a_voice_failure_is_shown_and_the_app_keeps_working(harness, project, microphone):
    microphone.play(tone(1.0))
    h = harness(extra='[voice]\ninput_device = "USB headset"\n')

    async def go():
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("alt+v")
            status = app.query_one(StatusBar)
            await wait_for(lambda: status.activity.startswith("voice:"), pilot=pilot)
            assert "no input device matches 'USB headset'" in status.activity
            assert not app.query_one(VoiceMeter).display
            chat = app.query_one(ChatInput)
            chat.load_text("still here?")
            await pilot.press("enter")
            await wait_for(lambda: not app.turn_running and app._turn_view is None, pilot=pilot)
            assert app.rt.store.traces.recent(1)[0].status == "complete"

    run(go())


def test_send_immediately_sends_the_transcript_as_a_question(harness, project, microphone):
    microphone.say(QUESTION)
    h = harness(extra="[voice]\nsend_immediately = true\n")

    async def go():
        app = h.app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("alt+v")
            await wait_for(lambda: len(h.server.chat_requests()) == 1, timeout=30, pilot=pilot)
            await wait_for(lambda: not app.turn_running and app._turn_view is None, pilot=pilot)
            assert app.query_one(ChatInput).text == ""
            sent = h.server.chat_requests()[0]["body"]["messages"][-1]["content"]
            assert {"what", "function", "return"} <= words(sent)
            assert [s.name for s in app.rt.store.traces.recent(1)[0].stages][:2] == ["capture", "stt"]

    run(go())
