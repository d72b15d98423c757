"""The report: one offline interactive page of the marts plus the publication artefacts.

`reports.page.build_report` writes them; importing this package imports nothing else (the
terminal table, `reports.terminal`, needs no pandas or plotly).
"""
