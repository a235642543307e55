"""Text overlap: shared runs of at least N consecutive words between a scan and corpus documents.

Words are lower-cased ``\\w+`` runs (punctuation dropped), so "Hello, World" and "hello world"
match. A hash index of N-word shingles keeps a scan against the whole corpus linear in its length.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Tokens:
    """The words of a text with their character spans, so matches map back to offsets."""

    text: str
    words: tuple[str, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.words)


def tokenize(text: str) -> Tokens:
    words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in _WORD.finditer(text):
        words.append(m.group(0).lower())
        starts.append(m.start())
        ends.append(m.end())
    return Tokens(text, tuple(words), tuple(starts), tuple(ends))


def count_words(text: str) -> int:
    return sum(1 for _ in _WORD.finditer(text))


@dataclass
class Document:
    """A text a scan can match: an internet page or a document indexed in the account's database."""

    key: str  # unique within its corpus: the url, or "scan:<scanId>"
    title: str
    text: str
    url: str | None = None
    scan_id: str | None = None
    builtin: bool = False
    tokens: Tokens = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = tokenize(self.text)

    @property
    def result_id(self) -> str:
        # Stable across runs and resets so exports can name a result found earlier.
        return hashlib.sha1(self.key.encode()).hexdigest()[:10]

    @property
    def introduction(self) -> str:
        words = self.text.split()
        return " ".join(words[:30]) + ("…" if len(words) > 30 else "")


@dataclass(frozen=True)
class Span:
    """One run of identical words: ``length`` words at ``source_word`` (scan) and ``suspected_word``."""

    source_word: int
    suspected_word: int
    length: int


@dataclass
class Match:
    document: Document
    spans: list[Span]
    matched_words: int  # words of the scanned text covered by this document


@dataclass
class ScoreResult:
    total_words: int
    identical_words: int
    matches: list[Match]

    @property
    def aggregated_score(self) -> float:
        if not self.total_words:
            return 0.0
        return round(100.0 * self.identical_words / self.total_words, 1)


class Corpus:
    """Documents plus a shingle index; thread-safe because scans are scored in worker threads."""

    def __init__(self, shingle: int = 8) -> None:
        self.shingle = shingle
        self._docs: dict[str, Document] = {}
        self._index: dict[int, list[tuple[str, int]]] = {}
        self._lock = threading.Lock()

    def _hash(self, words: tuple[str, ...], i: int) -> int:
        return hash(words[i : i + self.shingle])

    def add(self, doc: Document) -> None:
        with self._lock:
            if doc.key in self._docs:
                self._remove_locked(doc.key)
            self._docs[doc.key] = doc
            words = doc.tokens.words
            for i in range(len(words) - self.shingle + 1):
                self._index.setdefault(self._hash(words, i), []).append((doc.key, i))

    def remove(self, key: str) -> None:
        with self._lock:
            self._remove_locked(key)

    def _remove_locked(self, key: str) -> None:
        doc = self._docs.pop(key, None)
        if doc is None:
            return
        words = doc.tokens.words
        for i in range(len(words) - self.shingle + 1):
            h = self._hash(words, i)
            postings = [p for p in self._index.get(h, []) if p[0] != key]
            if postings:
                self._index[h] = postings
            else:
                self._index.pop(h, None)

    def documents(self) -> list[Document]:
        with self._lock:
            return list(self._docs.values())

    def get(self, key: str) -> Document | None:
        with self._lock:
            return self._docs.get(key)

    def find(self, tokens: Tokens, exclude_keys: frozenset[str] = frozenset()) -> list[Match]:
        """Every document sharing at least one N-word run with ``tokens``, best first."""
        n = self.shingle
        words = tokens.words
        hits: dict[str, set[tuple[int, int]]] = {}
        with self._lock:
            for i in range(len(words) - n + 1):
                for key, j in self._index.get(self._hash(words, i), ()):
                    if key in exclude_keys:
                        continue
                    doc = self._docs[key]
                    # The hash may collide: confirm the words really are equal.
                    if doc.tokens.words[j : j + n] == words[i : i + n]:
                        hits.setdefault(key, set()).add((i, j))
            docs = {key: self._docs[key] for key in hits}
        matches: list[Match] = []
        for key, pairs in hits.items():
            spans = _merge(pairs, n)
            covered: set[int] = set()
            for s in spans:
                covered.update(range(s.source_word, s.source_word + s.length))
            matches.append(Match(docs[key], spans, len(covered)))
        matches.sort(key=lambda m: (-m.matched_words, m.document.key))
        return matches


def _merge(pairs: set[tuple[int, int]], n: int) -> list[Span]:
    """Join shingle hits on the same diagonal into maximal runs of identical words."""
    spans: list[Span] = []
    for i, j in sorted(pairs):
        if (i - 1, j - 1) in pairs:
            continue  # not the start of a run
        k = 0
        while (i + k + 1, j + k + 1) in pairs:
            k += 1
        spans.append(Span(i, j, k + n))
    # A run found through two different places in the document covers the same scan words twice:
    # keep, per scan position, only the longest span so reports do not double count.
    spans.sort(key=lambda s: (s.source_word, -s.length))
    kept: list[Span] = []
    reach = -1
    for s in spans:
        end = s.source_word + s.length
        if end <= reach:
            continue
        if s.source_word < reach:  # overlaps the previous run: keep only the new words
            cut = reach - s.source_word
            s = Span(reach, s.suspected_word + cut, s.length - cut)
        kept.append(s)
        reach = end
    return kept


def id_pattern(pattern: str) -> re.Pattern[str]:
    """Copyleaks' id patterns (``scanning.include/exclude.idPattern``): ``*`` is any run of
    characters (also none), ``.`` one character that is not whitespace; the rest is literal."""
    parts = {"*": ".*", ".": r"\S"}
    return re.compile("".join(parts.get(c, re.escape(c)) for c in pattern))


def excluded_by_id(documents: list[Document], include: object, exclude: object) -> frozenset[str]:
    """Keys of the indexed documents a scan must not match: those whose scan id the include
    pattern does not match, or the exclude pattern does (ids match as a whole)."""
    keep = id_pattern(include) if isinstance(include, str) and include else None
    drop = id_pattern(exclude) if isinstance(exclude, str) and exclude else None
    return frozenset(
        doc.key
        for doc in documents
        if (keep is not None and not keep.fullmatch(doc.scan_id or ""))
        or (drop is not None and drop.fullmatch(doc.scan_id or ""))
    )


def score(tokens: Tokens, matches: list[Match]) -> ScoreResult:
    covered: set[int] = set()
    for m in matches:
        for s in m.spans:
            covered.update(range(s.source_word, s.source_word + s.length))
    return ScoreResult(total_words=len(tokens), identical_words=len(covered), matches=matches)


def char_ranges(tokens: Tokens, first_word: int, length: int) -> tuple[int, int]:
    """(start, length) in characters of ``length`` words starting at ``first_word``."""
    start = tokens.starts[first_word]
    end = tokens.ends[first_word + length - 1]
    return start, end - start
