"""The owner's reports (issue 7), Qt-free: periods and presets, the KPI widgets as data, chart series,
CSV and PDF exports. The entry point is :class:`app.services.reports.ReportService`; the rules of every
figure are in each module's docstring and in ``docs/reports.md``.
"""
