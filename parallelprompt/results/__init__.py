"""The read side: statistics, report, estimate, status, export and revalidation.

SQL stays in ``db/``; this package calls its query functions and does the arithmetic, the
formatting and the SVG."""
