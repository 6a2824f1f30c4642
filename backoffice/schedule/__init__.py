"""Beat's schedule in the database: the night's entry, changed only by a second supervisor's approval."""
