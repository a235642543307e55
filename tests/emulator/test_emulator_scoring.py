"""The overlap engine on its own: spans, offsets and speed."""

from __future__ import annotations

import time

from airflow_copyleaks.testing.emulator.scoring import Corpus, Document, score, tokenize
from airflow_copyleaks.testing.emulator.state import load_builtin_documents


def test_runs_and_coverage() -> None:
    corpus = Corpus(shingle=8)
    source = "one two three four five six seven eight nine ten eleven twelve"
    corpus.add(Document(key="k", title="t", text=source, url="https://example-news.test/k"))
    scanned = "Intro words here. One, two, THREE four five six seven eight nine! And something else entirely now."
    tokens = tokenize(scanned)
    [match] = corpus.find(tokens)
    [span] = match.spans
    assert (span.source_word, span.suspected_word, span.length) == (3, 0, 9)
    assert match.matched_words == 9
    result = score(tokens, [match])
    assert result.aggregated_score == round(100 * 9 / len(tokens), 1)
    # Seven shared words are below the 8-word threshold.
    assert corpus.find(tokenize("one two three four five six seven")) == []
    corpus.remove("k")
    assert corpus.find(tokens) == []


def test_thousand_scans_stay_fast() -> None:
    corpus = Corpus(shingle=8)
    docs = load_builtin_documents()
    for doc in docs:
        corpus.add(doc)
    texts = [f"Scan number {i} begins. " + docs[i % len(docs)].text + f" Ends {i}." for i in range(1000)]
    started = time.perf_counter()
    for i, text in enumerate(texts):
        matches = corpus.find(tokenize(text))
        assert matches[0].document.key == docs[i % len(docs)].key
    assert time.perf_counter() - started < 10
