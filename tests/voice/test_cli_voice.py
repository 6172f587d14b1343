"""`coda transcribe`, `coda listen` and `coda doctor` on real audio, and their failures."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time

from tests.audio import silence, speech, tone, words
from tests.conftest import ROOT, run_coda, write_config

QUESTION = "What does this function return"


def test_transcribe_a_wav_file_as_json(isolated):
    import wave

    import numpy as np

    samples = np.concatenate([silence(0.3), speech(QUESTION, isolated), silence(0.3)])
    path = isolated / "question.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(samples.astype("<i2").tobytes())
    result = run_coda("transcribe", str(path), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"what", "function", "return"} <= words(data["text"])
    assert data["model"] == "tiny.en" and abs(data["audio_s"] - len(samples) / 16000) < 0.01
    assert 0 < data["rtf"] < 1 and data["load_ms"] > 0


def test_transcribe_refuses_what_is_not_audio(isolated):
    notes = isolated / "notes.txt"
    notes.write_text("not audio at all\n")
    result = run_coda("transcribe", str(notes))
    assert result.returncode == 2
    assert "notes.txt: cannot decode it as audio" in result.stderr and "Traceback" not in result.stderr
    result = run_coda("transcribe", str(isolated / "missing.wav"))
    assert result.returncode == 2 and "missing.wav: no such file" in result.stderr


def test_listen_records_until_the_end_of_speech(microphone):
    microphone.say(QUESTION)
    result = run_coda("listen", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"what", "function", "return"} <= words(data["text"])
    assert data["ended_by"] == "silence" and data["device"] == "default"
    assert data["end_of_speech_to_text_ms"] > 0
    # PortAudio's ALSA and JACK chatter went to the log, not to the user's stderr.
    assert "ALSA lib" not in result.stderr and "jack" not in result.stderr.lower()


def test_listen_in_a_terminal_shows_the_text_and_no_alsa_chatter(microphone):
    microphone.say(QUESTION)
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "-m", "coda_tui", "listen"])
    out = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    _, status = os.waitpid(pid, 0)
    text = out.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "listening… speak now" in text
    assert {"what", "function", "return"} <= words(text.splitlines()[-1])
    assert "ALSA lib" not in text and "JackShm" not in text and "Cannot connect to server" not in text


def test_listen_with_no_speech_says_so(microphone):
    microphone.play(silence(4.0))
    result = run_coda("listen", env={"CODA_VOICE_NO_SPEECH_SECONDS": "1"})
    assert result.returncode == 1 and result.stdout == ""


def test_listen_names_the_devices_when_the_configured_one_is_missing(microphone):
    microphone.play(tone(1.0))
    result = run_coda("listen", env={"CODA_VOICE_INPUT_DEVICE": "USB headset"})
    assert result.returncode == 1
    assert "no input device matches 'USB headset' (voice.input_device)" in result.stderr
    assert "the input devices are:" in result.stderr and "default" in result.stderr


def test_no_input_device_at_all(isolated):
    # An ALSA setup whose only capture device cannot open: PortAudio lists no input.
    home = isolated / "home"
    (home / ".asoundrc").write_text('pcm.!default { type file slave.pcm "null" file "/dev/null" '
                                    f'infile "{isolated}/absent.raw" format "raw" }}\n')
    result = run_coda("listen")
    assert result.returncode == 1 and "no audio input device found" in result.stderr
    doctor = run_coda("doctor")
    assert "FAIL  audio input" in doctor.stdout and "no audio input device found" in doctor.stdout


def _without(module: str, tmp) -> dict:
    """An environment in which `module` cannot be imported, as on a machine without it."""
    blocker = tmp / "blocked"
    (blocker / module).mkdir(parents=True)
    (blocker / module / "__init__.py").write_text(f"raise ImportError('No module named {module}')\n")
    return {"PYTHONPATH": str(blocker)}


def test_missing_pyaudio_is_explained_and_the_rest_works(microphone, isolated):
    microphone.say(QUESTION)
    env = _without("pyaudio", isolated)
    result = run_coda("listen", env=env)
    assert result.returncode == 1
    assert "PyAudio is not installed" in result.stderr and "portaudio19-dev" in result.stderr
    doctor = run_coda("doctor", env=env)
    assert "--    audio input" in doctor.stdout and "PyAudio is not installed" in doctor.stdout
    assert "ok    speech model" in doctor.stdout
    # Files are still transcribed: capture is the only part that needs PyAudio.
    path = isolated / "q.raw.wav"
    subprocess.run(["sox", "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", str(microphone.infile), str(path)],
                   check=True)
    assert run_coda("transcribe", str(path), env=env).returncode == 0


def test_missing_or_unknown_model_is_a_clear_error(microphone, isolated):
    microphone.say(QUESTION)
    result = run_coda("listen", env={"CODA_VOICE_MODEL": "large-v3"})
    assert result.returncode == 1
    assert "the speech model 'large-v3' is not on this machine (coda never downloads models)" in result.stderr
    result = run_coda("listen", env={"CODA_VOICE_MODEL": str(isolated / "no-such-dir")})
    assert "voice.model: no model folder at" in result.stderr
    config = write_config(isolated, '[voice]\nmodel = "large-v3"\n')
    doctor = run_coda("doctor", "--config", str(config))
    assert "FAIL  speech model" in doctor.stdout and "Traceback" not in doctor.stderr


def test_doctor_checks_speech_model_and_audio_input(microphone):
    microphone.say(QUESTION)
    result = run_coda("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["speech model"]["ok"] is True and "tiny.en (int8, cpu) loaded in" in checks["speech model"]["detail"]
    assert checks["audio input"]["ok"] is True and checks["audio input"]["detail"].startswith("default")
