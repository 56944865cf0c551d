#!/usr/bin/env python3
"""Packed-sample statistics of a SQuAD v1.1 file as NeMo's SFT formats it: the `doc_len` / `doc_len_cv` of the NeMo
24.07 fine-tuning rows (tools/nemo_tables.py SQUAD_PACKED; docs/model.md "Packed sequences").

Usage:  python3 tools/squad_doc_len.py SQUAD_V1.1.json LLAMA2_TOKENIZER.model
(needs the sentencepiece module, e.g. Debian's python3-sentencepiece)

One sample, as NeMo builds it at the performance summary's commit (NVIDIA/NeMo@9c5c5e9709407d3511005fc966e45374998bb478):
  - text: nemo/collections/llm/gpt/data/squad.py:127-130, input "Context: {context} Question: {question} Answer:",
    output the first answer's text (answers.text[0]);
  - tokens: nemo/collections/llm/gpt/data/core.py:36-45 (create_sft_dataset: add_bos False, add_eos True, prompt
    template "{input} {output}"); GPTSFTDataset tokenizes the template's pieces separately, the space before {output}
    dropped for a tokenizer that is not space-sensitive as Llama's SentencePiece is not
    (nemo/collections/nlp/data/language_modeling/megatron/gpt_sft_dataset.py:235 _separate_template, :277, :391;
    nemo/collections/common/tokenizers/sentencepiece_tokenizer.py:65), and appends EOS (gpt_sft_dataset.py:411);
  - in a pack each sample spans its length minus one (the input ids shifted against the labels: the packed
    collate_fn's cu_seqlens step l - 1, gpt_sft_dataset.py:628; the last sample also takes the pack's padding, :630,
    not counted here).
So a sample attends over len(encode(input)) + len(encode(output)) tokens. Printed: the samples' count, their mean
(doc_len), coefficient of variation std/mean (doc_len_cv, population std), E[l^2]/E[l] and the longest.
"""
import json
import statistics
import sys


def sample_lengths(squad, encode):
    """the token length of every (context, question, first answer) sample of a SQuAD v1.1 JSON object"""
    out = []
    for article in squad["data"]:
        for par in article["paragraphs"]:
            for qa in par["qas"]:
                text = ("Context: " + par["context"] + " Question: " + qa["question"] + " Answer:").strip(" ")
                out.append(len(encode(text)) + len(encode(qa["answers"][0]["text"].strip(" "))))
    return out


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__.split("\n\n")[1])
    import sentencepiece  # noqa: E402  (only this tool needs it)
    sp = sentencepiece.SentencePieceProcessor(model_file=sys.argv[2])
    with open(sys.argv[1], encoding="utf-8") as fh:
        squad = json.load(fh)
    lens = sample_lengths(squad, sp.encode)
    mean, sd = statistics.fmean(lens), statistics.pstdev(lens)
    print("samples %d  doc_len %.1f  doc_len_cv %.3f  E[l^2]/E[l] %.1f  max %d"
          % (len(lens), mean, sd / mean, sum(x * x for x in lens) / sum(lens), max(lens)))


if __name__ == "__main__":
    main()
