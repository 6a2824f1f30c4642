"""Static files as production serves them: hashed names and compressed copies (whitenoise), source maps left alone.

The vendored scripts (Chart.js and its matrix chart) end with a ``sourceMappingURL`` comment naming a map
that is not shipped: the manifest would refuse to collect them, so those comments are not rewritten.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


def _without_source_maps(patterns: tuple) -> tuple:
    def rewrites_a_source_map(pattern: object) -> bool:
        return "sourceMappingURL" in (pattern[0] if isinstance(pattern, tuple) else pattern)

    return tuple(
        (extension, tuple(pattern for pattern in rules if not rewrites_a_source_map(pattern)))
        for extension, rules in patterns
    )


class StaticStorage(CompressedManifestStaticFilesStorage):
    """whitenoise's compressed manifest storage, without rewriting source-map comments."""

    patterns = _without_source_maps(CompressedManifestStaticFilesStorage.patterns)
