EXPECTED = """
| URL | x |
|---|---|
"""
