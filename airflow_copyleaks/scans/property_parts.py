"""The parts of :class:`~airflow_copyleaks.scans.properties.ScanProperties`: one dataclass per
nested object of Copyleaks' ``properties`` (REFERENCE.md §3.2), fields in snake_case.

Import them from :mod:`airflow_copyleaks.scans.properties`, which turns them into wire form.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class IdRef:
    """``author``, ``course``, ``assignment`` and ``institution`` are ``{"id": ...}`` objects.

    :param id: The author's, course's, assignment's or institution's id.
    """

    id: str


@dataclass
class Filters:
    """``properties.filters``: which matches count.

    :param identical_enabled: Count identical matches.
    :param minor_changes_enabled: Count matches with minor changes.
    :param related_meaning_enabled: Count paraphrased matches.
    :param min_copied_words: Shortest match counted, in words.
    :param safe_search: Leave explicit pages out of internet results.
    :param domains: Domains to include or exclude.
    :param domains_mode: ``include`` or ``exclude`` (``domains``).
    :param allow_same_domain: Count matches on the submitted URL's own domain.
    """

    identical_enabled: bool | None = None
    minor_changes_enabled: bool | None = None
    related_meaning_enabled: bool | None = None
    min_copied_words: int | None = None
    safe_search: bool | None = None
    domains: list[str] | None = None
    domains_mode: str | int | None = None  # include / exclude
    allow_same_domain: bool | None = None


@dataclass
class IdPattern:
    """An id pattern of ``properties.scanning.include`` / ``exclude``.

    :param id_pattern: Pattern of the scan ids to include or exclude (``*`` wildcards).
    """

    id_pattern: str


@dataclass
class ScanningRepository:
    """A private repository to compare against.

    :param id: The repository's id.
    :param include_my_submissions: Compare with this account's own submissions.
    :param include_others_submissions: Compare with other users' submissions.
    """

    id: str
    include_my_submissions: bool | None = None
    include_others_submissions: bool | None = None


@dataclass
class CopyleaksDbScanning:
    """``properties.scanning.copyleaksDb``: the shared Copyleaks database.

    :param include_my_submissions: Compare with this account's own submissions.
    :param include_others_submissions: Compare with other users' submissions.
    """

    include_my_submissions: bool | None = None
    include_others_submissions: bool | None = None


@dataclass
class Language:
    """A language of ``crossLanguages``.

    :param code: Language code, e.g. ``fr``.
    """

    code: str


@dataclass
class CrossLanguages:
    """``properties.scanning.crossLanguages``: also find translated copies.

    :param languages: The languages to search in.
    """

    languages: list[Language] = field(default_factory=list)


@dataclass
class Scanning:
    """``properties.scanning``: where to look for matches.

    :param internet: Search the internet.
    :param exclude: Scan ids to leave out.
    :param include: Scan ids to compare with.
    :param repositories: Private repositories to compare with.
    :param copyleaks_db: The shared Copyleaks database.
    :param cross_languages: Translated copies, in these languages.
    """

    internet: bool | None = None
    exclude: IdPattern | None = None
    include: IdPattern | None = None
    repositories: list[ScanningRepository] | None = None
    copyleaks_db: CopyleaksDbScanning | None = None
    cross_languages: CrossLanguages | None = None


@dataclass
class IndexingRepository:
    """A repository the scanned document is added to.

    :param id: The repository's id.
    :param masking_policy: ``no-mask``, ``mask-other-users-files`` or ``mask-all-files``.
    """

    id: str
    masking_policy: str | int | None = None  # no-mask / mask-other-users-files / mask-all-files


@dataclass
class Indexing:
    """``properties.indexing``: where the document is kept for later comparisons.

    :param repositories: Private repositories to add the document to.
    :param copyleaks_db: Add the document to the shared Copyleaks database.
    """

    repositories: list[IndexingRepository] | None = None
    copyleaks_db: bool | None = None


@dataclass
class CodeExclusion:
    """``properties.exclude.code``.

    :param comments: Leave code comments out.
    """

    comments: bool | None = None


@dataclass
class Exclude:
    """``properties.exclude``: parts of the document left out of the comparison.

    :param quotes: Quotations.
    :param citations: Citations.
    :param references: The references section.
    :param table_of_contents: Tables of contents.
    :param titles: Titles.
    :param html_template: An HTML page's template (menus, footers).
    :param document_template_ids: Ids of template documents whose text is left out.
    :param code: Source code options.
    """

    quotes: bool | None = None
    citations: bool | None = None
    references: bool | None = None
    table_of_contents: bool | None = None
    titles: bool | None = None
    html_template: bool | None = None
    document_template_ids: list[str] | None = None
    code: CodeExclusion | None = None


@dataclass
class PdfColors:
    """``properties.pdf.colors``: the report's colours (``#rrggbb``).

    :param main_strip: The header strip.
    :param titles: Titles.
    :param identical: Identical matches.
    :param minor_changes: Matches with minor changes.
    :param related_meaning: Paraphrased matches.
    """

    main_strip: str | None = None
    titles: str | None = None
    identical: str | None = None
    minor_changes: str | None = None
    related_meaning: str | None = None


@dataclass
class Pdf:
    """``properties.pdf``: the PDF report.

    :param create: Create the PDF report (export it with the Export operator's ``pdf_report``).
    :param title: The report's title.
    :param large_logo: A logo, base64-encoded.
    :param rtl: Right-to-left layout.
    :param version: Report layout ``1`` or ``2``.
    :param report_version: Report version name; overrides ``version``.
    :param colors: The report's colours.
    """

    create: bool | None = None
    title: str | None = None
    large_logo: str | None = None  # base64
    rtl: bool | None = None
    version: int | None = None
    report_version: str | None = None
    colors: PdfColors | None = None


@dataclass
class SensitiveDataProtection:
    """``properties.sensitiveDataProtection``: what Copyleaks masks in stored copies.

    :param drivers_license: Driving licence numbers.
    :param credentials: Passwords and keys.
    :param passport: Passport numbers.
    :param network: IP and network addresses.
    :param url: URLs.
    :param email_address: Email addresses.
    :param credit_card: Credit card numbers.
    :param phone_number: Phone numbers.
    """

    drivers_license: bool | None = None
    credentials: bool | None = None
    passport: bool | None = None
    network: bool | None = None
    url: bool | None = None
    email_address: bool | None = None
    credit_card: bool | None = None
    phone_number: bool | None = None


@dataclass
class MetadataEntry:
    """One entry of ``properties.customMetadata``.

    :param key: The entry's name.
    :param value: Its value.
    """

    key: str
    value: str


@dataclass
class Explain:
    """``properties.aiGeneratedText.explain``.

    :param enable: Explain why the text reads as AI-written.
    """

    enable: bool | None = None


@dataclass
class AiGeneratedText:
    """``properties.aiGeneratedText``: AI-text detection within the scan.

    :param detect: Detect AI-written text.
    :param explain: Explanations of the verdict.
    :param sensitivity: 1 to 3.
    """

    detect: bool | None = None
    explain: Explain | None = None
    sensitivity: int | None = None  # 1-3


@dataclass
class WritingScoreWeights:
    """``properties.writingFeedback.score``: category weights, 0.0 to 1.0.

    :param grammar_score_weight: Grammar.
    :param mechanics_score_weight: Mechanics (spelling, punctuation).
    :param sentence_structure_score_weight: Sentence structure.
    :param word_choice_score_weight: Word choice.
    """

    grammar_score_weight: float | None = None
    mechanics_score_weight: float | None = None
    sentence_structure_score_weight: float | None = None
    word_choice_score_weight: float | None = None


@dataclass
class WritingFeedback:
    """``properties.writingFeedback``: writing feedback within the scan.

    :param enable: Give writing feedback.
    :param score: Category weights of the score.
    """

    enable: bool | None = None
    score: WritingScoreWeights | None = None


@dataclass
class Overview:
    """``properties.overview``: Copyleaks' generated overview of the results.

    :param enable: Generate the overview.
    :param ignore_ai_detection: Leave AI detection out of it.
    :param ignore_plagiarism_detection: Leave plagiarism out of it.
    :param ignore_writing_feedback: Leave writing feedback out of it.
    :param ignore_author_data: Leave author data out of it.
    """

    enable: bool | None = None
    ignore_ai_detection: bool | None = None
    ignore_plagiarism_detection: bool | None = None
    ignore_writing_feedback: bool | None = None
    ignore_author_data: bool | None = None


@dataclass
class AiSourceMatch:
    """``properties.aiSourceMatch``.

    :param enable: Match AI-written text with likely sources.
    """

    enable: bool | None = None


@dataclass
class References:
    """``properties.references``: Copyleaks' references validation (citation checking). The
    completed webhook then carries a references section; read it with
    :func:`airflow_copyleaks.checks.citations.summarize_citations`.

    :param validate: Check that the document's references exist and are described correctly.
    :param cross_check: Also match the in-text citations with the reference list (needs
        ``validate``; the name comes from the issue that asked for it, not from Copyleaks' docs).
    """

    validate: bool | None = None
    cross_check: bool | None = None
