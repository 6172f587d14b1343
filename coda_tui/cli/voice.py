"""`coda transcribe FILE` and `coda listen`: speech to text on this machine, headless."""

from __future__ import annotations

import sys

import click

from coda_tui.cli.common import emit, json_text
from coda_tui.textsafe import inert


def _voice_config(ctx: click.Context):
    from coda_tui.config import load

    config = load((ctx.obj or {}).get("config"))
    for warning in config.warnings:
        click.echo(f"coda: warning: {inert(warning)}", err=True)
    return config.voice


def _listener(config):
    try:
        from coda_tui.core.listen import Listener
    except ImportError as exc:  # numpy, which the voice extra brings
        from coda_tui.voice.errors import INSTALL_HINT, VoiceUnavailable

        raise VoiceUnavailable(f"{exc.name or exc} is not installed", INSTALL_HINT) from None
    return Listener(config)


def _dump(data: dict) -> None:
    click.echo(json_text(data))


def _status(message: str) -> None:
    if sys.stderr.isatty():
        click.echo(message, err=True)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the text with timings and the model as JSON.")
@click.option("--config", type=click.Path(dir_okay=False), help="Config file (default: platform config dir).",
              expose_value=False, callback=lambda ctx, p, v: v and ctx.ensure_object(dict).update(config=v))
@click.pass_context
def transcribe(ctx: click.Context, file: str, as_json: bool) -> None:
    """Transcribe an audio FILE (wav, flac, mp3, ogg… anything FFmpeg decodes) locally."""
    listener = _listener(_voice_config(ctx))
    load_s = listener.model.load()
    t = listener.transcribe_file(file)
    if as_json:
        _dump({"file": file, "text": t.text, "audio_s": round(t.audio_s, 3), "transcribe_ms": round(t.seconds * 1000, 1),
               "rtf": round(t.rtf, 4), "model": t.model, "language": t.language, "load_ms": round(load_s * 1000, 1)})
    else:
        emit(t.text, nl=True)  # a transcript is outside text like any other


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the text with timings, device and model as JSON.")
@click.option("--config", type=click.Path(dir_okay=False), help="Config file (default: platform config dir).",
              expose_value=False, callback=lambda ctx, p, v: v and ctx.ensure_object(dict).update(config=v))
@click.pass_context
def listen(ctx: click.Context, as_json: bool) -> None:
    """Record from the input device until you stop speaking, then print what you said.

    Recording ends after voice.silence_ms of quiet, at voice.max_seconds, or on Ctrl+C
    (which discards it).
    """
    config = _voice_config(ctx)
    listener = _listener(config)
    _status(f"listening… speak now (stops after {config.silence_ms} ms of quiet; Ctrl+C cancels)")
    u = listener.listen(lambda event: None)
    if u is None:
        return
    if not u.text:
        _status(f"heard no speech (recording ended by {u.recording.ended_by})")
    if as_json:
        rec = u.recording
        _dump({"text": u.text, "device": rec.device, "ended_by": rec.ended_by, "audio_s": round(rec.audio_s, 3),
               "speech_s": round(rec.speech_s, 3), "model": listener.model.name,
               "rtf": round(u.transcript.rtf, 4) if u.transcript else None,
               "transcribe_ms": round(u.transcript.seconds * 1000, 1) if u.transcript else None,
               "end_of_speech_to_text_ms": round(u.end_to_text_ms, 1) if u.end_to_text_ms is not None else None,
               "load_ms": round(u.load_ms, 1), "provisional": u.speculative})
    elif u.text:
        emit(u.text, nl=True)
    if not u.text:
        ctx.exit(1)
