"""GA 467 serial frames and the ID card's text block, as pure functions (no I/O).

A frame is ``AA AA AA 96 69``, a 2-byte big-endian length counting everything after itself,
then ``CMD PARA [data] CHK`` (request) or ``SW1 SW2 SW3 [data] CHK`` (response); CHK is the
XOR of every byte from the length's high byte through the last data byte.
"""

from __future__ import annotations

from dataclasses import dataclass

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_SIZE = len(PREAMBLE) + 2  # preamble and length

# Commands as (CMD, PARA).
RESET_SAM = (0x10, 0xFF)
SAM_STATUS = (0x11, 0xFF)
SAM_ID = (0x12, 0xFF)
FIND_CARD = (0x20, 0x01)
SELECT_CARD = (0x20, 0x02)
READ_TEXT_PHOTO = (0x30, 0x01)

TEXT_SIZE = 256
PHOTO_SIZE = 1024
# The longest answer to a command this driver sends: the text+photo read, 1,295 bytes on the
# wire (SW1 SW2 SW3, two 2-byte lengths, text, photo, CHK). Longer declared lengths are noise.
MAX_LENGTH = 3 + 4 + TEXT_SIZE + PHOTO_SIZE + 1
MAX_FRAME_SIZE = HEADER_SIZE + MAX_LENGTH
MIN_REQUEST_LENGTH = 3  # CMD PARA CHK
MIN_RESPONSE_LENGTH = 4  # SW1 SW2 SW3 CHK

SW3_OK = 0x90
SW3_NO_CONTENT = 0x91
SW3_FIND_OK = 0x9F
SW3_READ_FAILED = 0x41
SW3_NO_CARD = 0x80
SW3_SELECT_FAILED = 0x81
SW3_SAM_SELF_TEST_FAILED = 0x60
SW3_SAM_UNAUTHORISED = 0x66
SAM_FAULTS = frozenset({SW3_SAM_SELF_TEST_FAILED, SW3_SAM_UNAUTHORISED})

SW3_MEANINGS: dict[int, str] = {
    0x90: "ok",
    0x91: "no content",
    0x9F: "card found",
    0x10: "checksum error",
    0x11: "length error",
    0x21: "command error",
    0x23: "unauthorised",
    0x24: "unrecognised error",
    0x31: "card authentication failed",
    0x32: "SAM authentication failed",
    0x33: "information verification failed",
    0x40: "unknown card type",
    0x41: "read failed",
    0x47: "random number failed",
    0x60: "SAM self-test failed",
    0x66: "SAM unauthorised",
    0x80: "find failed (no card)",
    0x81: "select failed",
}


def describe_sw3(code: int) -> str:
    """``SW3 41 (read failed)``: the form technicians see in logs and status details."""
    return f"SW3 {code:02X} ({SW3_MEANINGS.get(code, 'unknown code')})"


def xor_checksum(data: bytes | bytearray | memoryview) -> int:
    """XOR of all bytes, folded on one big integer (a 1.3 kB frame in a few operations)."""
    value = int.from_bytes(data, "little")
    width = len(data)
    while width > 1:
        half = (width + 1) // 2
        value = (value >> (8 * half)) ^ (value & ((1 << (8 * half)) - 1))
        width = half
    return value & 0xFF


def _frame(body: bytes) -> bytes:
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + body + bytes([xor_checksum(length + body)])


def encode_command(cmd: int, para: int, data: bytes = b"") -> bytes:
    """A request frame: ``encode_command(0x20, 0x01)`` is ``AA AA AA 96 69 00 03 20 01 22``."""
    return _frame(bytes([cmd, para]) + bytes(data))


