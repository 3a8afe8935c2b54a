import hashlib
import os
import stat
import time

import pytest

from runelog import exceptions
from runelog.blobs import CHUNK_SIZE, BlobStore, hash_file


@pytest.fixture
def store(tmp_path):
    return BlobStore(tmp_path / "blobs", tmp_path / "tmp")


def write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_put_names_the_blob_by_sha256_in_a_two_hex_shard(store, tmp_path):
    data = os.urandom(3 * CHUNK_SIZE + 17)  # several chunks and a partial one
    digest, size = store.put(write(tmp_path / "f.bin", data))
    assert digest == hashlib.sha256(data).hexdigest()
    assert size == len(data)
    blob = tmp_path / "blobs" / digest[:2] / digest
    assert blob.read_bytes() == data
    assert not blob.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def test_same_bytes_are_stored_once_and_temp_files_are_gone(store, tmp_path):
    a = store.put(write(tmp_path / "a", b"same"))
    b = store.put(write(tmp_path / "b", b"same"))
    assert a == b
    assert list(store) == [a[0]]
    assert [p for p in (tmp_path / "tmp").rglob("*") if p.is_file()] == []  # nothing copied


def test_copy_to_verifies_and_refuses_changed_bytes(store, tmp_path):
    digest, _ = store.put(write(tmp_path / "a", b"original"))
    out = store.copy_to(digest, tmp_path / "out.bin")
    assert out.read_bytes() == b"original"

    blob = store.path(digest)
    os.chmod(blob, 0o644)
    blob.write_bytes(b"tampered")
    with pytest.raises(exceptions.BlobCorrupted, match=digest):
        store.copy_to(digest, tmp_path / "bad.bin", "artifact 'a' of run r")
    assert not (tmp_path / "bad.bin").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".bad")] == []
    with pytest.raises(exceptions.BlobCorrupted):
        store.verify(digest)


def test_missing_blob_is_reported_as_missing(store, tmp_path):
    digest, _ = store.put(write(tmp_path / "a", b"x"))
    os.remove(store.path(digest))
    with pytest.raises(exceptions.BlobMissing):
        store.verify(digest)
    with pytest.raises(exceptions.BlobMissing):
        store.copy_to(digest, tmp_path / "x")


@pytest.mark.parametrize("digest", ["../" + "a" * 61, "A" * 64, "a" * 63, "g" * 64, "/etc/passwd"])
def test_paths_are_built_only_from_valid_digests(store, digest):
    with pytest.raises(exceptions.InvalidArtifactName):
        store.path(digest)


def test_failed_put_leaves_no_temp_file(store, tmp_path):
    with pytest.raises(FileNotFoundError):
        store.put(tmp_path / "does-not-exist")
    assert not (tmp_path / "tmp").exists() or list((tmp_path / "tmp").iterdir()) == []


def test_collect_spares_referenced_and_recent_blobs(store, tmp_path):
    keep, _ = store.put(write(tmp_path / "a", b"keep"))
    drop, _ = store.put(write(tmp_path / "b", b"drop"))
    young, _ = store.put(write(tmp_path / "c", b"young"))
    old = time.time() - 7200
    for digest in (keep, drop):
        os.utime(store.path(digest), (old, old))
    leftover = tmp_path / "tmp" / "blob-dead.part"
    leftover.write_bytes(b"half")
    os.utime(leftover, (old, old))

    dry = store.collect({keep}, grace_seconds=3600, dry_run=True)
    assert (dry.blobs, dry.temp_files, dry.bytes) == ([drop], [str(leftover)], len(b"drop") + len(b"half"))
    assert set(store) == {keep, drop, young} and leftover.exists()
    report = store.collect({keep}, grace_seconds=3600)
    assert report.blobs == [drop]
    assert set(store) == {keep, young}
    assert not leftover.exists()


def test_hash_file_matches_hashlib(tmp_path):
    data = os.urandom(CHUNK_SIZE + 5)
    assert hash_file(write(tmp_path / "f", data)) == (hashlib.sha256(data).hexdigest(), len(data))


def test_putting_the_same_unchanged_file_again_writes_nothing(store, tmp_path):
    source = write(tmp_path / "big.bin", os.urandom(2 * CHUNK_SIZE))
    digest, _ = store.put(source)
    blob = store.path(digest)
    old = time.time() - 7200
    os.utime(blob, (old, old))
    assert store.put(source) == (digest, 2 * CHUNK_SIZE)
    assert [p for p in (tmp_path / "tmp").rglob("*") if p.is_file()] == []  # nothing copied
    assert blob.stat().st_mtime > old  # refreshed, so gc's grace period protects it
    # Changed in place (same inode): the new bytes are stored, not mistaken for the old ones.
    with open(source, "r+b") as fh:
        fh.write(b"changed!")
    new_digest, _ = store.put(source)
    assert new_digest != digest and store.path(new_digest).read_bytes() == source.read_bytes()
