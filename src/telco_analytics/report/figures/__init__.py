"""Charts declared once as Altair specs: pure functions from tables to charts.

One module per analysis section; the report, the slides and the dashboard all use them.
Shared palette and number formats live in `style`.
"""
