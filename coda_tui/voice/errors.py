"""What can go wrong with voice input, each with the message a user needs and what to do."""

from __future__ import annotations

from coda_tui.errors import CodaError


class VoiceError(CodaError):
    """Voice input cannot go on. `hint` says what to do about it."""

    kind = "voice"


class VoiceUnavailable(VoiceError):
    """A library voice input needs is not installed."""

    kind = "voice unavailable"


class NoInputDevice(VoiceError):
    kind = "no input device"


class DeviceBusy(VoiceError):
    kind = "input device busy"


class SpeechModelError(VoiceError):
    """The speech model is missing, or its files cannot be loaded."""

    kind = "speech model"


class AudioFileError(VoiceError):
    """An audio file that cannot be read or decoded."""

    kind = "audio file"
    exit_code = 2  # the file given on the command line


INSTALL_HINT = "install the voice extra: pip install 'coda-tui[voice]' (PyAudio needs the portaudio19-dev package)"
