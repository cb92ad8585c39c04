"""One error hierarchy for the whole pipeline.

Core modules raise these (wrapping ffmpeg/Whisper/feedgen failures with ``raise ... from``);
only the CLI turns them into ``click.ClickException``. Messages are for users: one line, Dutch.
"""


class VlinderError(Exception):
    """Base of every error a user can cause or fix."""

    exit_code = 1


class WorkspaceError(VlinderError):
    """The workspace is missing, broken or has bad settings."""


class InputError(VlinderError):
    """Bad input from the user: a file, a date, a title, an option."""


class AudioError(InputError):
    """A recording that cannot be read or has no usable audio."""


class DuplicateError(InputError):
    """The same recording was already added (exit code 3, so scripts can tell it apart)."""

    exit_code = 3

    def __init__(self, message: str, slug: str):
        super().__init__(message)
        self.slug = slug


class NotFoundError(VlinderError):
    """An episode, transcript or other item that does not exist."""


class TranscriptError(VlinderError):
    """Transcription failed, or an imported transcript is malformed."""


class ProtectedTranscriptError(TranscriptError):
    """A person's transcript (imported, or corrected by hand): not replaced without --force."""

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.reason = reason or message


class ModelError(TranscriptError):
    """A Whisper model cannot be found, verified or loaded."""


class SpeakerError(InputError):
    """Speaker options that do not fit together (``--speaker`` names, ``--speakers N``)."""


class SpeakerModelError(VlinderError):
    """The speaker encoder's weights are missing or unreadable."""


class TaxonomyError(VlinderError):
    """The taxonomy file is broken."""


class FeedError(VlinderError):
    """A feed cannot be built or does not validate."""


class SiteError(VlinderError):
    """The site cannot be built."""


class ToolError(VlinderError):
    """An external tool (ffmpeg, pagefind) failed or is missing."""


class ConflictError(InputError):
    """An edit against a file someone else changed meanwhile, where it cannot be merged
    (the producer app answers 409); nothing was saved."""
