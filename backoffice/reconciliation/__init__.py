"""The reconciliation: per business day, what came in from the lender and what went back out, for the API and the
admin's page alike (``report``)."""
