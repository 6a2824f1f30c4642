"""A stored file's bytes, in the database every web, worker and scheduler machine already shares."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StoredFile(models.Model):
    """One file of the database storage, by its storage name; written once, never changed in place."""

    name = models.CharField(_("name"), max_length=255, unique=True)
    content = models.BinaryField(_("content"))
    size = models.PositiveIntegerField(_("size (bytes)"))
    stored_at = models.DateTimeField(_("stored at"), auto_now_add=True)

    class Meta:
        app_label = "backoffice"
        verbose_name = _("stored file")
        verbose_name_plural = _("stored files")

    def __str__(self) -> str:
        return self.name
