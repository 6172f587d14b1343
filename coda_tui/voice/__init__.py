"""Spoken questions, on this machine: capture from the input device (PyAudio), end-of-speech
detection, and transcription with faster-whisper. The audio never leaves the machine.

PyAudio and faster-whisper are optional (the `voice` extra) and imported only when used, so
the rest of coda starts and works without them.
"""
