"""Annotation formats that are folders: filled hidden beside their place, renamed there on close."""

from __future__ import annotations

import shutil
from pathlib import Path

from siammask.errors import SiamMaskError
from siammask.files import commit_folder, staging_folder
from siammask.io.annotations.base import AnnotationWriter


class FolderWriter(AnnotationWriter):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stage: Path | None = staging_folder(self.path)

    def finish(self, stage: Path) -> None:
        """Write what only the whole run tells (lists, meta files) into `stage`."""

    def close(self) -> list[Path]:
        if self.stage is None:
            return [self.path]
        try:
            self.finish(self.stage)
            commit_folder(self.stage, self.path)  # over the empty folder checked at the start
        except OSError as exc:
            self.abort()
            raise SiamMaskError(f"output {self.path}: cannot be written ({exc.strerror or exc})") from None
        self.stage = None
        return [self.path]

    def abort(self) -> None:
        if self.stage is not None:
            shutil.rmtree(self.stage, ignore_errors=True)
        self.stage = None
