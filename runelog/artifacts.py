"""Artifacts: files of a run, stored in the blob store and named in the database.

Recording is all or nothing: every file is hashed into the scratch folder
before one transaction places the blobs and commits the rows. Reading back
verifies the bytes against the digest the database holds.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from . import codec, exceptions, maintenance, progress, runs
from .blobs import BlobStore, hash_file

Writer = Callable[[], AbstractContextManager[Session]]


def files_to_log(local_path: str | os.PathLike, name: str | None = None) -> list[tuple[Path, str]]:
    """(file, artifact name) pairs for a file, or for every file under a folder.

    A file is named by its basename and a folder's files by `<folder>/<relative path>`,
    unless `name` is given. Every name is checked before anything is read.
    """
    source = Path(local_path)
    if source.is_dir():
        base = codec.check_artifact_name(name or source.resolve().name, new=True)
        files = sorted(p for p in source.rglob("*") if p.is_file())
        pairs = [(p, f"{base}/{p.relative_to(source).as_posix()}") for p in files]
    elif source.is_file():
        pairs = [(source, name or source.name)]
    else:
        raise exceptions.ArtifactNotFound(str(local_path))
    for _, artifact_name in pairs:
        codec.check_artifact_name(artifact_name, new=True)
    return pairs


def store(blobs: BlobStore, write: Writer, run_id: str, pairs: list[tuple[Path, str]],
          adopt: bool = False) -> list[str]:
    """Record files as artifacts of `run_id`, all or nothing; returns their digests.

    Every file is read and hashed into a scratch folder first, so a file that
    cannot be read fails the call before anything is recorded. Then one
    transaction, holding the blob lock that gc needs to delete, moves the
    blobs into place (or confirms the store still has them) and commits every
    row: a blob is never collected between being placed and being referenced.
    `adopt`: the paths are `new_file()`s written for this, moved in without a copy.
    """
    with blobs.batch() as batch:
        staged = []
        for path, name in pairs:
            if adopt:
                staged.append(batch.adopt(path))
                continue
            try:
                size = path.stat().st_size
                with progress.bar(size, f"logging {name}", progress.BIG_FILE, in_bytes=True) as advance:
                    staged.append(batch.add(path, advance))
            except OSError as exc:
                raise exceptions.ArtifactUnreadable.of(str(path), exc) from exc
        with write() as session:
            maintenance.hold_blobs(session)
            batch.place()
            runs.write_artifacts(session, run_id, [(name, blob.digest, blob.size)
                                                   for (_, name), blob in zip(pairs, staged, strict=True)])
    return [blob.digest for blob in staged]


def store_model(blobs: BlobStore, write: Writer, run_id: str, model: Any, name: str, compress: int) -> str:
    """Pickle `model` with joblib straight into the scratch folder, then record it like any artifact."""
    import pickle

    import joblib

    codec.check_artifact_name(name, new=True)
    with blobs.new_file() as tmp:
        try:
            joblib.dump(model, tmp, compress=compress)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise exceptions.ModelNotSerialisable(name, exc) from exc
        return store(blobs, write, run_id, [(tmp, name)], adopt=True)[0]


def store_text(blobs: BlobStore, write: Writer, run_id: str, text: str, name: str) -> str:
    """Record `text` (UTF-8) as artifact `name`."""
    codec.check_artifact_name(name, new=True)
    with blobs.new_file() as tmp:
        tmp.write_text(text, encoding="utf-8")
        return store(blobs, write, run_id, [(tmp, name)], adopt=True)[0]


def load_pickled(blobs: BlobStore, digest: str, what: str) -> Any:
    """Unpickle a blob, only after copying it out with its hash verified (never the blob in place)."""
    import joblib

    with blobs.new_file() as tmp:
        blobs.copy_to(digest, tmp, what)
        return joblib.load(tmp)


def download(blobs: BlobStore, run_id: str, found: list[tuple[str, str, int]],
             destination: str | os.PathLike) -> None:
    """Copy (name, sha256, size) artifacts under `destination`, verifying each hash on the way.

    Every target path is resolved and checked before anything is created: a
    symlink in the destination that leads outside it is refused.
    """
    root = Path(destination).resolve()
    targets = [_download_target(root, item) for item, _, _ in found]  # all checked, nothing made yet
    for (item, digest, size), target in zip(found, targets, strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        _download_target(root, item)  # again, now that the folders exist
        with progress.bar(size, f"downloading {item}", progress.BIG_FILE, in_bytes=True) as advance:
            blobs.copy_to(digest, target, f"artifact '{item}' of run {run_id}", advance)


def _download_target(root: Path, name: str) -> Path:
    """Where artifact `name` lands under `root`, resolved through any symlinks; creates nothing.

    Refused (InvalidArtifactName) if a symlink leads it outside `root`;
    DownloadBlocked if a file stands where a folder is needed, or a folder where the file goes.
    """
    wanted = root.joinpath(*name.split("/"))
    target = Path(os.path.realpath(wanted))
    if not target.is_relative_to(root):
        raise exceptions.InvalidArtifactName(
            name, f"a symlink under {root} would take it outside that folder (to {target}); nothing was written")
    for folder in reversed(target.parents):
        if folder.is_relative_to(root) and folder.exists() and not folder.is_dir():
            raise exceptions.DownloadBlocked(str(folder), "is a file where the download needs a folder")
    if target.is_dir():
        raise exceptions.DownloadBlocked(str(target), "is a folder where the download needs to write a file")
    return target


def check_local_copy(local_path: str | os.PathLike, expected: str, describe_mismatch: Callable[[str, int], Exception]
                     ) -> None:
    """Re-hash a local file against `expected`; raise what `describe_mismatch(actual, size)` builds if it differs."""
    if not Path(local_path).is_file():
        raise exceptions.ArtifactNotFound(str(local_path))
    actual, actual_size = hash_file(local_path)
    if actual != expected:
        raise describe_mismatch(actual, actual_size)
