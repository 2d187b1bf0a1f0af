"""Report mining: findings, negation, uncertainty and evidence from radiology report text.

    from labelmill.labelers.reports.labeler import ReportLabeler, label_text

    label_text("FINDINGS: No pneumothorax but a small effusion.", "chestxray14")

Modules, one job each: `languages` (section headers and triggers per language, from
`lang/*.yaml`), `sections` (headers and sentences), `scanner` (many alternatives as one fast
regex scan), `vocabulary` (an ontology's phrases as one scan), `rules` (a language's triggers as
one scan), `context` (which trigger decides a mention), `engine` (one report to labels and
evidence), `labeler` (the build's labeler and plain-text entry points), `report_io` (CLI inputs
and outputs), `beam` (a Beam transform).
"""
