"""Finding export destinations: mounted volumes in the automount places (from a mounts file, with its escapes and
read-only flags), real mounts under /mnt, and the configured folder; the [export] folder setting is validated."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from app.config import ConfigError, load_settings
from app.export import Include, find_media
from app.export.media import _is_automount_place, _unescape


def test_automount_places() -> None:
    assert _is_automount_place("/media/op/STICK") and _is_automount_place("/run/media/op/STICK")
    assert _is_automount_place("/mnt/usb")
    assert not _is_automount_place("/media/op") and not _is_automount_place("/") and not _is_automount_place("/boot")
    assert not _is_automount_place("/mnt/usb/deeper") and not _is_automount_place("/home/op/media/x/y")
    assert _unescape(r"/media/op/MY\040STICK") == "/media/op/MY STICK"


def test_mounts_file_entries_and_the_configured_folder(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    mounts = tmp_path / "mounts"
    # only real mount points can be measured: /proc and / stand in for the stick lines' paths via the folder
    mounts.write_text("proc /proc proc rw 0 0\n/dev/sda1 /media/op/NOT\\040THERE vfat rw 0 0\n")
    found = find_media(str(folder), mounts_file=mounts)
    assert [m.path for m in found] == [str(folder)]  # the stick line's path does not exist here: skipped
    assert found[0].fs_type == "folder" and not found[0].read_only and found[0].free_bytes > 0
    assert find_media("", mounts_file=tmp_path / "missing") == []


def test_a_real_mount_under_mnt_is_found_with_its_read_only_flag() -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting needs root")
    mnt = Path("/mnt") / f"vigil-test-{os.getpid()}"
    mnt.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(mnt)], check=True)
        try:
            here = [m for m in find_media() if m.path == str(mnt)]
            assert len(here) == 1 and here[0].fs_type == "tmpfs" and here[0].read_only
            assert here[0].total_bytes == 1 << 20 and here[0].label == mnt.name
        finally:
            subprocess.run(["umount", str(mnt)], check=True)
    finally:
        mnt.rmdir()


def test_export_folder_setting_is_validated(tmp_path: Path) -> None:
    assert load_settings(environ={}).export.folder == ""
    assert load_settings(environ={"VIGIL_EXPORT__FOLDER": "/srv/exports"}).export.folder == "/srv/exports"
    with pytest.raises(ConfigError, match=r"export.folder = 'exports'.*absolute folder path"):
        load_settings(environ={"VIGIL_EXPORT__FOLDER": "exports"})


def test_include_parsing() -> None:
    assert Include.parse("samples, ALARMS") == Include.SAMPLES | Include.ALARMS
    assert Include.parse("all") == Include.everything()
    with pytest.raises(ValueError, match="unknown part 'pins'; allowed: samples, alarms"):
        Include.parse("pins")
    with pytest.raises(ValueError, match="empty"):
        Include.parse(" , ")