def encode_response(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    """A response frame, as a reader sends it (for emulators and tests)."""
    return _frame(bytes([sw1, sw2, sw3]) + bytes(data))


@dataclass(frozen=True)
class Response:
    sw1: int
    sw2: int
    sw3: int
    data: bytes = b""

    @classmethod
    def from_payload(cls, payload: bytes) -> Response:
        """``payload`` is a frame's bytes between the length and the checksum."""
        if len(payload) < 3:
            raise ValueError(f"a response needs SW1 SW2 SW3, got {len(payload)} bytes")
        return cls(payload[0], payload[1], payload[2], bytes(payload[3:]))

    def describe(self) -> str:
        return describe_sw3(self.sw3)


@dataclass(frozen=True)
class Request:
    cmd: int
    para: int
    data: bytes = b""

    @classmethod
    def from_payload(cls, payload: bytes) -> Request:
        if len(payload) < 2:
            raise ValueError(f"a request needs CMD PARA, got {len(payload)} bytes")
        return cls(payload[0], payload[1], bytes(payload[2:]))


@dataclass(frozen=True)
class FrameError:
    """A frame that was recognised by its preamble and then rejected."""

    kind: str  # "checksum" or "length"
    detail: str


class FrameDecoder:
    """Incremental decoder: ``feed`` bytes as they arrive, get payloads and errors back.

    Bytes before a preamble are skipped (counted in ``discarded``). A rejected frame (bad
    checksum, declared length out of range) is reported and the search resumes one byte after
    its preamble, so a real frame hidden behind a false start is still found. At most
    ``MAX_FRAME_SIZE - 1`` bytes stay buffered between calls.
    """

    def __init__(self, min_length: int = MIN_RESPONSE_LENGTH, max_length: int = MAX_LENGTH):
        if not 2 <= min_length <= max_length:
            raise ValueError("need 2 <= min_length <= max_length")
        self.min_length = min_length
        self.max_length = max_length
        self._buf = bytearray()
        self.discarded = 0

    @property
    def buffered(self) -> int:
        return len(self._buf)

    @property
    def in_frame(self) -> bool:
        """True while the buffer starts with a preamble: a frame has begun but not ended."""
        return self._buf.startswith(PREAMBLE)

    def reset(self) -> None:
        self._buf.clear()

    def feed(self, data: bytes) -> list[bytes | FrameError]:
        """Payloads (bytes between length and CHK) and errors, in the order they occurred."""
        self._buf += data
        out: list[bytes | FrameError] = []
        while True:
            start = self._buf.find(PREAMBLE)
            if start < 0:
                # Keep a tail that may be the beginning of a preamble.
                keep = len(PREAMBLE) - 1
                drop = max(0, len(self._buf) - keep)
                self._skip(drop)
                return out
            self._skip(start)
            if len(self._buf) < HEADER_SIZE:
                return out
            length = int.from_bytes(self._buf[5:7], "big")
            if not self.min_length <= length <= self.max_length:
                out.append(FrameError(
                    "length", f"declared length {length} outside {self.min_length}.."
                              f"{self.max_length}"))
                self._skip(1)
                continue
            end = HEADER_SIZE + length
            if len(self._buf) < end:
                return out
            body = memoryview(self._buf)[5:end - 1]
            ok = xor_checksum(body) == self._buf[end - 1]
            payload = bytes(body[2:])
            body.release()
            if ok:
                del self._buf[:end]
                out.append(payload)
            else:
                out.append(FrameError("checksum", f"bad checksum on a {end}-byte frame"))
                self._skip(1)

    def _skip(self, n: int) -> None:
        if n:
            self.discarded += n
            del self._buf[:n]


# -- the 256-byte text block -------------------------------------------------------------------

# (field, width in bytes), in card order; UCS-2 little-endian, padded with spaces.
TEXT_FIELDS: tuple[tuple[str, int], ...] = (
    ("name", 30),
    ("gender_code", 2),
    ("nation_code", 4),
    ("birth_date", 16),
    ("address", 70),
    ("id_number", 36),
    ("issuing_authority", 30),
    ("valid_from", 16),
    ("valid_to", 16),
    ("reserved", 36),
)
# The card-type character: 'J' on a Hong Kong/Macao/Taiwan residence permit, 'I' on a foreign
# permanent resident card (whose layout differs), blank on a resident ID card.
CARD_TYPE_OFFSET = 248

GENDERS = {"1": "male", "2": "female"}

NATIONS: dict[str, str] = {
    f"{code:02d}": name for code, name in enumerate((
        "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜",
        "满", "侗", "瑶", "白", "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳",
        "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土",
        "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米",
        "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔",
        "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
    ), start=1)
}
NATIONS["97"] = "其他"
NATIONS["98"] = "外国血统中国籍人士"

_PADDING = " \x00\u3000"


def _card_type(block: bytes) -> str:
    char = block[CARD_TYPE_OFFSET:CARD_TYPE_OFFSET + 2].decode("utf-16-le", "replace")
    return {"J": "hmt-residence-permit", "I": "foreign-permanent-resident"}.get(char, "resident-id")


def parse_identity_text(block: bytes) -> dict[str, str]:
    """The fields of a resident ID card's 256-byte text block, padding stripped.

    Keys: name, gender ("male"/"female"/""), gender_code, nation_code, nation, birth_date,
    address, id_number, issuing_authority, valid_from, valid_to (YYYYMMDD or 长期), card_type.
    Undecodable characters become U+FFFD rather than failing the whole card.
    """
    if len(block) != TEXT_SIZE:
        raise ValueError(f"text block is {len(block)} bytes, expected {TEXT_SIZE}")
    fields: dict[str, str] = {}
    offset = 0
    for name, width in TEXT_FIELDS:
        raw = block[offset:offset + width]
        offset += width
        if name != "reserved":
            fields[name] = raw.decode("utf-16-le", "replace").strip(_PADDING)
    fields["id_number"] = fields["id_number"].upper()  # a lower-case check character x
    fields["gender"] = GENDERS.get(fields["gender_code"], "")
    fields["nation"] = NATIONS.get(fields["nation_code"], "")
    fields["card_type"] = _card_type(block)
    return fields


def encode_identity_text(fields: dict[str, str]) -> bytes:
    """The inverse of ``parse_identity_text`` (for emulators and tests).

    ``gender`` ("male"/"female") and ``card_type`` are accepted in place of the raw codes.
    A value too long for its field raises ValueError.
    """
    values = dict(fields)
    if "gender_code" not in values and values.get("gender"):
        values["gender_code"] = {v: k for k, v in GENDERS.items()}[values["gender"]]
    out = bytearray()
    for name, width in TEXT_FIELDS:
        raw = values.get(name, "").encode("utf-16-le")
        if len(raw) > width:
            raise ValueError(f"{name} needs {len(raw)} bytes, the field has {width}")
        out += raw + " ".encode("utf-16-le") * ((width - len(raw)) // 2)
    card_char = {"hmt-residence-permit": "J", "foreign-permanent-resident": "I"}.get(
        values.get("card_type", ""))
    if card_char:
        out[CARD_TYPE_OFFSET:CARD_TYPE_OFFSET + 2] = card_char.encode("utf-16-le")
    return bytes(out)
