"""One scan for many alternatives: bucketing, finite-pattern expansion, tries, resolution."""

from __future__ import annotations

import re

from labelmill.labelers.reports.scanner import TokenScanner, bucketed, expand, trie


def test_bucketing_matches_what_the_plain_alternation_matches() -> None:
    patterns = ["no evidence of", "(?:is|are) not", "(?:is )?absent", "no", "x", r"\d+ cm", ";"]
    plain = re.compile("|".join(f"(?:{p})" for p in patterns))
    fast = re.compile(bucketed(patterns))
    text = "no evidence of effusion; is absent, absent, are not 3 cm xylophone"
    assert [m.span() for m in fast.finditer(text)] == [m.span() for m in plain.finditer(text)]
    named = re.compile(bucketed(["(?:no|not) seen", "no"], ["r2", "r1"]))
    assert named.match("not seen").lastgroup.split("_")[0] == "r2"
    assert named.match("no effusion").lastgroup.split("_")[0] == "r1"


def test_finite_patterns_expand_and_open_ones_do_not() -> None:
    assert expand("(?:is|are) not") == ("is not", "are not")
    assert expand("vs\\.?") == ("vs", "vs.")
    assert expand("suspect(?:ed)?") == ("suspect", "suspected")
    for pattern in (r"no (?:\w+ )?signs", "a*", "x(?=y)", "[a-z]+", "(x)"):
        assert expand(pattern) is None, pattern
    assert expand("(?:a|b)(?:c|d)(?:e|f)", limit=4) is None


def test_trie_matches_the_longest_literal() -> None:
    regex = re.compile(trie(["no", "not", "no longer", "nor"]))
    assert [m.group() for m in regex.finditer("no longer not nor no")] == [
        "no longer",
        "not",
        "nor",
        "no",
    ]


def test_scanner_resolves_each_match_to_its_alternative() -> None:
    scanner = TokenScanner(
        [
            ("no (?:\\w+ )?signs? of", ("evidence",), ()),
            ("(?:is|are) not", ("copula",), ()),
            ("no", ("no",), ("no",)),
            ("not", ("not",), ("not",)),
        ],
        literal_trie=True,
    )
    text = "no definite signs of x; it is not y, no z; nothing"
    assert [(text[s:e], p) for s, e, p in scanner.scan(text)] == [
        ("no definite signs of", ("evidence",)),
        ("is not", ("copula",)),
        ("no", ("no",)),
    ]
