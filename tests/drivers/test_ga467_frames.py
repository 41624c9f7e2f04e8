"""GA 467 frames and the text block, byte-exact against devices.md, and the decoder's limits."""

from __future__ import annotations

import functools
import operator
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract.personal import id_number_valid
from drivers.ga467.frames import (
    FIND_CARD,
    MAX_FRAME_SIZE,
    MAX_LENGTH,
    NATIONS,
    PREAMBLE,
    READ_TEXT_PHOTO,
    SAM_STATUS,
    SELECT_CARD,
    TEXT_FIELDS,
    TEXT_SIZE,
    FrameDecoder,
    FrameError,
    Request,
    Response,
    describe_sw3,
    encode_command,
    encode_identity_text,
    encode_response,
    parse_identity_text,
    xor_checksum,
)

FIND_ANSWER = bytes.fromhex("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97")


# -- encoding --------------------------------------------------------------------------------

def test_find_card_matches_devices_md():
    assert encode_command(*FIND_CARD) == bytes.fromhex("AA AA AA 96 69 00 03 20 01 22")


@pytest.mark.parametrize(("command", "hex_frame"), [
    (SAM_STATUS, "AA AA AA 96 69 00 03 11 FF ED"),
    (SELECT_CARD, "AA AA AA 96 69 00 03 20 02 21"),
    (READ_TEXT_PHOTO, "AA AA AA 96 69 00 03 30 01 32"),
])
def test_other_commands(command, hex_frame):
    assert encode_command(*command) == bytes.fromhex(hex_frame)


def test_command_with_data_counts_it_in_length_and_checksum():
    frame = encode_command(0x60, 0x00, b"\x04")
    assert frame == PREAMBLE + bytes([0x00, 0x04, 0x60, 0x00, 0x04, 0x04 ^ 0x60 ^ 0x04])


def test_find_answer_matches_devices_md():
    assert encode_response(0x9F, bytes(4)) == FIND_ANSWER
    items = FrameDecoder().feed(FIND_ANSWER)
    assert len(items) == 1
    response = Response.from_payload(items[0])
    assert response == Response(0x00, 0x00, 0x9F, bytes(4))
    assert response.describe() == "SW3 9F (card found)"


def test_read_answer_is_1295_bytes_and_the_longest_accepted():
    data = (256).to_bytes(2, "big") + (1024).to_bytes(2, "big") + bytes(256 + 1024)
    frame = encode_response(0x90, data)
    assert len(frame) == 1295 == MAX_FRAME_SIZE
    assert frame[5:7] == bytes.fromhex("05 08") and MAX_LENGTH == 0x0508
    [payload] = FrameDecoder().feed(frame)
    assert Response.from_payload(payload).data == data


def test_request_payload_decodes():
    [payload] = FrameDecoder(min_length=3).feed(encode_command(0x30, 0x01))
    assert Request.from_payload(payload) == Request(0x30, 0x01)


def test_sw3_descriptions():
    assert describe_sw3(0x41) == "SW3 41 (read failed)"
    assert describe_sw3(0x80) == "SW3 80 (find failed (no card))"
    assert describe_sw3(0x60) == "SW3 60 (SAM self-test failed)"
    assert describe_sw3(0x07) == "SW3 07 (unknown code)"


@given(st.binary(max_size=3000))
def test_xor_checksum_equals_naive_fold(data):
    assert xor_checksum(data) == functools.reduce(operator.xor, data, 0)


# -- decoding --------------------------------------------------------------------------------

def test_decodes_byte_by_byte():
    decoder = FrameDecoder()
    out = []
    for i, byte in enumerate(FIND_ANSWER):
        out += decoder.feed(bytes([byte]))
        assert decoder.in_frame == (len(PREAMBLE) - 1 <= i < len(FIND_ANSWER) - 1)
    assert out == [FIND_ANSWER[7:-1]]
    assert decoder.buffered == 0


