import os
import subprocess
import time

import pytest

from drivers.fax.errors import FaxError
from drivers.fax.lock import PortBusy, PortLock, PortLockError, lock_name, process_name, read_pid


def test_names_follow_uucp_convention():
    assert lock_name("/dev/ttyS0") == "LCK..ttyS0"
    assert lock_name("/dev/pts/3") == "LCK..pts_3"


def test_own_lock_is_hdb_ascii_and_released(tmp_path):
    with PortLock("/dev/ttyS0", tmp_path) as lock:
        assert lock.path.read_bytes() == f"{os.getpid():>10d}\n".encode()
        assert len(lock.path.read_bytes()) == 11
    assert not (tmp_path / "LCK..ttyS0").exists()


def test_taking_our_own_lock_twice_is_fine(tmp_path):
    PortLock("/dev/ttyS0", tmp_path).acquire()
    PortLock("/dev/ttyS0", tmp_path).acquire()


def test_stale_lock_of_dead_pid_is_removed(tmp_path):
    proc = subprocess.Popen(["true"])
    proc.wait()
    (tmp_path / "LCK..ttyS0").write_text(f"{proc.pid:>10d}\n")
    with PortLock("/dev/ttyS0", tmp_path) as lock:
        assert read_pid(lock.path) == os.getpid()


def test_garbage_lock_is_stale(tmp_path):
    (tmp_path / "LCK..ttyS0").write_text("hello world\n")
    with PortLock("/dev/ttyS0", tmp_path):
        pass


def test_live_lock_is_respected(tmp_path):
    proc = subprocess.Popen(["sleep", "30"])
    deadline = time.monotonic() + 5
    while process_name(proc.pid) != "sleep" and time.monotonic() < deadline:
        time.sleep(0.01)  # Popen can return before the child's exec has renamed it
    try:
        (tmp_path / "LCK..ttyS0").write_text(f"{proc.pid:>10d}\n")
        with pytest.raises(PortBusy) as err:
            PortLock("/dev/ttyS0", tmp_path).acquire()
        assert err.value.pid == proc.pid
        # What the front desk reads in `gatewayctl devices`: who to stop, by pid and name.
        assert str(err.value) == f"/dev/ttyS0: port locked by pid {proc.pid} (sleep)"
        assert read_pid(tmp_path / "LCK..ttyS0") == proc.pid  # not touched
    finally:
        proc.kill()
        proc.wait()


def test_release_does_not_remove_someone_elses_lock(tmp_path):
    lock = PortLock("/dev/ttyS0", tmp_path)
    lock.acquire()
    lock.path.write_text(f"{1:>10d}\n")  # init took it over (can't happen, but must not be deleted)
    lock.release()
    assert lock.path.exists()


def test_a_lock_dir_that_cannot_be_written_is_a_lock_error_naming_it(tmp_path):
    missing = tmp_path / "no-such-dir"
    with pytest.raises(PortLockError, match=f"cannot create lock {missing}/LCK..ttyS0") as err:
        PortLock("/dev/ttyS0", missing).acquire()
    assert isinstance(err.value, FaxError)  # the driver's edge catches this one root
