
import pytest
import serial

from drivers.fax.channel import (
    FlowControl,
    ModemChannel,
    ModemNotResponding,
    ModemTimeout,
    PortGone,
    ResultCode,
)

from .helpers import ScriptedModem


@pytest.fixture
def modem():
    made = []

    def make(script):
        m = ScriptedModem(script).start()
        made.append(m)
        return m

    yield make
    for m in made:
        m.close()


def open_channel(path, tmp_path, **kw):
    ch = ModemChannel(path, flow=FlowControl.NONE, lock_dir=tmp_path, **kw)
    ch.open()
    return ch


def test_loop_url_echoes_commands_and_times_out(tmp_path):
    # loop:// sends our bytes back: the echo is skipped, and no result code ever comes.
    ch = ModemChannel("loop://", flow=FlowControl.NONE, lock_dir=tmp_path)
    ch.open()
    with pytest.raises(ModemTimeout):
        ch.command("ATZ", timeout=0.2)
    ch.port.write(b"\r\nOK\r\n")
    assert ch.read_result(1).result is ResultCode.OK
    ch.close()


def test_loop_data_round_trip(tmp_path):
    ch = ModemChannel("loop://", flow=FlowControl.NONE, lock_dir=None)
    ch.open()
    ch.send_data(b"\x10\x03page\x10")
    ch.port.write(b"\r\nNO CARRIER\r\n")
    assert ch.read_data(1) == b"\x10\x03page\x10"
    assert ch.read_result(1).result is ResultCode.NO_CARRIER


def test_ring_and_caller_id_are_routed_apart(modem, tmp_path):
    m = modem([
        (b"ATE0\r", b"\r\nOK\r\n"),
        (None, b"\r\nRING\r\n\r\nNMBR=5551234\r\n\r\nNAME=ACME\r\n"),
        (b"AT+FCLASS=1\r", b"AT+FCLASS=1\r\r\nRING\r\n\r\nOK\r\n"),
        (b"AT+FTH=?\r", b"\r\n3\r\n\r\nOK\r\n"),
    ])
    seen = []
    ch = open_channel(m.path, tmp_path, on_unsolicited=seen.append)
    ch.expect_ok("ATE0")
    assert ch.wait_unsolicited(2).text == "RING"
    reply = ch.command("AT+FCLASS=1", timeout=2)
    assert reply.result is ResultCode.OK and reply.lines == ()
    assert ch.command("AT+FTH=?").lines == ("3",)
    assert [u.text for u in seen] == ["RING", "NMBR=5551234", "NAME=ACME", "RING"]
    ch.close()


def test_frh_frame_then_ok(modem, tmp_path):
    frame = b"\xff\x13\x80\x00\x10\x00"
    m = modem([(b"AT+FRH=3\r", b"\r\nCONNECT\r\n" + frame.replace(b"\x10", b"\x10\x10") + b"\x10\x03\r\nOK\r\n")])
    ch = open_channel(m.path, tmp_path)
    assert ch.command("AT+FRH=3").result is ResultCode.CONNECT
    assert ch.read_data(2) == frame
    assert ch.read_result(2).result is ResultCode.OK
    ch.close()


def test_abort_pending_receive(modem, tmp_path):
    m = modem([(b"AT+FRH=3\r", b""), (b"\x18", b"\r\nOK\r\n")])
    ch = open_channel(m.path, tmp_path)
    with pytest.raises(ModemTimeout):
        ch.command("AT+FRH=3", timeout=0.2)
    assert ch.abort_receive().result is ResultCode.OK
    ch.close()


def test_reset_drops_dtr_when_atz_is_ignored(modem, tmp_path):
    m = modem([(b"ATZ\r", b""), (b"ATZ\r", b"\r\nOK\r\n"), (b"ATE0\r", b"\r\nOK\r\n")])
    sleeps = []
    ch = open_channel(m.path, tmp_path, sleep=sleeps.append)
    ch.reset(("ATE0",), timeout=0.3)
    assert sleeps in ([], [0.5, 0.5])  # a pty has no DTR line to drop; a tty sleeps twice
    assert m.received.count(b"ATZ\r") == 2
    ch.close()