def test_bad_checksum_is_reported_and_next_frame_found():
    bad = FIND_ANSWER[:-1] + b"\x00"
    items = FrameDecoder().feed(bad + FIND_ANSWER)
    assert [type(i) for i in items] == [FrameError, bytes]
    assert items[0].kind == "checksum"


@pytest.mark.parametrize("length", [0, 1, 2, 3, MAX_LENGTH + 1, 0xFFFF])
def test_declared_length_out_of_range_is_rejected_at_once(length):
    decoder = FrameDecoder()
    items = decoder.feed(PREAMBLE + length.to_bytes(2, "big"))
    assert [i.kind for i in items] == ["length"]
    assert decoder.feed(FIND_ANSWER) == [FIND_ANSWER[7:-1]]


def test_garbage_is_skipped_and_counted():
    decoder = FrameDecoder()
    garbage = b"\x01\x02\xaa\xaa\x96\x69\xaa\xaa\xaa\x96"
    assert decoder.feed(garbage) == []
    assert decoder.buffered <= len(PREAMBLE) - 1
    assert decoder.feed(FIND_ANSWER) == [FIND_ANSWER[7:-1]]
    assert decoder.discarded == len(garbage)


def test_partial_frame_stays_pending_until_reset():
    decoder = FrameDecoder()
    assert decoder.feed(FIND_ANSWER[:9]) == []
    assert decoder.in_frame
    decoder.reset()
    assert not decoder.in_frame and decoder.buffered == 0


def test_megabyte_of_noise_stays_bounded():
    decoder = FrameDecoder()
    for _ in range(1000):
        decoder.feed(bytes(range(256)) * 4)
        assert decoder.buffered <= len(PREAMBLE) - 1


def test_false_starts_with_maximal_lengths_do_not_hang():
    # Every 7 bytes a preamble declaring the longest frame: each is checked, none passes.
    stream = (PREAMBLE + MAX_LENGTH.to_bytes(2, "big")) * 30_000  # 210 kB
    decoder = FrameDecoder()
    started = time.monotonic()
    errors = 0
    for i in range(0, len(stream), 4096):
        errors += len(decoder.feed(stream[i:i + 4096]))
        assert decoder.buffered < MAX_FRAME_SIZE
    assert time.monotonic() - started < 5
    assert errors > 29_000


@settings(max_examples=300)
@given(st.binary(max_size=4000), st.lists(st.integers(1, 700), max_size=40))
def test_any_stream_never_raises_and_buffer_stays_bounded(stream, cuts):
    decoder = FrameDecoder()
    pos = 0
    for size in [*cuts, len(stream)]:
        items = decoder.feed(stream[pos:pos + size])
        pos += size
        assert all(isinstance(i, bytes | FrameError) for i in items)
        assert decoder.buffered < MAX_FRAME_SIZE


# Garbage biased towards preamble bytes, with every whole preamble taken out.
noise = st.lists(st.sampled_from([0xAA, 0x96, 0x69, 0x00, 0x05, 0x08, 0xFF, 0x90]),
                 max_size=60).map(bytes).map(lambda b: b.replace(PREAMBLE, b"\x00"))
payloads = st.tuples(st.integers(0, 255), st.binary(max_size=200)).filter(
    lambda p: PREAMBLE not in p[1])


def feed_in_chunks(decoder: FrameDecoder, stream: bytes, size: int) -> list:
    out: list = []
    for i in range(0, len(stream), size):
        out += decoder.feed(stream[i:i + size])
    return out


@settings(max_examples=300)
@given(st.lists(st.tuples(noise, payloads, st.booleans()), max_size=12), noise,
       st.integers(1, 300))
def test_frames_in_garbage_are_all_recovered(parts, tail, chunk):
    stream = b""
    expected: list = []
    corrupted = 0
    for garbage, (sw3, data), spoil in parts:
        frame = encode_response(sw3, data)
        if spoil:
            # The decoder rescans a rejected frame from its second byte: keep a false start
            # out of it (and, with a guard byte, out of its junction with what follows).
            frame = frame[:-1] + bytes([frame[-1] ^ 0x01]) + b"\x00"
            if PREAMBLE in frame[1:]:
                continue
            corrupted += 1
        else:
            expected.append(bytes([0, 0, sw3]) + data)
        stream += garbage + frame
    items = feed_in_chunks(FrameDecoder(), stream + tail, chunk)
    assert [i for i in items if isinstance(i, bytes)] == expected
    assert sum(isinstance(i, FrameError) for i in items) == corrupted


