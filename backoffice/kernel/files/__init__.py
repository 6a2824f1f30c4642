"""Stored files (letters' PDFs, law firms' seals) where every machine of a deployment reads them."""
