"""Ledger files from the lending system: customers, credit lines, bills and payments, in CSV or XLSX.

It lives in the composition layer because a payment brings its line's case up to date the same
day (``backoffice.sameday``), which the ledger may not import. ``reading`` turns a file into rows
of text, ``kinds`` says what each kind's columns mean and how a batch of rows is checked and
applied through the ledger's services, ``importing`` checks a whole file and then applies it in
committed batches, ``staging`` keeps an upload between the admin's preview and its confirmation.
"""