# -- the text block ----------------------------------------------------------------------------

PERSON = {
    "name": "欧阳建国",
    "gender": "female",
    "nation_code": "98",
    "birth_date": "19900815",
    "address": "浙江省杭州市西湖区文三路一百号3幢2单元501室",
    "id_number": "33010619900815038x",
    "issuing_authority": "杭州市公安局西湖分局",
    "valid_from": "20100815",
    "valid_to": "长期",
}


def test_field_widths_fill_the_block():
    assert sum(width for _, width in TEXT_FIELDS) == TEXT_SIZE


def test_nation_table():
    assert len(NATIONS) == 58
    assert NATIONS["01"] == "汉" and NATIONS["56"] == "基诺" and NATIONS["29"] == "柯尔克孜"
    assert NATIONS["97"] == "其他" and NATIONS["98"] == "外国血统中国籍人士"


def test_decodes_a_block_built_by_hand_at_the_documented_offsets():
    def field(text: str, width: int) -> bytes:
        raw = text.encode("utf-16-le")
        return raw + b" \x00" * ((width - len(raw)) // 2)

    block = (field("张三", 30) + field("1", 2) + field("03", 4) + field("19880102", 16)
             + field("北京市东城区景山前街4号", 70) + field("110101198801020014", 36)
             + field("北京市公安局东城分局", 30) + field("20180102", 16)
             + field("20380102", 16) + field("", 36))
    assert len(block) == 256
    fields = parse_identity_text(block)
    assert fields == {
        "name": "张三", "gender_code": "1", "gender": "male", "nation_code": "03",
        "nation": "回", "birth_date": "19880102", "address": "北京市东城区景山前街4号",
        "id_number": "110101198801020014", "issuing_authority": "北京市公安局东城分局",
        "valid_from": "20180102", "valid_to": "20380102", "card_type": "resident-id",
    }
    assert id_number_valid(fields["id_number"])


def test_round_trip_with_chinese_name_and_address():
    fields = parse_identity_text(encode_identity_text(PERSON))
    assert fields["name"] == "欧阳建国"
    assert fields["address"] == PERSON["address"]
    assert fields["gender"] == "female" and fields["gender_code"] == "2"
    assert fields["nation"] == "外国血统中国籍人士"
    assert fields["valid_to"] == "长期"
    assert fields["id_number"] == "33010619900815038X"  # check character upper-cased
    assert id_number_valid(fields["id_number"])
    assert fields["issuing_authority"] == PERSON["issuing_authority"]


def test_padding_variants_are_stripped():
    block = bytearray(encode_identity_text(PERSON))
    block[0:30] = "王五".encode("utf-16-le") + bytes(26)  # NUL padding
    assert parse_identity_text(bytes(block))["name"] == "王五"


def test_residence_permit_type_is_recognised():
    block = encode_identity_text({**PERSON, "card_type": "hmt-residence-permit"})
    assert parse_identity_text(block)["card_type"] == "hmt-residence-permit"


def test_unknown_codes_decode_to_empty_names():
    fields = parse_identity_text(encode_identity_text(
        {**PERSON, "gender": "", "gender_code": "9", "nation_code": "77"}))
    assert fields["gender"] == "" and fields["nation"] == ""


def test_wrong_block_size_and_too_long_values_are_refused():
    with pytest.raises(ValueError, match="255"):
        parse_identity_text(bytes(255))
    with pytest.raises(ValueError, match="name"):
        encode_identity_text({"name": "很" * 16})


@given(st.binary(min_size=TEXT_SIZE, max_size=TEXT_SIZE))
def test_any_block_decodes_without_raising(block):
    fields = parse_identity_text(block)
    assert all(isinstance(v, str) for v in fields.values())