def test_mute_modem_is_reported(modem, tmp_path):
    m = modem([])
    ch = open_channel(m.path, tmp_path, sleep=lambda s: None)
    with pytest.raises(ModemNotResponding):
        ch.reset(timeout=0.2)
    ch.close()


def test_port_closed_under_us_is_port_gone(modem, tmp_path):
    m = modem([])
    ch = open_channel(m.path, tmp_path)
    m.hang_up()
    with pytest.raises((PortGone, ModemTimeout)):
        ch.command("AT", timeout=0.5)
    ch.close()


def test_port_is_locked_while_open(modem, tmp_path):
    m = modem([])
    ch = open_channel(m.path, tmp_path)
    lock = list(tmp_path.glob("LCK..*"))
    assert len(lock) == 1
    ch.close()
    assert not list(tmp_path.glob("LCK..*"))


def test_reopen_waits_for_the_device_to_come_back(tmp_path):
    device = tmp_path / "ttyUSB0"
    opened = []

    def opener(url, **kw):
        opened.append(url)
        return serial.serial_for_url("loop://", **kw)

    ch = ModemChannel(str(device), flow=FlowControl.NONE, lock_dir=tmp_path, opener=opener)
    ch.open()
    polls = []

    def sleep(s):
        polls.append(s)
        if len(polls) == 3:
            device.touch()

    ch.sleep = sleep
    ch.reopen(wait=10, poll=0.01)
    assert len(polls) == 3 and opened == [str(device), str(device)]
    ch.close()


def test_spy_url_is_locked_by_its_device(tmp_path):
    from drivers.fax.channel import _device_path
    assert _device_path("spy:///dev/ttyS1?file=x") == "/dev/ttyS1"
    assert _device_path("spy://dev/ttyS1") == "/dev/ttyS1"
    assert _device_path("loop://") is None


def test_cr_and_lf_of_connect_in_different_reads_leave_the_data_clean(tmp_path):
    """Seen with the lab under load: "CONNECT\\r" in one read, "\\n" + the frame in the next. The
    LF is the result's, not the frame's (it used to lose the far end's CSI)."""
    ch = ModemChannel("loop://", flow=FlowControl.NONE, lock_dir=None)
    ch.open()
    ch.port.write(b"\r\nCONNECT\r")
    assert ch.read_result(1).result is ResultCode.CONNECT
    ch.port.write(b"\n\xff\x03\x40abc\x10\x03\r\nOK\r\n")
    assert ch.read_data(1) == b"\xff\x03\x40abc"
    assert ch.read_result(1).result is ResultCode.OK
    ch.close()


class _SlowPort:
    """A port that takes data at line rate: any one write() longer than ``limit`` octets
    would outlast pyserial's write_timeout."""

    in_waiting = 0

    def __init__(self, limit: int):
        self.limit = limit
        self.written = bytearray()

    def write(self, data: bytes) -> int:
        if len(data) > self.limit:
            raise serial.SerialTimeoutException("Write timeout")
        self.written += data
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_page_longer_than_the_write_timeout_is_written_in_chunks(tmp_path):
    """A dense page takes minutes to leave the modem; one write() of it timed out at 30 s."""
    port = _SlowPort(limit=ModemChannel.WRITE_CHUNK)
    ch = ModemChannel("loop://", flow=FlowControl.NONE, lock_dir=None, opener=lambda *a, **k: port)
    ch.open()
    page = bytes(range(256)) * 2000  # 512 KB: a dense page
    ch.send_data(page)
    assert bytes(port.written) == page.replace(b"\x10", b"\x10\x10") + b"\x10\x03"
