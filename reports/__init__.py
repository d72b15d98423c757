"""The report: one offline interactive page of the marts plus the publication artefacts."""

from reports.page import ReportResult, build_report

__all__ = ["ReportResult", "build_report"]
