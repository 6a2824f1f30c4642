"""The kernel of the project package: what every app may import (settings helpers, roles, the shared admin kit)."""
