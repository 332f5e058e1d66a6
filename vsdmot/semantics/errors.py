"""The error a teacher raises when its weights cannot be found: the user's to fix."""

from __future__ import annotations


class TeacherLoadError(RuntimeError):
    """A teacher's weights could not be found or read; the message says what to pass."""
